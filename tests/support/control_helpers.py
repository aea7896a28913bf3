"""Helpers of the control tests (a uniquely named module: `conftest` is ambiguous
when several test folders run together)."""
import numpy as np

from graph_runtime.graph.patch import Patch


def small_patch() -> Patch:
    """sink: an SAE sink with its strength unconnected (its param is the knob);
    knob -> range -> sink2.strength: a constant through a map into a second sink."""
    p = Patch()
    p.add_node("sae.block", {"block": "down.2.1", "feature_id": 7, "strength": 0.0,
                             "scale_by_mean": False}, node_id="sink")
    p.add_node("value.constant", {"value": 0.5}, node_id="knob")
    p.add_node("math.map_range", {"out_lo": 0.0, "out_hi": 1.0, "clamp": True}, node_id="range")
    p.add_node("sae.block", {"block": "mid.0", "feature_id": 9, "scale_by_mean": False},
               node_id="sink2")
    p.connect(("knob", "out"), ("range", "x"))
    p.connect(("range", "out"), ("sink2", "strength"))
    return p


def strength(frame, block: int = 0) -> float:
    return float(np.asarray(frame.strength)[block, 0])

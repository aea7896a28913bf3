"""Helpers of the fault battery (a uniquely named module, not conftest)."""
from __future__ import annotations

import time

import numpy as np

from graph_runtime.graph.patch import Patch


def stage_patch() -> Patch:
    """knob -> sink2 through a range; sink's strength is a param OSC and MIDI can move;
    a CC binding drives sink.strength."""
    p = Patch(meta={"title": "fault battery"})
    p.add_node("sae.block", {"block": "down.2.1", "feature_id": 7, "strength": 0.0,
                             "scale_by_mean": False}, node_id="sink")
    p.add_node("value.constant", {"value": 0.5}, node_id="knob")
    p.add_node("math.map_range", {"out_lo": 0.0, "out_hi": 1.0, "clamp": True}, node_id="range")
    p.add_node("sae.block", {"block": "mid.0", "feature_id": 9, "scale_by_mean": False},
               node_id="sink2")
    p.connect(("knob", "out"), ("range", "x"))
    p.connect(("range", "out"), ("sink2", "strength"))
    p.bindings.append({"source": "cc", "channel": 0, "control": 21, "node": "sink",
                       "param": "strength", "min": 0.0, "max": 100.0})
    return p


def strength(frame, block: int = 0) -> float:
    return float(np.asarray(frame.strength)[block, 0])


def settle(listener, datagrams: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while listener.received < datagrams and time.monotonic() < end:
        time.sleep(0.002)

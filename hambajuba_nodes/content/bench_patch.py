"""A 40-node patch of general nodes for `hambajuba bench bridge`.

Ten parallel chains of four nodes (LFO -> smooth -> curve -> math), the shape
of a busy live patch without needing an analysed track.
"""
from __future__ import annotations

from graph_runtime.graph.patch import Patch


def bench_patch(chains: int = 10) -> Patch:
    patch = Patch(meta={"title": f"bench: {chains * 4} general nodes"})
    for i in range(chains):
        y = 120.0 * i
        lfo = patch.add_node("time.lfo", {"rate": 0.5 + 0.25 * i, "shape": "sine"}, (0, y))
        smooth = patch.add_node("shape.smooth", {"attack_ms": 5.0, "release_ms": 150.0}, (220, y))
        curve = patch.add_node("shape.curve", {"mode": "gamma", "gamma": 0.7}, (440, y))
        mul = patch.add_node("math.binary", {"op": "multiply", "b": 30.0}, (660, y))
        patch.connect((lfo.id, "out"), (smooth.id, "x"))
        patch.connect((smooth.id, "out"), (curve.id, "x"))
        patch.connect((curve.id, "out"), (mul.id, "a"))
    return patch

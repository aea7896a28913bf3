"""The general nodes' behaviour."""
import math

import pytest

from graph_runtime.graph.compiler import compile_patch
from graph_runtime.graph.patch import Patch


def run_node(registry, type_id, params, inputs, frames, fps=50.0):
    """Feed constant or per-frame inputs into one node; return its outputs per frame."""
    p = Patch()
    n = p.add_node(type_id, params)
    srcs = {}
    for port in inputs:
        c = p.add_node("value.constant")
        p.connect((c.id, "out"), (n.id, port))
        srcs[port] = c.id
    plan = compile_patch(p, registry, fps=fps)
    out = []
    for i in range(frames):
        for port, fn in inputs.items():
            plan.nodes[srcs[port]].out.v = fn(i) if callable(fn) else fn
        plan.run(i / fps, 1.0 / fps)
        out.append(plan.values(n.id))
    return out


@pytest.mark.parametrize("op, a, b, want", [
    ("add", 2, 3, 5), ("subtract", 2, 3, -1), ("multiply", 2, 3, 6), ("divide", 3, 2, 1.5),
    ("divide", 3, 0, 0.0), ("min", 2, 3, 2), ("max", 2, 3, 3)])
def test_math_ops(registry, op, a, b, want):
    (out,) = run_node(registry, "math.binary", {"op": op}, {"a": a, "b": b}, 1)
    assert out["out"] == want


def test_map_range_and_clamp(registry):
    (o,) = run_node(registry, "math.map_range", {"in_lo": 0, "in_hi": 10, "out_lo": -1,
                                                  "out_hi": 1}, {"x": 7.5}, 1)
    assert o["out"] == pytest.approx(0.5)
    (o,) = run_node(registry, "math.map_range", {"in_hi": 1.0, "out_hi": 2.0}, {"x": 3.0}, 1)
    assert o["out"] == 2.0
    (o,) = run_node(registry, "math.clamp", {"lo": 0.2, "hi": 0.8}, {"x": -3.0}, 1)
    assert o["out"] == 0.2


@pytest.mark.parametrize("mode, gamma, x, want", [
    ("linear", 1.0, 0.25, 0.25), ("gamma", 2.0, 0.5, 0.25), ("gamma", 0.5, 0.25, 0.5),
    ("clip", 1.0, 0.5, 0.75), ("clip", 1.0, 0.9, 1.0), ("linear", 1.0, 1.7, 1.0)])
def test_curve(registry, mode, gamma, x, want):
    (o,) = run_node(registry, "shape.curve", {"mode": mode, "gamma": gamma}, {"x": x}, 1)
    assert o["out"] == pytest.approx(want)


@pytest.mark.parametrize("fps", [30.0, 50.0, 60.0])
def test_smooth_attack_release_times(registry, fps):
    """A step reaches 63% after the attack time and falls to 37% after the
    release time, at any frame rate."""
    attack, release = 0.100, 0.200
    n_on = int(1.0 * fps)
    outs = run_node(registry, "shape.smooth", {"attack_ms": attack * 1000, "release_ms": release * 1000},
                    {"x": lambda i: 1.0 if i < n_on else 0.0}, n_on + int(fps), fps=fps)
    y = [o["out"] for o in outs]
    k_a = round(attack * fps) - 1  # frame index at t = attack (first frame is t=dt after step)
    assert y[k_a] == pytest.approx(1 - math.exp(-1), abs=0.01)
    k_r = n_on + round(release * fps) - 1
    assert y[k_r] == pytest.approx(math.exp(-1), abs=0.01)
    assert y[n_on] < y[n_on - 1]  # release starts at once


def test_lfo_shapes_and_beats(registry):
    outs = run_node(registry, "time.lfo", {"shape": "square", "rate": 1.0}, {}, 50)
    assert [o["out"] for o in outs[:25]] == [1.0] * 25 and outs[30]["out"] == 0.0
    outs = run_node(registry, "time.lfo", {"shape": "sine", "unit": "beats", "rate": 2.0,
                                           "bipolar": True}, {}, 51)
    # no analysis: 120 BPM, 2 beats per cycle = 1 s period
    assert outs[0]["out"] == pytest.approx(-1.0) and outs[25]["out"] == pytest.approx(1.0)
    assert outs[50]["out"] == pytest.approx(-1.0)


def test_threshold_fires_once_with_hysteresis(registry):
    xs = [0.0, 0.6, 0.48, 0.6, 0.3, 0.7, 0.7]
    outs = run_node(registry, "logic.threshold", {"threshold": 0.5, "hysteresis": 0.05},
                    {"x": lambda i: xs[i]}, len(xs))
    assert [o["fire"] for o in outs] == [False, True, False, False, False, True, False]
    assert [o["gate"] for o in outs] == [False, True, True, True, False, True, True]

"""The compiler: typed links, order, defaults, params, cycles, state carry-over."""
import math
import tracemalloc

import numpy as np
import pytest

from graph_runtime.analysis.store import synthetic
from graph_runtime.graph import patch as P
from graph_runtime.graph.compiler import CompileError, check, compile_patch
from graph_runtime.graph.frame import SLOTS, STRENGTH_BOUND
from graph_runtime.graph.patch import Patch


def chain(*types):
    p = Patch()
    ids = [p.add_node(t).id for t in types]
    return p, ids


def errors_of(patch, registry):
    with pytest.raises(CompileError) as e:
        compile_patch(patch, registry)
    return [str(x) for x in e.value.problems]


def test_order_is_topological_not_file_order(registry):
    p = Patch()
    s = p.add_node("shape.smooth")
    l = p.add_node("time.lfo")
    p.connect((l.id, "out"), (s.id, "x"))
    plan = compile_patch(p, registry)
    assert plan.order == [l.id, s.id]


def test_link_to_missing_node_and_port(registry):
    p, (a,) = chain("time.lfo")
    p.links.append(P.Link((a, "out"), ("ghost", "x")))
    assert any("node ghost" in e and "no node with this id" in e for e in errors_of(p, registry))
    p, (a, b) = chain("time.lfo", "shape.smooth")
    p.connect((a, "nope"), (b, "x"))
    assert any(f"node {a} port 'nope'" in e for e in errors_of(p, registry))
    p, (a, b) = chain("time.lfo", "shape.smooth")
    p.connect((a, "out"), (b, "y"))
    assert any(f"node {b} port 'y'" in e for e in errors_of(p, registry))


def test_kind_mismatch_is_refused(registry):
    p, (a, b) = chain("logic.threshold", "shape.smooth")
    p.connect((a, "fire"), (b, "x"))
    (err,) = errors_of(p, registry)
    assert f"node {b} port 'x'" in err and "trigger" in err and "signal" in err


def test_mask_into_signal_refused(registry):
    p, (a, b) = chain("time.lfo", "test.sink")
    p.connect((a, "out"), (b, "mask"))
    assert any("kinds must match" in e for e in errors_of(p, registry))


def test_cycle_names_its_nodes(registry):
    p, (a, b, c) = chain("math.binary", "math.binary", "math.binary")
    p.connect((a, "out"), (b, "a"))
    p.connect((b, "out"), (c, "a"))
    p.connect((c, "out"), (a, "a"))
    (err,) = errors_of(p, registry)
    assert "cycle" in err and all(x in err for x in (a, b, c)) and "Delay" in err


def test_feedback_through_delay_is_legal_and_lags_one_frame(registry):
    p, (add, delay) = chain("math.binary", "logic.delay")
    p.node(add).params = {"op": "add", "b": 1.0}
    p.connect((delay, "out"), (add, "a"))
    p.connect((add, "out"), (delay, "x"))
    plan = compile_patch(p, registry)
    outs = [plan.run(i * 0.02, 0.02) and plan.values(add)["out"] for i in range(4)]
    assert outs == [1.0, 2.0, 3.0, 4.0]  # an accumulator: out(n) = out(n-1) + 1


@pytest.mark.parametrize("params, reason", [
    ({"rate": -1.0}, "below the minimum"),
    ({"rate": 1e9}, "above the maximum"),
    ({"rate": "fast"}, "expected a number"),
    ({"rate": True}, "expected a number"),
    ({"shape": "wobble"}, "not one of"),
    ({"bipolar": 1}, "true or false"),
])
def test_bad_params_refused_with_node_and_param(registry, params, reason):
    p = Patch()
    p.add_node("time.lfo", params, node_id="wob")
    (err,) = errors_of(p, registry)
    assert err.startswith("node wob param") and reason in err


def test_unknown_param_is_a_warning_and_kept(registry, tmp_path):
    p = Patch()
    p.add_node("time.lfo", {"colour": "red"})
    plan = compile_patch(p, registry)
    assert any("colour" in str(w) for w in plan.warnings)


def test_unknown_type_is_a_placeholder_kept_on_save(registry, tmp_path):
    p, (a, b) = chain("time.lfo", "shape.smooth")
    p.add_node("future.quantum_wobbler", {"spin": 0.5}, (5, 5), node_id="qw")
    p.connect((a, "out"), ("qw", "in"))
    p.connect(("qw", "out"), (b, "x"))
    plan = compile_patch(p, registry)  # compiles: the placeholder is skipped
    assert "qw" not in plan.nodes
    assert any("unknown node type 'future.quantum_wobbler'" in str(w) for w in plan.warnings)
    path = tmp_path / "future.patch"
    P.save(p, path)
    q = P.load(path)
    assert q.node("qw").params == {"spin": 0.5} and len(q.links) == 2


def test_two_links_into_one_input(registry):
    p, (a, b, c) = chain("time.lfo", "time.lfo", "shape.smooth")
    p.links += [P.Link((a, "out"), (c, "x")), P.Link((b, "out"), (c, "x"))]
    assert any("two links" in e for e in errors_of(p, registry))


def test_unconnected_inputs_take_defaults(registry):
    p = Patch()
    m = p.add_node("math.binary", {"op": "add", "b": 2.5})
    c = p.add_node("math.clamp", {"lo": -1.0, "hi": 1.0})
    plan = compile_patch(p, registry)
    plan.run(0.0, 0.02)
    assert plan.values(m.id)["out"] == 2.5  # a = port default 0, b = param b
    assert plan.values(c.id)["out"] == 0.0


def test_unconnected_mask_reads_ones_and_cannot_be_scribbled(registry):
    p = Patch()
    s = p.add_node("test.sink", {"block": "up.0.1"})
    plan = compile_patch(p, registry)
    frame = plan.run(0.0, 0.02)
    assert frame.masks[3, 0].min() == 1.0
    with pytest.raises(ValueError):
        plan.nodes[s.id].mask.v[0, 0] = 0.0


def test_slots_per_block_are_bounded(registry):
    p = Patch()
    for _ in range(SLOTS + 1):
        p.add_node("test.sink", {"block": "mid.0"})
    errs = errors_of(p, registry)
    assert any("already carries" in e for e in errs)


def test_nan_never_reaches_frame_params(registry):
    p, (div, sink) = chain("math.binary", "test.sink")
    p.node(div).params = {"op": "divide", "b": 0.0}
    p.connect((div, "out"), (sink, "strength"))
    plan = compile_patch(p, registry)
    frame = plan.run(0.0, 0.02)
    assert np.all(np.isfinite(frame.vec))
    big, s2 = chain("value.constant", "test.sink")
    big.node(s2[0]).params = {"value": 1e6}
    big.connect((s2[0], "out"), (s2[1], "strength"))
    plan = compile_patch(big, registry)
    frame = plan.run(0.0, 0.02)
    assert frame.strength[1, 0] == STRENGTH_BOUND and plan.nan_count() == 1


def test_recompile_carries_state_of_unchanged_nodes(registry):
    p, (c, s) = chain("value.constant", "shape.smooth")
    p.node(c).params = {"value": 1.0}
    p.node(s).params = {"attack_ms": 200.0, "release_ms": 200.0}
    p.connect((c, "out"), (s, "x"))
    plan = compile_patch(p, registry)
    for i in range(10):
        plan.run(i * 0.02, 0.02)
    y = plan.values(s)["out"]
    assert 0.5 < y < 1.0
    p.add_node("time.lfo")  # an unrelated edit
    plan2 = compile_patch(p, registry, previous=plan)
    plan2.run(0.2, 0.02)
    assert plan2.values(s)["out"] > y  # kept going from where it was, no reset to 0
    assert plan2.frame.scene.version == plan.frame.scene.version + 1


def test_run_allocates_no_growing_memory(registry):
    from hambajuba_nodes.content.bench_patch import bench_patch

    plan = compile_patch(bench_patch(), registry, analysis=synthetic(20.0))
    for i in range(200):
        plan.run(i * 0.02, 0.02)
    tracemalloc.start()
    snap0 = tracemalloc.take_snapshot()
    for i in range(2000):
        plan.run(i * 0.02 % 19.0, 0.02)
    snap1 = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in snap1.compare_to(snap0, "filename") if s.size_diff > 0)
    assert grown < 4096, f"plan.run keeps {grown} bytes per 2000 frames"


def test_check_never_raises_on_garbage_params(registry):
    p = Patch()
    p.add_node("time.lfo", {"rate": [1, 2], "shape": {"x": 1}})
    checked = check(p, registry)
    assert len(checked.errors) == 2


def test_channel_triggers_fire_once_per_pulse_at_any_fps(registry):
    from graph_runtime.graph.channels import ChannelBank

    ana = synthetic(4.0, bpm=120.0)  # 8 beats
    for fps in (24.0, 30.0, 50.0, 60.0, 144.0):
        bank = ChannelBank(ana)
        w = bank.trigger("global/beat")
        bank.freeze()
        fired = 0
        for i in range(int(4.0 * fps)):
            bank.update(i / fps)
            fired += w.v
        assert fired == 8, fps


def test_channel_signal_interpolates(registry):
    from graph_runtime.graph.channels import ChannelBank

    ramp = np.arange(200, dtype=np.float32)  # 4 s at 50 fps
    ana = synthetic(4.0, channels={"bass/envelope": ramp})
    bank = ChannelBank(ana)
    w = bank.signal("bass/envelope")
    missing = bank.signal("vocals_missing/envelope")
    bank.freeze()
    bank.update(1.01)
    assert math.isclose(w.v, 50.5, rel_tol=1e-9) and missing.v == 0.0
    bank.update(99.0)  # past the end holds the last value
    assert w.v == 199.0

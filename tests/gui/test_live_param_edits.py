"""Live edits through the EditorModel and LiveSession the window uses (no window).

A param edit reaches the running plan and its meter twin in place: the
node's new value is in the very next FrameParams and nothing is compiled.
A structural edit is built off the main thread (as in the window) and
swapped between two frames with state carried; params edited while it is
built are not lost.
"""
from __future__ import annotations

import threading

import pytest

from graph_runtime.analysis.store import synthetic
from graph_runtime.graph.frame import BLOCKS, PROMPT_POS
from graph_runtime.show.commands import EditorModel
from graph_runtime.show.live_plan import LiveSession
from hambajuba_nodes.registry import default_registry

REG = default_registry()


def session(background: bool, **kw):
    model = EditorModel(REG)
    live = LiveSession(REG, fps=50.0, background=background, **kw)
    live.follow(model)
    live.set_analysis(synthetic(20.0))
    live.set_feature_mean(lambda block, fid: 2.0 + 0.5 * BLOCKS.index(block))
    return model, live


def settle(live, model, t=1.0):
    for _ in range(200):  # the window's frames: a background build swaps on one of them
        if live.update(model.patch) or (not live._dirty and not _busy(live)):
            break
        live._builder.wait(0.05)
    return live.advance(t, t + 0.2, playing=True)  # t_heard apart: the meter twin runs too


def hold_worker_builds(live) -> threading.Event:
    """Builds on the worker wait for the returned gate (cached-only builds on
    the main thread do not), so a test can act while one is running."""
    gate, build = threading.Event(), live._build

    def held(patch, epoch, cached_only=False):
        if not cached_only:
            gate.wait(5.0)
        return build(patch, epoch, cached_only)

    live._build = held
    return gate


def _busy(live):
    return live._builder is not None and (live._builder.busy or live._builder.ready)


@pytest.mark.parametrize("background", [False, True])
def test_a_param_edit_shows_in_the_next_frame_without_compiling(background):
    model, live = session(background)
    lfo = model.add_node("time.lfo", params={"rate": 0.5})
    sink = model.add_node("sae.block", params={"block": "mid.0", "feature_id": 12,
                                               "strength": 3.0})
    smooth = model.add_node("shape.smooth")
    model.link((lfo, "out"), (smooth, "x"))
    frame = settle(live, model)
    b = BLOCKS.index("mid.0")
    assert frame.strength[b, 0] == pytest.approx(3.0 * 2.5)
    compiles, generation = live.compiles, live.generation

    model.set_param(sink, "strength", 7.0, merge=("drag", sink, "strength"))  # a live param
    frame = live.advance(1.02, 1.22, playing=True)
    assert frame.strength[b, 0] == pytest.approx(7.0 * 2.5)

    model.set_param(sink, "feature_id", 99)  # re-prepares the sink: same slot, new feature
    model.set_param(sink, "block", "up.0.1")  # re-prepares it onto another block
    live.update(model.patch)
    frame = live.advance(1.04, 1.24, playing=True)
    u = BLOCKS.index("up.0.1")
    assert frame.scene.feature_ids[u, 0] == 99 and frame.scene.feature_ids[b, 0] == -1
    assert frame.strength[u, 0] == pytest.approx(7.0 * 3.5) and frame.strength[b, 0] == 0.0
    assert live.monitor.nodes[sink].p["block"] == "up.0.1"  # the meter twin too

    y = live.plan.nodes[smooth].y
    model.set_param(smooth, "release_ms", 900.0)  # live (on_param): its state is untouched
    assert live.plan.nodes[smooth].y == y and live.plan.nodes[smooth].p["release_ms"] == 900.0
    assert live.compiles == compiles and live.generation == generation


def test_undoing_a_drag_is_one_step_and_in_place():
    model, live = session(False)
    lfo = model.add_node("time.lfo")
    settle(live, model)
    compiles = live.compiles
    for rate in (1.5, 2.0, 2.5, 3.0):  # one gesture: one undo step
        model.set_param(lfo, "rate", rate, merge=("drag", lfo, "rate"))
    model.end_gesture()
    assert live.plan.nodes[lfo].p["rate"] == 3.0
    assert model.undo() and live.plan.nodes[lfo].p["rate"] == 1.0
    assert model.redo() and live.plan.nodes[lfo].p["rate"] == 3.0
    assert live.compiles == compiles


def test_a_refused_in_place_edit_falls_back_to_a_recompile_that_names_the_node():
    model, live = session(False)
    sinks = [model.add_node("sae.block", params={"block": "mid.0"}) for _ in range(4)]
    other = model.add_node("sae.block", params={"block": "up.0.0"})
    settle(live, model)
    good = live.plan
    assert model.set_param(other, "block", "mid.0") is None  # the model takes it; mid.0 is full
    assert good.nodes[other].p["block"] == "up.0.0"  # the running plan refused, unchanged
    assert not live.update(model.patch) and not live.ok and live.plan is good
    assert other in live.node_problems() and sinks


def test_a_structural_edit_is_built_off_the_main_thread_and_keeps_params_edited_meanwhile():
    model, live = session(True, wait_s=0.0)
    lfo = model.add_node("time.lfo", params={"rate": 0.25})
    smooth = model.add_node("shape.smooth", params={"release_ms": 2000.0})
    model.link((lfo, "out"), (smooth, "x"))
    settle(live, model)
    for i in range(40):
        live.advance(1.0 + i / 50, 1.0 + i / 50, playing=True)
    y = live.plan.nodes[smooth].y
    assert y > 0.0

    gate = hold_worker_builds(live)
    # new per-track work (this ranking's prominence table): built on the worker
    ens = model.add_node("ensemble.prominence", params={"rank_bass": "R1", "rank_drums": "R2"})
    assert not live.update(model.patch)  # not ready: the old plan plays this frame
    assert live._builder.busy
    old = live.plan
    model.set_param(lfo, "rate", 4.0)  # while it is built
    assert old.nodes[lfo].p["rate"] == 4.0  # the running plan has it at once
    gate.set()
    settle(live, model, t=1.8)
    assert live.plan is not old and ens in live.plan.nodes
    assert live.plan.nodes[lfo].p["rate"] == 4.0  # not lost in the swap
    assert live.plan.nodes[smooth].y == pytest.approx(y, rel=0.05)  # state carried (a few frames on)
    compiles = live.compiles
    dest = model.add_node("dest.prompt", params={"position": 0.1})  # cached: built at once
    assert live.update(model.patch) and dest in live.plan.nodes and live.compiles == compiles + 1
    frame = live.advance(1.9, 1.9, playing=True)  # a fast engine: the meter twin rests
    assert frame.vec[PROMPT_POS] > 0.0 and live.compiles == compiles + 1
    live.advance(1.92, 1.7, playing=True)  # a slow one: the twin is built when first needed
    assert live.compiles == compiles + 2 and dest in live.meter_plan.nodes


def test_a_build_for_a_replaced_track_is_dropped():
    model, live = session(True, wait_s=0.0)
    model.add_node("audio.source")
    gate = hold_worker_builds(live)
    assert not live.update(model.patch) and live._builder.busy  # a new track's tables
    longer = synthetic(40.0)
    live.set_analysis(longer)  # while the first build runs
    swapped_in, swap = [], live._swap
    live._swap = lambda plan: (swapped_in.append(plan.bank.analysis), swap(plan))[1]
    gate.set()
    live._builder.wait(5.0)
    settle(live, model)
    assert swapped_in == [longer]  # the stale result was dropped, never played

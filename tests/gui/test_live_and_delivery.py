"""Live recompilation and frame delivery, without a window."""
from __future__ import annotations

import time

import numpy as np

from graph_runtime.analysis.store import synthetic
from graph_runtime.engine.null_engine import NullEngine
from graph_runtime.show.commands import EditorModel
from graph_runtime.show.delivery import Delivery, Result
from graph_runtime.show.engine_thread import EngineWorker
from graph_runtime.show.live_plan import LiveSession
from hambajuba_nodes.registry import default_registry


def test_bad_edit_keeps_last_good_plan_and_state_carries():
    reg = default_registry()
    model = EditorModel(reg)
    live = LiveSession(reg)
    live.follow(model)
    live.set_analysis(synthetic(5.0))
    lfo = model.add_node("time.lfo")
    smooth = model.add_node("shape.smooth")
    model.link((lfo, "out"), (smooth, "x"))
    assert live.update(model.patch) and live.ok
    for i in range(30):
        live.advance(i / 50, i / 50, playing=True)
    good, y = live.plan, live.plan.nodes[smooth].y
    assert y != 0.0
    sinks = [model.add_node("sae.block", params={"block": "mid.0"}) for _ in range(5)]  # 4 slots
    assert not live.update(model.patch) and not live.ok
    assert live.plan is good  # still playing
    assert any("carries" in p.message for p in live.node_problems().get(sinks[-1], []))
    model.delete([sinks[-1]])
    assert live.update(model.patch) and live.ok
    assert live.plan is not good and live.plan.nodes[smooth].y == y  # state carried over


def test_a_loop_wrap_keeps_the_beats_firing():
    reg = default_registry()
    model = EditorModel(reg)
    live = LiveSession(reg)
    live.follow(model)
    live.set_analysis(synthetic(10.0, bpm=120))  # a beat every 0.5 s
    beat = model.add_node("audio.beat")
    live.update(model.patch)

    def play(t0, t1):
        fired = []
        for i in range(int(round((t1 - t0) * 50))):
            t = t0 + i / 50
            live.advance(t, t, playing=True)
            if live.plan.nodes[beat].beat.v:
                fired.append(round(t, 2))
        return fired

    assert play(0.02, 1.9) == [0.5, 1.0, 1.5]
    # the loop wraps back to 1.0: a jump, so the bank forgets the last frame
    assert play(1.0, 1.9) == [1.0, 1.5]


def result(t, submitted=0.0, done=0.01):
    r = Result()
    r.t, r.submitted, r.done = t, submitted, done
    return r


def test_delivery_drops_late_holds_early_shows_due():
    released = []
    d = Delivery(released.append, late_s=0.05, ui_period=1 / 60)
    assert d.offer(result(10.0), heard=10.2, playing=True) is None  # 200 ms late
    assert d.dropped == 1 and len(released) == 1
    early = result(10.5)
    assert d.offer(early, heard=10.3, playing=True) is None and d.held is early
    assert d.offer(None, heard=10.4, playing=True) is None
    assert d.offer(None, heard=10.5, playing=True) is early
    on_time = result(11.0)
    assert d.offer(on_time, heard=11.0, playing=True) is on_time
    # paused: nothing is late
    assert d.offer(result(1.0), heard=50.0, playing=False) is not None
    assert d.lookahead() > d.ui_period


def test_worker_takes_newest_snapshot_and_never_queues():
    from graph_runtime.graph.frame import FrameParams

    eng = NullEngine(64, np.full((64, 64, 4), 255, np.uint8), render_s=0.02, preview=True)
    w = EngineWorker(lambda: eng)
    w.start()
    deadline = time.monotonic() + 5
    while not w.ready and time.monotonic() < deadline:
        time.sleep(0.01)
    assert w.ready
    frame = FrameParams()
    for i in range(50):  # 50 submissions in ~50 ms; the engine manages a few
        frame.vec[0] = i
        w.submit(frame, float(i))
        time.sleep(0.001)
    time.sleep(0.1)
    res = w.poll()
    w.stop()
    assert res is not None and res.t == 49.0  # the newest one was rendered last
    assert w.skipped > 0 and eng.frames < 50
    assert res.image.dtype == np.float32 and res.image.max() == 1.0


def test_worker_reports_engine_failure():
    def broken():
        raise RuntimeError("no weights here")

    w = EngineWorker(broken)
    w.start()
    w._thread.join(5)
    assert w.state == "failed" and "no weights here" in w.message

"""The show goes on: kill -9 the server mid-performance, start it again, and
the window's own worker (EngineWorker + Delivery, as App drives them) gets
frames again from the same engine object, without a restart."""
from __future__ import annotations

import time

import numpy as np
import pytest
from remote_helpers import free_port, spawn_serve, wait_until

from graph_runtime.graph.frame import FrameParams
from graph_runtime.remote.client import RemoteEngine
from graph_runtime.render.engines import engine_factory
from graph_runtime.show.delivery import Delivery
from graph_runtime.show.engine_thread import EngineWorker


class Window:
    """What App.tick does with the worker, minus Dear PyGui: submit the plan's
    frame for the time it will be seen, offer the newest result to Delivery,
    copy what it says to show into the texture, release it."""

    def __init__(self, worker: EngineWorker) -> None:
        self.worker, self.delivery = worker, Delivery(worker.release, ui_period=1 / 60)
        self.frame = FrameParams()
        self.texture = None
        self.shown = 0
        self.t0 = time.monotonic()

    def tick(self) -> None:
        heard = time.monotonic() - self.t0
        self.frame.strength[0, 0] = np.sin(heard)
        self.worker.submit(self.frame, heard + self.delivery.lookahead())
        shown = self.delivery.offer(self.worker.poll(), heard, playing=True)
        if shown is not None:
            self.texture = shown.image.copy()
            self.shown += 1
            self.worker.release(shown)

    def play_until(self, cond, timeout: float = 30.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end and not cond():
            self.tick()
            time.sleep(1 / 120)
        return cond()


def test_kill_9_the_server_then_restart_it_and_frames_resume():
    port = free_port()
    server = spawn_serve(port)
    worker = EngineWorker(engine_factory("auto", 512, address=f"127.0.0.1:{port}"))
    worker.start()
    try:
        assert wait_until(lambda: worker.state in ("ready", "failed"), 30.0), worker.state
        assert worker.state == "ready", worker.message
        engine: RemoteEngine = worker.engine
        win = Window(worker)
        assert win.play_until(lambda: win.shown >= 10)
        scenes_before = engine.scenes_sent

        server.kill()                        # SIGKILL: no bye, no clean close
        server.wait()
        assert win.play_until(lambda: "engine disconnected, reconnecting" in worker.message)
        assert engine.status.startswith("engine disconnected, reconnecting")
        held = win.texture.copy()
        assert win.play_until(lambda: False, timeout=0.5) is False   # keeps playing, no crash
        assert worker.state == "ready"
        assert np.array_equal(win.texture, held)                     # the last image is held

        server = spawn_serve(port)           # the same address, a new process
        shown_before, received_before = win.shown, engine.received
        assert win.play_until(lambda: engine.connections == 2 and
                              engine.received >= received_before + 10, 30.0)
        assert win.play_until(lambda: win.shown >= shown_before + 10)
        assert worker.engine is engine and worker.state == "ready"  # never restarted
        assert engine.status == "connected"
        assert engine.scenes_sent > scenes_before                    # the scene went again
    finally:
        worker.stop()
        server.kill()
        server.wait()


def test_a_render_waits_for_the_server_and_sends_the_frame_again():
    """hold=False (how `render --engine` uses it): a frame lost with the link is re-sent."""
    port = free_port()
    server = spawn_serve(port)
    eng = RemoteEngine(f"127.0.0.1:{port}", codec="raw", hold=False, frame_timeout_s=30.0)
    try:
        first = eng.render(FrameParams()).copy()
        server.kill()
        server.wait()
        assert wait_until(lambda: eng.status != "connected", 10.0)
        server = spawn_serve(port)
        assert np.array_equal(eng.render(FrameParams()), first)
        assert eng.connections == 2
    finally:
        eng.close()
        server.kill()
        server.wait()


def test_unreachable_for_too_long_is_an_error_in_a_render():
    port = free_port()
    server = spawn_serve(port)
    eng = RemoteEngine(f"127.0.0.1:{port}", hold=False, frame_timeout_s=1.0)
    try:
        eng.render(FrameParams())
        server.kill()
        server.wait()
        from graph_runtime.remote.client import RemoteDisconnected

        with pytest.raises(RemoteDisconnected, match="unreachable"):
            eng.render(FrameParams())
    finally:
        eng.close()

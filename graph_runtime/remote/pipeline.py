"""Frames in flight for any engine: one interface for the window's worker.

    pipe = frame_pipe(engine)          # a RemoteEngine is its own pipe; others are wrapped
    if pipe.submit(frame, at, tag=submitted) is None:   # full (or the link is down):
        ...keep the newest frame, try again after pipe.wait(timeout)
    done = pipe.poll()                 # Finished | None: the newest image, older ones dropped
    done.rgba, done.at, done.tag, done.render_ms

A local engine renders inside submit (depth 1: what EngineWorker does today),
so a worker written against this never asks which engine it has. A
RemoteEngine keeps up to `in_flight` frames on the wire and finishes them on
its link thread.
"""
from __future__ import annotations

import time

from graph_runtime.engine.protocol import FrameEngine, is_pipelined
from graph_runtime.graph.frame import FrameParams

from .client import Finished


class LocalPipe:
    """An engine with only render(): submit renders at once, poll hands it out."""

    in_flight = 1

    def __init__(self, engine: FrameEngine) -> None:
        self.engine = engine
        self._done = Finished()
        self._ready = False
        self._next_id = 0
        self.lookahead_s = 0.0      # EMA of render time, seconds

    def submit(self, frame: FrameParams, at: float, *, tag=None, wait_s: float = 0.0) -> int:
        t0 = time.perf_counter()
        rgba = self.engine.render(frame)        # the engine's reused buffer
        done = time.perf_counter()
        f = self._done
        f.id, f.at, f.tag, f.rgba, f.done = self._next_id, at, tag, rgba, done
        f.render_ms, f.rtt_ms = 1e3 * (done - t0), 0.0
        self.lookahead_s += 0.2 * ((done - t0) - self.lookahead_s)
        self._ready = True
        self._next_id += 1
        return f.id

    def poll(self) -> Finished | None:
        if not self._ready:
            return None
        self._ready = False
        return self._done

    def wait(self, timeout: float) -> None:
        """Nothing is ever in flight: submit already finished the frame."""


def frame_pipe(engine: FrameEngine):
    """The engine itself when it pipelines (submit/poll/wait), else a LocalPipe around it."""
    if is_pipelined(engine):
        return engine
    return LocalPipe(engine)

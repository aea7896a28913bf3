"""`render --engine HOST:PORT --in-flight N`: the plan runs up to N frames
ahead of the images, so a round trip to the server does not cut a render's
frame rate, and every frame still comes back, in order, exactly once.

    ahead = RenderAhead(engine, guard, say)   # engine: RemoteEngine(ordered=True)
    ahead.push(frame)                         # after plan.run(): copies the vector, sends it
    rgba = ahead.pop()                        # the oldest frame's image (waits for it)

Each pending frame keeps a copy of its vector and its Scene, so a link that
drops mid-render costs nothing but time: every frame not yet back is sent
again, in order, once the link is up (up to the engine's frame_timeout_s).
A frame the server could not render because of its Scene (unreadable album
art, a bad feature id) goes through the same SceneGuard as a one-process
render: the last good Scene, or plain noise, and one warning.
"""
from __future__ import annotations

import time
from collections import deque
from typing import Callable

import numpy as np

from graph_runtime.graph.frame import FrameParams

from .client import RemoteDisconnected, RemoteEngine
from .connect import RemoteError


class RenderAhead:
    def __init__(self, engine: RemoteEngine, guard, say: Callable[[str], None]) -> None:
        self.engine, self.guard, self.say = engine, guard, say
        self.depth = int(engine.in_flight)
        self._frame = FrameParams()         # what is sent: a pending frame's vector + Scene
        self._pending: deque[list] = deque()  # [fid | None, vec copy (VEC_LEN,), Scene]
        self._spare: list[np.ndarray] = [np.empty_like(self._frame.vec)
                                         for _ in range(self.depth + 1)]

    def __len__(self) -> int:
        return len(self._pending)

    @property
    def full(self) -> bool:
        return len(self._pending) >= self.depth

    def push(self, frame: FrameParams) -> None:
        vec = self._spare.pop()
        np.copyto(vec, frame.vec)
        entry = [None, vec, self.guard.scene_for(frame.scene)]
        self._pending.append(entry)
        entry[0] = self._send(entry)

    def pop(self) -> np.ndarray:
        entry = self._pending[0]
        while True:
            try:
                rgba = self.engine.result(entry[0]) if entry[0] is not None else None
                if rgba is not None:
                    self.guard.accepted(entry[2])
            except RemoteError as e:  # the server could not render it
                rgba = self._refused(entry, e)
            if rgba is not None:
                break
            self._resend_all()
        self._pending.popleft()
        self._spare.append(entry[1])
        return rgba

    # -- internals -----------------------------------------------------------------------
    def _send(self, entry: list, wait_s: float = 0.0) -> int | None:
        np.copyto(self._frame.vec, entry[1])
        self._frame.scene = entry[2]
        return self.engine.submit(self._frame, float("nan"), wait_s=wait_s)

    def _resend_all(self) -> None:
        """The link dropped: every frame not yet back goes again, in order."""
        deadline = time.monotonic() + self.engine.frame_timeout_s
        for entry in self._pending:
            entry[0] = None
            while entry[0] is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RemoteDisconnected(
                        f"the engine at {self.engine.address} was unreachable for "
                        f"{self.engine.frame_timeout_s:.0f} s ({self.engine.status})")
                entry[0] = self._send(entry, wait_s=min(left, 1.0))

    def _refused(self, entry: list, error: RemoteError) -> np.ndarray:
        """Render this frame with the guard's fallback Scene (synchronously), or re-raise."""
        def render_with(scene):
            fid = self._send([None, entry[1], scene])
            rgba = self.engine.result(fid) if fid is not None else None
            if rgba is None:
                raise RemoteDisconnected("link dropped during a fallback frame")
            return rgba

        rgba = self.guard.failed(entry[2], render_with, error)
        if rgba is None:
            raise error
        self.say(f"warning: engine refused the scene ({self.guard.refusal}); rendering the "
                 "last good one (or plain noise) instead")
        return rgba

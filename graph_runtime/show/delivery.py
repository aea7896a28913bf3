"""Delivery: when a finished frame is shown, and how far ahead to render.

The engine worker (engine_thread.py) hands over its newest finished frame;
the main thread offers it here once per window frame. A frame is shown when
its track time has come, held while it is early, dropped when it is more
than `late_s` past its time: sync beats frame count.

No dearpygui here: the main thread owns every window call.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

LATE_S = 0.050  # a frame shown more than this after its time is dropped
_EMA = 0.2


class Result:
    """A finished frame: image float32 (H, W, 4) in [0, 1], owned by the worker
    until the next poll()."""

    __slots__ = ("image", "rgba", "t", "submitted", "done", "render_s", "preview")

    def __init__(self) -> None:
        self.image: np.ndarray | None = None
        self.rgba: np.ndarray | None = None  # the same frame, (H, W, 4) uint8 (the stage's)
        self.t = 0.0
        self.submitted = 0.0
        self.done = 0.0
        self.render_s = 0.0
        self.preview = False


class Delivery:
    """Decides when a finished frame is shown, and how far ahead to render.

    show: its time has come (within half a window frame) and it is not late.
    hold: it is early; shown on a later window frame (one held at a time).
    drop: it is more than `late_s` past its time.
    """

    def __init__(self, release: Callable[[Result], None] = lambda r: None, *,
                 late_s: float = LATE_S, ui_period: float = 1.0 / 60.0) -> None:
        self.release = release  # hands a result back to the worker
        self.late_s = late_s
        self.ui_period = ui_period
        self.latency = 0.0  # EMA of submit -> ready, seconds
        self.held: Result | None = None
        self.shown = self.dropped = 0
        self.last_shown_t = 0.0
        self._n = 0

    def lookahead(self) -> float:
        """How far past the heard time to render: pipeline latency + one frame."""
        return self.latency + self.ui_period

    def measure(self, res: Result) -> None:
        lat = max(0.0, res.done - res.submitted)
        self.latency = lat if self._n == 0 else (1 - _EMA) * self.latency + _EMA * lat
        self._n += 1

    def decide(self, res: Result, heard: float) -> str:
        if heard - res.t > self.late_s:
            return "drop"
        if res.t - heard > self.ui_period * 0.5:
            return "hold"
        return "show"

    def offer(self, res: Result | None, heard: float, *, playing: bool) -> Result | None:
        """Feed the newest result (or None); return the frame to show now, if
        any. The caller must release() what it is given once it has copied it.

        While paused nothing is late: the newest frame is shown at once."""
        if res is not None:
            self.measure(res)
            if not playing:
                self._unhold()
                return self._show(res)
            verdict = self.decide(res, heard)
            if verdict == "drop":
                self.dropped += 1
                self.release(res)
            elif verdict == "show":
                self._unhold()
                return self._show(res)
            else:
                held = self.held
                if held is not None and self.decide(held, heard) == "show":
                    self.held = res  # the held one is due now: show it, hold the newer
                    return self._show(held)
                self._unhold()  # a newer early frame replaces an older one not yet due
                self.held = res
                return None
        if self.held is not None:
            verdict = self.decide(self.held, heard) if playing else "show"
            if verdict == "show":
                res, self.held = self.held, None
                return self._show(res)
            if verdict == "drop":
                self.dropped += 1
                self._unhold()
        return None

    def _unhold(self) -> None:
        if self.held is not None:
            self.release(self.held)
            self.held = None

    def _show(self, res: Result) -> Result:
        self.shown += 1
        self.last_shown_t = res.t
        return res

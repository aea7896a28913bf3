"""The media clock the frames follow: track time as heard at the speaker.

The audio output is the master. Each time it hands a buffer to the device it
reports one observation, `observe(pos, heard_at)`: the sample at track time
`pos` (seconds) will reach the speaker at monotonic time `heard_at`
(callback time + the device's output latency, so latency is compensated
here, once). The window asks `time()` many times per second and must get a
smooth, monotonic answer, not the staircase of buffer-sized steps the
callbacks make.

So the visual clock runs on the monotonic clock, piecewise linearly, and is
steered toward the device: at every read it compares itself with the latest
observation (extrapolated at nominal speed) and sets its rate to
1 + gain * error, bounded by `max_slew`. That is a first-order phase-locked
loop: a device whose crystal runs 0.1 % fast is followed with a steady lag of
0.001 / gain seconds (2 ms at the default gain), callback jitter is low-passed
with a time constant of 1 / gain, and the error never grows with the length
of the track. Jumps larger than `snap_s` (seek, loop wrap, an underrun) are
taken at once instead of slewed.

NullClock is the same interface for when there is no audio device: the
monotonic clock is the master and the answer is exact.

Imports only the standard library; safe to call `observe` from the audio
thread while the main thread calls `time` (one tuple assignment each way).
"""
from __future__ import annotations

import time as _time
from typing import Callable

DEFAULT_GAIN = 0.5  # 1/s: error correction per second of error
DEFAULT_MAX_SLEW = 0.005  # the visual clock runs at most 0.5 % fast or slow
DEFAULT_SNAP_S = 0.080  # errors above this are jumps, not drift


class MediaClock:
    """Smoothed track time that follows an audio device's reports.

    Units: seconds of track time; `now` returns monotonic seconds.
    """

    def __init__(self, *, gain: float = DEFAULT_GAIN, max_slew: float = DEFAULT_MAX_SLEW,
                 snap_s: float = DEFAULT_SNAP_S, now: Callable[[], float] = _time.monotonic) -> None:
        self.gain = float(gain)
        self.max_slew = float(max_slew)
        self.snap_s = float(snap_s)
        self.now = now
        self._running = False
        self._held = 0.0  # track time while stopped
        self._base_t = 0.0  # visual clock: t = base_t + (at - base_at) * rate
        self._base_at = 0.0
        self._rate = 1.0
        self._obs: tuple[float, float] | None = None  # (pos, heard_at), written by the audio thread
        self._start_at = 0.0  # before this monotonic time nothing new is heard yet
        self.snaps = 0  # jumps taken (seeks, loops, underruns)

    # -- the audio side ------------------------------------------------------------
    def observe(self, pos: float, heard_at: float) -> None:
        """The sample at track time `pos` is heard at monotonic `heard_at`."""
        self._obs = (float(pos), float(heard_at))

    # -- the transport -------------------------------------------------------------
    def start(self, pos: float, at: float | None = None) -> None:
        """Start running from `pos`, first heard at monotonic `at` (default now:
        pass now + output latency); until then time() holds at `pos`."""
        at = self.now() if at is None else at
        self._obs = None
        self._base_t, self._base_at, self._rate = float(pos), at, 1.0
        self._start_at = at
        self._running = True

    def hold(self, pos: float) -> None:
        """Stop at `pos` (pause, or seek while paused)."""
        self._running = False
        self._held = float(pos)
        self._obs = None

    @property
    def running(self) -> bool:
        return self._running

    @property
    def rate(self) -> float:
        return self._rate

    # -- the window side -----------------------------------------------------------
    def time(self, at: float | None = None) -> float:
        """Track time heard at monotonic time `at` (default: now)."""
        if not self._running:
            return self._held
        at = self.now() if at is None else at
        if at < self._start_at:
            return self._base_t  # pre-roll: the first sample is still on its way
        t = self._base_t + (at - self._base_at) * self._rate
        obs = self._obs
        if obs is None:
            return t
        pos, heard_at = obs
        device = pos + (at - heard_at)  # nominal-speed extrapolation of the device
        err = device - t
        if err > self.snap_s or err < -self.snap_s:
            self.snaps += 1
            t, self._rate = device, 1.0
        else:
            slew = self.gain * err
            slew = self.max_slew if slew > self.max_slew else -self.max_slew if slew < -self.max_slew else slew
            self._rate = 1.0 + slew
        self._base_t, self._base_at = t, at  # rebase: continuous at the rate change
        return t


class NullClock:
    """The monotonic clock as master (no audio device): exact, same interface."""

    def __init__(self, *, now: Callable[[], float] = _time.monotonic) -> None:
        self.now = now
        self._running = False
        self._pos = 0.0
        self._at = 0.0
        self.snaps = 0

    def observe(self, pos: float, heard_at: float) -> None:
        """A wrap or jump decided by the output: re-anchor there."""
        self._pos, self._at = float(pos), float(heard_at)
        self.snaps += 1

    def start(self, pos: float, at: float | None = None) -> None:
        self._pos, self._at = float(pos), self.now() if at is None else at
        self._running = True

    def hold(self, pos: float) -> None:
        self._running = False
        self._pos = float(pos)

    @property
    def running(self) -> bool:
        return self._running

    @property
    def rate(self) -> float:
        return 1.0

    def time(self, at: float | None = None) -> float:
        if not self._running:
            return self._pos
        at = self.now() if at is None else at
        return self._pos + (at - self._at)

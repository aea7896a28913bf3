"""The audio the room heard, rebuilt from the track and the heard-position log.

The window reports every frame `(at, track_t, playing)`: at monotonic time
`at` the speaker plays track time `track_t` (the transport's clock, latency
already compensated). Between two reports the track played on from a cursor;
when the reported position is far from where the cursor would be (a seek, a
loop wrap, a new track) for two reports in a row, the cursor jumps there (one
report away is a clock read late under load, not a seek). Paused intervals
are silence.
So the recording hears seeks and loops where the audience did, to within one
window frame, and its sample count is tied to the wall clock, which is what
keeps it within a frame of the video.

Sample index n of the recording is heard at wall time `w0 + n / rate`.
"""
from __future__ import annotations

import numpy as np

JUMP_S = 0.05  # a reported position this far from the cursor is a seek or a wrap


def read_track(samples: np.ndarray | None, sr: int, start_s: float, n: int, rate: int) -> np.ndarray:
    """n samples at `rate` from track `samples` (frames, ch) float32 at `sr`,
    from `start_s` on, as (n, 2) float32; silence outside the track. Touches
    only the rows it reads (never the whole track: it runs every window frame)."""
    out = np.zeros((n, 2), np.float32)
    if samples is None or n <= 0:
        return out
    total = samples.shape[0]
    chans = (0, 1) if samples.shape[1] >= 2 else (0, 0)  # mono: the same on both sides
    if sr == rate:
        i0 = int(round(start_s * sr))
        lo, hi = max(i0, 0), min(i0 + n, total)
        if hi > lo:
            for c, k in enumerate(chans):
                out[lo - i0:hi - i0, c] = samples[lo:hi, k]
        return out
    pos = start_s * sr + np.arange(n) * (sr / rate)  # fractional source frames
    inside = (pos >= 0) & (pos <= total - 1)
    if inside.any():
        lo = max(int(np.floor(pos[inside][0])), 0)
        hi = min(int(np.ceil(pos[inside][-1])) + 1, total)
        idx = np.arange(lo, hi, dtype=np.float64)
        for c, k in enumerate(chans):
            out[inside, c] = np.interp(pos[inside], idx, samples[lo:hi, k])
    return out


class HeardAudio:
    """Turns the heard-position log into samples, a chunk at a time."""

    def __init__(self, rate: int, w0: float) -> None:
        self.rate = int(rate)
        self.w0 = float(w0)
        self.emitted = 0  # samples produced so far
        self.cursor: float | None = None  # track seconds of the next sample
        self.playing = False
        self.jumps: list[tuple[float, float]] = []  # (recording s, track s) of each seek/wrap
        self._doubt = False  # the last report was away from the cursor

    def until(self, at: float, track_t: float, playing: bool, track) -> np.ndarray | None:
        """The samples from where we are up to wall time `at`, where the
        track is heard at `track_t`: (n, 2) float32, or None when nothing is due."""
        end = int(round((at - self.w0) * self.rate))
        n = end - self.emitted
        if n <= 0:
            if at <= self.w0:  # before the recording began: only follow the position
                self.cursor, self.playing = track_t, playing
            return None
        start = track_t - n / self.rate  # where the track was when this stretch began
        if not playing:
            chunk = np.zeros((n, 2), np.float32)
            self.cursor = track_t
        else:
            away = self.cursor is None or abs(self.cursor - start) > JUMP_S
            if self.cursor is None or (away and self._doubt):
                if self.cursor is not None and self.playing:
                    self.jumps.append((self.emitted / self.rate, start))
                self.cursor = start
                self._doubt = False
            else:
                # one report away from the cursor may be a clock read late (a stalled
                # frame); a seek or a wrap is still away at the next report, ~16 ms on
                self._doubt = away
            samples, sr = (track.samples, track.sr) if track is not None else (None, self.rate)
            chunk = read_track(samples, sr, self.cursor, n, self.rate)
            self.cursor += n / self.rate
        self.playing = playing
        self.emitted = end
        return chunk

    def to_end(self, at: float, track) -> np.ndarray | None:
        """Carry on to `at` from the last report (the recording stops there)."""
        if self.cursor is None:
            return self.until(at, 0.0, False, track)
        return self.until(at, self.cursor + (at - self.w0) - self.emitted / self.rate,
                          self.playing, track)

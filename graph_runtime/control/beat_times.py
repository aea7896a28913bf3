"""Where the beats are, for recalling a scene on the next beat or bar.

The grid is the track's analysed beats and downbeats (Analysis.beats /
.downbeats, seconds of track time), extended past both ends at the edge
period; without a track it is a steady grid (120 BPM, or what was tapped),
4 beats to the bar. `position(t)` is the fractional beat index at t, so a
fade over N beats is exact on a grid whose tempo drifts.
Pure Python (bisect on lists): called once or twice a frame.
"""
from __future__ import annotations

import bisect
import math


def _clean(times) -> list[float]:
    return sorted({float(x) for x in times if math.isfinite(float(x))})


class BeatGrid:
    def __init__(self, beats=(), downbeats=(), *, bpm: float = 120.0, phase_s: float = 0.0,
                 beats_per_bar: int = 4) -> None:
        self.beats = _clean(beats)
        self.downs = _clean(downbeats)
        self.bpm = float(bpm) if bpm and bpm > 0 else 120.0
        self.phase_s = float(phase_s)
        self.beats_per_bar = max(1, int(beats_per_bar))
        self.analysed = len(self.beats) >= 2

    @classmethod
    def of(cls, analysis, *, bpm: float = 120.0, phase_s: float = 0.0) -> "BeatGrid":
        if analysis is None:
            return cls(bpm=bpm, phase_s=phase_s)
        return cls(getattr(analysis, "beats", ()), getattr(analysis, "downbeats", ()),
                   bpm=getattr(analysis, "bpm", bpm) or bpm)

    # -- the fractional beat index ----------------------------------------------------
    def position(self, t: float) -> float:
        """Beats since the grid's first beat at t (fractional; extrapolated at the ends)."""
        if not self.analysed:
            return (t - self.phase_s) * self.bpm / 60.0
        g = self.beats
        k = min(max(bisect.bisect_right(g, t) - 1, 0), len(g) - 2)
        return k + (t - g[k]) / (g[k + 1] - g[k])

    def time_at(self, pos: float) -> float:
        """Inverse of position: track time of fractional beat index pos."""
        if not self.analysed:
            return self.phase_s + pos * 60.0 / self.bpm
        g = self.beats
        k = min(max(int(math.floor(pos)), 0), len(g) - 2)
        return g[k] + (pos - k) * (g[k + 1] - g[k])

    # -- quantising a recall -------------------------------------------------------------
    def next_beat(self, t: float) -> float:
        """The first beat at or after t (a beat exactly at t counts: no wait)."""
        p = self.position(t)
        nearest = round(p)
        if abs(p - nearest) < 1e-9:
            return t
        return self.time_at(math.floor(p) + 1)

    def next_bar(self, t: float) -> float:
        """The first downbeat at or after t."""
        if self.analysed and len(self.downs) >= 1:
            i = bisect.bisect_left(self.downs, t - 1e-9)
            if i < len(self.downs):
                return self.downs[i]
            last, period = self.downs[-1], self._bar_period()
            return last + math.ceil((t - last) / period - 1e-9) * period
        p = self.position(t) / self.beats_per_bar
        if abs(p - round(p)) < 1e-9:
            return t
        return self.time_at((math.floor(p) + 1) * self.beats_per_bar)

    def _bar_period(self) -> float:
        if len(self.downs) >= 2:
            return self.downs[-1] - self.downs[-2]
        return self.beats_per_bar * 60.0 / self.bpm

    def start_of(self, when: str, t: float) -> float:
        if when == "beat":
            return self.next_beat(t)
        if when == "bar":
            return self.next_bar(t)
        return t

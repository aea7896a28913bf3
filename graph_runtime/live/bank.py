"""LiveSource and its channel bank: what a compiled plan reads on live input.

compile_patch(patch, registry, analysis=live_source) calls
live_source.make_bank() and gets a LiveBank with ChannelBank's
interface: signal(name) / trigger(name) wires bound at compile time,
freeze(), update(t) once per frame, seek(), array(name), fps.

update(t) copies the newest row of the channel ring (one row copy, one
gather into a preallocated buffer, no allocation) and sets the wires. The
time t is the plan's clock and is not needed: live values are the newest
ones there are. Triggers fire when their pulse counter in the row moved
since the previous update, so a pulse between two frames is never lost.

The beat grid is predicted, not read: the row carries the tracker's clock
(next beat, period, bar position) and the bank extrapolates it to the time
the image will be SEEN,

    target = frame time + half an analysis window (the newest sample in the
             frame) + the row's age + input latency + lookahead

where lookahead is the engine's latency (set by the window); beat_phase,
bar_phase, beat and downbeat follow that target, so an image meant for the
beat is rendered before it and lands on it.

LiveSource also answers the questions nodes ask an offline Analysis at
compile time (stems, classification, bpm, an empty beat list, zero arrays),
so every patch compiles on it unchanged.
"""
from __future__ import annotations

import math
import time

import numpy as np

from graph_runtime.graph.node import Wire

from ..analysis.store import ALL_STEMS, CLASS_NAMES, FPS
from . import layout
from .analyser import N_FFT, SR
from .ring import ChannelRing

_S = layout.STATUS_INDEX
_PREDICTED = ("global/beat_phase", "global/bar_phase")
_HALF_WINDOW_S = (N_FFT // 2) / SR


class LiveSource:
    """A source backed by a channel ring that an analysis worker fills."""

    def __init__(self, ring: ChannelRing, *, input=None, lookahead_s: float = 0.0) -> None:
        self.ring = ring
        self.input = input                  # the LiveInput feeding the ring (status), or None
        self.lookahead_s = float(lookahead_s)
        self.fps = FPS
        self.stems = ALL_STEMS
        self.beats = np.zeros(0)
        self.downbeats = np.zeros(0)
        self.times = np.zeros(1)
        self.data: dict = {}
        self.meta = {"live": True, "source": "live input"}

    # -- what nodes ask an Analysis at compile time ----------------------------------
    @property
    def bpm(self) -> float:
        row = self.ring.latest()
        bpm = float(row[_S["bpm"]]) if row is not None else 0.0
        return bpm if bpm > 0 else 120.0

    n_frames = 1
    duration = 0.0

    def has(self, name: str) -> bool:
        return name in layout.INDEX

    def channel_or_zeros(self, name: str) -> np.ndarray:
        """The whole-track view nodes precompute from (the ensemble's table, the noise
        walk's angles): one neutral frame, every stem present and active, every other
        channel 0. Those nodes then hold their neutral value (an ensemble keeps its
        rank weights) while the bank's wires carry the live values."""
        value = 1.0 if name.endswith("/activity") else 0.0
        return np.full(1, value, np.float32)

    channel = channel_or_zeros

    def classification(self, stem: str) -> dict[str, float]:
        """The running estimate so far (live/classify.py; 0 before the first second
        of music): a patch compiled, or recompiled, while music plays blends by it."""
        row = self.ring.latest()
        idx = layout.INDEX
        if row is None or f"class/{stem}/{CLASS_NAMES[0]}" not in idx:
            return dict.fromkeys(CLASS_NAMES, 0.0)
        return {n: float(row[idx[f"class/{stem}/{n}"]]) for n in CLASS_NAMES}

    # -- live ------------------------------------------------------------------------
    def make_bank(self) -> "LiveBank":
        return LiveBank(self)

    @property
    def input_latency_s(self) -> float:
        return float(getattr(self.input, "input_latency_s", 0.0) or 0.0)

    def clock(self) -> float:
        """The stream time being heard now (s): the newest analysed sample plus the
        row's age; the window's frame clock while the live source plays."""
        row = self.ring.latest()
        if row is None:
            return 0.0
        age = min(max(time.monotonic() - row[_S["published_at"]], 0.0), 0.1)
        return float(row[_S["frame_time"]] + _HALF_WINDOW_S + age)

    def status(self) -> dict:
        """What the window shows: tempo, confidence, level, input state."""
        row = self.ring.latest()
        out = {n: (float(row[i]) if row is not None else 0.0) for n, i in _S.items()}
        if self.input is not None:
            out.update(self.input.stats())
        return out


class LiveBank:
    def __init__(self, source: LiveSource) -> None:
        self.source = source
        self.analysis = source
        self.fps = FPS
        self._sig: list[tuple[str, Wire]] = []
        self._trig: list[tuple[str, Wire]] = []
        self._row = np.zeros(layout.WIDTH)
        self._cols = np.zeros(0, np.intp)
        self._vals = np.zeros(0)
        self._present = np.zeros(0, bool)
        self._tcols = np.zeros(0, np.intp)
        self._last_counts = np.zeros(0)
        self._beats_seen = -1               # predicted beats passed at the last update
        self._fresh = True                  # after freeze/seek: no pulse for what went before

    # -- compile time ---------------------------------------------------------------
    def signal(self, name: str) -> Wire:
        for n, w in self._sig:
            if n == name:
                return w
        w = Wire(0.0)
        self._sig.append((name, w))
        return w

    def trigger(self, name: str) -> Wire:
        for n, w in self._trig:
            if n == name:
                return w
        w = Wire(False)
        self._trig.append((name, w))
        return w

    def array(self, name: str) -> np.ndarray:
        """No whole-track arrays live: one frame of zeros (nodes that precompute
        per track see a silent track and fall back to their live inputs)."""
        return np.zeros(1, np.float32)

    @property
    def channel_count(self) -> int:
        return len(self._sig) + len(self._trig)

    def freeze(self) -> None:
        """Resolve names to columns; a name the live analysis lacks reads 0."""
        idx = layout.INDEX
        self._cols = np.array([idx.get(n, 0) for n, _ in self._sig], np.intp)
        self._present = np.array([n in idx for n, _ in self._sig], bool)
        self._vals = np.zeros(len(self._sig))
        self._sig_wires = [w for _, w in self._sig]
        self._phase_slots = [(j, n) for j, (n, _) in enumerate(self._sig) if n in _PREDICTED]
        counts = layout.COUNT_INDEX
        self._tcols = np.array([counts.get(n, 0) for n, _ in self._trig], np.intp)
        self._tpresent = [n in counts for n, _ in self._trig]
        self._tkind = [n if n in ("global/beat", "global/downbeat") else "" for n, _ in self._trig]
        self._last_counts = np.zeros(len(self._trig))
        self._now_counts = np.zeros(len(self._trig))
        self._fresh = True

    # -- per frame ------------------------------------------------------------------
    def update(self, t: float) -> None:
        latest = self.source.ring.latest()
        if latest is None:
            return
        row = self._row
        np.copyto(row, latest)
        np.take(row, self._cols, out=self._vals)
        self._vals *= self._present
        target = self._target_time(row)
        period = row[_S["period"]]
        passed, last_pos, phase, meter = 0, 0, 0.0, max(int(row[_S["meter"]]), 1)
        if period > 0:
            x = (target - row[_S["next_beat"]]) / period
            m = math.floor(x) + 1                       # predicted beats passed after the row's
            phase = x - math.floor(x)
            last_pos = (int(row[_S["bar_pos"]]) + m - 1) % meter
            passed = int(row[layout.COUNT_INDEX["global/beat"]]) + m
        for j, name in self._phase_slots:
            self._vals[j] = phase if name == "global/beat_phase" else (last_pos + phase) / meter
        item = self._vals.item
        for j, w in enumerate(self._sig_wires):
            w.v = item(j)
        self._triggers(row, passed, last_pos, period > 0)
        self._fresh = False

    def _target_time(self, row: np.ndarray) -> float:
        age = min(max(time.monotonic() - row[_S["published_at"]], 0.0), 0.1)
        return (row[_S["frame_time"]] + _HALF_WINDOW_S + age
                + self.source.input_latency_s + self.source.lookahead_s)

    def _triggers(self, row: np.ndarray, passed: int, last_pos: int, clock: bool) -> None:
        if not self._trig:
            return
        np.take(row, self._tcols, out=self._now_counts)
        beat = bool(clock and passed > self._beats_seen >= 0 and not self._fresh)
        for j, (_, w) in enumerate(self._trig):
            kind = self._tkind[j]
            if kind == "global/beat":
                w.v = beat
            elif kind == "global/downbeat":
                w.v = beat and last_pos == 0 and True
            else:
                w.v = bool(self._tpresent[j] and not self._fresh
                           and self._now_counts[j] > self._last_counts[j])
        if clock and passed > self._beats_seen:
            self._beats_seen = passed
        np.copyto(self._last_counts, self._now_counts)

    def seek(self) -> None:
        """Forget the previous frame: no pulse fires for what happened before."""
        self._fresh = True

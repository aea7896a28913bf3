"""A pulse filter: the forward pass of a beat-position x tempo hidden Markov model
over the onset stream, the long, phase-consistent evidence for which tempi the
music keeps (a bar-pointer model of the kind trained online trackers decode, here
on the mix's onsets).

States: for every whole-frame beat period tau between BPM_HI and BPM_LO (frames),
tau positions inside the beat (0 = on the beat). Each frame every state moves one
position on; at the end of a beat it may take a neighbouring period, with a
probability falling off as exp(-TEMPO_STIFFNESS x |tau'/tau - 1|) (the tempo
drifts, it does not jump). An onset (scaled to [0, 1] by the loudest of the last
few seconds) is likely on the beat and unlikely elsewhere: the first
1/ON_BEAT_SHARE of a beat scores a, the rest (1 - a) / (ON_BEAT_SHARE - 1).

Unlike an 8 s window's autocorrelation, the posterior over tempi only moves when
beats keep landing on the new tempo's grid, so a tempo that notes 2/3 or 3/2 of
the beat apart suggest for a few bars does not take mass from the one the
music keeps. `mass_near(bpm)` is that mass around a tempo.

Per frame on the analysis thread: ~1.5 k states (43 periods at 50 fps), two
gathers, a 43 x 43 product and a few multiplies into buffers sized once
(allocation-free, ~19 us). Units: frames at `fps`, tempo in BPM.
"""
from __future__ import annotations

import math

import numpy as np

BPM_LO, BPM_HI = 55.0, 215.0      # the tempi modelled (whole-frame periods between them)
TEMPO_STIFFNESS = 100.0           # tempo change penalty per relative step at a beat's end
ON_BEAT_SHARE = 16                # the on-beat positions are the first 1/16 of a beat (>= 1 frame)
ACTIVATION_FLOOR = 0.03           # onsets scaled into [floor, 1 - floor]: no state is ever ruled out
PEAK_S = 3.0                      # s: the loudest onset's memory (the activation's scale)
NEAR = 0.06                       # log-ratio around a tempo whose mass `mass_near` sums


class PulseFilter:
    def __init__(self, *, fps: float) -> None:
        self.fps = float(fps)
        lo = int(math.floor(60.0 * fps / BPM_HI))
        hi = int(math.ceil(60.0 * fps / BPM_LO))
        self.taus = np.arange(lo, hi + 1)                       # (n_tempi,) frames per beat
        starts = np.concatenate([[0], np.cumsum(self.taus)[:-1]])
        n = int(self.taus.sum())
        self._first = starts                                    # (n_tempi,) state of position 0
        self._last = starts + self.taus - 1                     # ... of the beat's last position
        self._prev = np.arange(n) - 1                           # each state's predecessor in its beat
        self._prev[self._first] = self._last                    # (overwritten by the tempo step)
        position = np.arange(n) - np.repeat(starts, self.taus)
        tau = np.repeat(self.taus, self.taus)
        self._on_beat = (position < np.maximum(1.0, tau / ON_BEAT_SHARE)).astype(np.float64)
        ratio = self.taus[None, :] / self.taus[:, None]          # [from, to]
        move = np.exp(-TEMPO_STIFFNESS * np.abs(ratio - 1.0))
        self._move = move / move.sum(axis=1, keepdims=True)
        self._tempo_of = np.repeat(np.arange(len(self.taus)), self.taus)
        self._bpm = 60.0 * self.fps / self.taus                  # (n_tempi,)
        self.alpha = np.full(n, 1.0 / n)                         # the filtered posterior
        self._next = np.zeros(n)
        self._ends = np.zeros(len(self.taus))
        self._starts = np.zeros(len(self.taus))
        self._obs = np.zeros(n)
        self._peak = 1e-9
        self._peak_decay = math.exp(-1.0 / (PEAK_S * self.fps))

    def reset(self) -> None:
        """Forget the tempo (the next song)."""
        self.alpha.fill(1.0 / len(self.alpha))
        self._peak = 1e-9

    def step(self, onset: float) -> None:
        """One frame: `onset` is the mix's onset strength above its running mean (>= 0)."""
        self._peak = max(onset, self._peak * self._peak_decay)
        a = min(max(onset / self._peak, ACTIVATION_FLOOR), 1.0 - ACTIVATION_FLOOR)
        off = (1.0 - a) / (ON_BEAT_SHARE - 1)
        alpha, nxt = self.alpha, self._next
        np.take(alpha, self._prev, out=nxt)                      # every state one position on
        np.take(alpha, self._last, out=self._ends)               # beats ending now ...
        np.matmul(self._ends, self._move, out=self._starts)      # ... start the next at a near tempo
        nxt[self._first] = self._starts
        np.multiply(self._on_beat, a - off, out=self._obs)
        self._obs += off
        nxt *= self._obs
        total = float(nxt.sum())
        if total > 0.0:
            nxt *= 1.0 / total
        else:                                                    # (cannot happen with the floor)
            nxt.fill(1.0 / len(nxt))
        self.alpha, self._next = nxt, alpha

    def tempo_mass(self) -> np.ndarray:
        """(n_tempi,) posterior mass per modelled period (`bpms` gives their tempi)."""
        return np.bincount(self._tempo_of, weights=self.alpha, minlength=len(self.taus))

    @property
    def bpms(self) -> np.ndarray:
        return self._bpm

    def mass_near(self, bpm: float) -> float:
        """Posterior mass of the tempi within NEAR (log-ratio) of bpm."""
        near = np.abs(np.log(self._bpm / bpm)) <= NEAR
        return float(self.tempo_mass()[near].sum())

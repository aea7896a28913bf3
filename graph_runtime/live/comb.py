"""The beat tracker's phase comb, into buffers sized once: it runs every frame
(50 fps) on the analysis thread, whose per-frame path allocates nothing.

For a beat of tau frames it scores each phase phi (frames back from the newest
frame i) by the onsets at the last n_k beats before it, each read between
frames by linear interpolation and each older beat weighted COMB_DECAY less:

    score[phi] = sum_k w_k * norm(i - phi - k * tau)

Since i and phi are whole frames, beat k's read splits the same way for every
phase: frame i - phi + lo_k and the next, with weights (1 - f_k) and f_k, where
lo_k = floor(-k tau) and f_k = -k tau - lo_k. So the comb is one matrix
product, taps (2 x COMB_BEATS,: the beats past n_k tap 0) times the ring read
at (2 x COMB_BEATS, n_phi) frame offsets, and the offsets change only when
some beat's read crosses a frame boundary as tau moves.
The comb over phases is the beat-synchronous onset profile the lock reads.
"""
from __future__ import annotations

import math

import numpy as np

MAX_PHASES = 64   # frames: phases scored (a beat of up to 1.28 s at 50 fps; slower beats
#                   score their first 64 phases)


class PhaseComb:
    def __init__(self, beats: int, decay: float) -> None:
        self.beats = beats
        self.weights = decay ** np.arange(beats, dtype=np.float64)
        self._lo = np.zeros(beats, np.int64)            # floor(-k tau) per beat, as set
        rows = 2 * beats
        # (rows, n_phi) views over flat buffers, C-contiguous for the current n_phi (a strided
        # view made NumPy's iterator allocate ~17 kB a call): rows lo_k - phi, then lo_k + 1 - phi
        self._flat = [np.zeros(rows * MAX_PHASES, np.int64), np.zeros(rows * MAX_PHASES, np.int64),
                      np.zeros(rows * MAX_PHASES)]
        self._offsets = self._at = self._reads = None
        self._phases = np.arange(MAX_PHASES, dtype=np.int64)
        self._key = (-1.0, 0)                           # (tau, n_phi) the offsets were set for
        self._taps = np.zeros(2 * beats)                # (1 - f_k) w_k, then f_k w_k
        self._score = np.zeros(MAX_PHASES)
        self._masked_taps = np.zeros(2 * beats)

    def score(self, norm: np.ndarray, i: int, tau: float, n_k: int) -> np.ndarray:
        """(min(ceil(tau), MAX_PHASES),) the comb score per phase for newest frame i of the
        ring `norm` (onsets above their running mean); a view into this comb's buffer,
        valid until the next call."""
        n = min(int(math.ceil(tau)), MAX_PHASES)
        self._set_taps(tau, n)
        at, reads = self._at, self._reads
        np.add(self._offsets, i, out=at)
        np.remainder(at, len(norm), out=at)
        np.take(norm, at, out=reads, mode="wrap")     # in range already: wrap skips take's buffer
        taps = self._taps
        if n_k < self.beats:                           # the beats beyond n_k count for nothing
            taps = self._masked(n_k)
        return np.matmul(taps, reads, out=self._score[:n])

    def _set_taps(self, tau: float, n: int) -> None:
        """The taps for tau (every frame: tau moves a little each frame), the offsets only
        when a beat's frame lo_k or the phase count changed (a few times a beat at most)."""
        if self._key == (tau, n):
            return
        changed = self._key[1] != n
        if changed:
            shape = (2 * self.beats, n)
            self._offsets, self._at, self._reads = (f[:shape[0] * n].reshape(shape) for f in self._flat)
        for k in range(self.beats):
            back = -k * tau
            lo = math.floor(back)
            f = back - lo
            self._taps[k] = (1.0 - f) * self.weights[k]
            self._taps[self.beats + k] = f * self.weights[k]
            if lo != self._lo[k] or changed:
                self._lo[k] = lo
                np.subtract(lo, self._phases[:n], out=self._offsets[k])
                np.subtract(lo + 1, self._phases[:n], out=self._offsets[self.beats + k])
        self._key = (tau, n)

    def _masked(self, n_k: int) -> np.ndarray:
        """The taps with beats n_k.. zeroed (a young stream: fewer beats of history)."""
        m = self._masked_taps
        m[:] = self._taps
        m[n_k:self.beats] = 0.0
        m[self.beats + n_k:] = 0.0
        return m

"""A cheap causal pitch tracker for the pitched stems (bass, vocals, other).

PESTO's streaming mode costs ~2.7 ms per hop per stem on one core: three
stems would be four times the whole 2 ms block budget. Instead one 2048-sample
window of the mid signal (93 ms, ending at the frame's last sample, Hann,
zero-padded to 4096) gives one power spectrum, weighted by each stem's split
masks (analysis at 513 bins, spread over 2049), and from it:

- the pitch, by harmonic summation: the salience of a candidate f0 (30 Hz to
  2 kHz, 20 cents apart) is the sum of the stem's magnitude at its first 8
  harmonics below 5 kHz (magnitude^0.5, so a loud partial does not outvote
  the rest), the h-th weighted ALPHA^(h-1) (one sparse matrix
  product for all candidates); a parabola over the neighbours refines it.
  Bass and other take the most salient f0 in their range. Vocals take the
  melody: the HIGHEST salience peak within MELODY of the strongest, unless
  it is an octave, a twelfth or two octaves above another peak at least
  GUARD times as salient (then it is that peak's harmonic, the usual octave
  error when several voices share the stem, and the next one down is tried);
- the confidence, from the autocorrelation (Wiener-Khinchin: the inverse FFT
  of the same masked power): the highest peak of the normalised
  autocorrelation (divided by the window's own, so long lags are not
  penalised) in the stem's range; 1 for a clean periodic stem.

Costs ~0.2-0.3 ms for the three stems; it runs on every second frame (25
fps, the frames the tension step skips, so the two never share a block) and
the values hold in between. On the approximate stems of the eval chorales
(a 4-part chorale: the vocals stem holds the soprano and much of the inner
voices) it finds the soprano on ~30 % of voiced frames (PESTO offline on the
same stems: ~19 %) and the bass line on ~77 % (offline ~73 %); see
docs/live-analysis.md. On clean monophonic lines it agrees within a few cents.
"""
from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.sparse

from ..analysis.pitch import CONFIDENCE_GATE, RANGES
from ..analysis.spectral import hann

WINDOW = 2048
N_FFT = 4096
PITCHED = ("bass", "vocals", "other")
STEP = 1.0 / 60.0          # octaves between f0 candidates (20 cents)
F_LO, F_HI = 30.0, 2000.0
HARMONICS, F_MAX = 8, 5000.0
ALPHA = {"bass": 0.7, "vocals": 0.8, "other": 0.8}   # harmonic weight decay (bass: the fundamental counts more)
MELODY = 0.5               # vocals: a peak this close to the strongest may be the melody
GUARD = 1.3                # ... unless a peak 1, log2(3) or 2 octaves below is this much stronger
# candidates below a peak where the f0 it may be a harmonic of sits: an octave, a
# twelfth, two octaves, +-2 candidates (40 cents)
_BELOW = (np.round(np.array([1.0, np.log2(3.0), 2.0]) / STEP).astype(int)[:, None]
          + np.arange(-2, 3)[None, :]).ravel()


class CausalPitch:
    def __init__(self, *, sr: int, split_bins: int) -> None:
        self.sr = sr
        self.win = hann(WINDOW).astype(np.float64)
        wac = np.correlate(self.win, self.win, "full")[WINDOW - 1:]
        self.wac = np.concatenate([wac / wac[0], np.zeros(N_FFT - WINDOW)]) + 1e-9
        n_bins = N_FFT // 2 + 1
        self.bin_map = np.minimum(np.round(np.arange(n_bins) * (split_bins - 1) / (n_bins - 1)),
                                  split_bins - 1).astype(np.int64)
        ranges = [(max(2, int(sr / RANGES[s][1])), min(WINDOW - 2, int(sr / RANGES[s][0])))
                  for s in PITCHED]
        self.lo = min(r[0] for r in ranges) - 1
        self.hi = max(r[1] for r in ranges) + 2
        lags = np.arange(self.lo, self.hi)
        # (n_lags - 2, 3): True where an inner lag is inside the stem's range
        self.in_range = np.stack([(lags[1:-1] >= a) & (lags[1:-1] <= b) for a, b in ranges], axis=1)
        self.inv_wac = 1.0 / self.wac[self.lo:self.hi, None]
        self.cols = np.arange(len(PITCHED))
        self.sal_bins = int(F_MAX / (sr / N_FFT)) + 2          # bins the harmonic sum reads
        self.f0 = F_LO * 2.0 ** (np.arange(int(np.log2(F_HI / F_LO) / STEP) + 1) * STEP)
        # one block-diagonal matrix: the three stems' spectra, end to end -> their saliences
        self.salience = scipy.sparse.block_diag(
            [harmonic_sum(self.f0, sr / N_FFT, self.sal_bins, ALPHA[s]) for s in PITCHED], format="csr")
        self.cand = [(int(np.searchsorted(self.f0, RANGES[s][0])), int(np.searchsorted(self.f0, RANGES[s][1])))
                     for s in PITCHED]
        self.melody = PITCHED.index("vocals")
        self.hz = np.zeros(len(PITCHED))
        self.conf = np.zeros(len(PITCHED))
        self._frame = np.zeros(WINDOW)

    def step(self, samples: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """samples (WINDOW,) mid signal; masks (split_bins, 3) stem weights -> (hz, conf), (3,)."""
        np.multiply(samples, self.win, out=self._frame)
        spec = scipy.fft.rfft(self._frame, n=N_FFT)
        weights = masks[self.bin_map].T                                 # (3, 2049)
        power = (spec.real ** 2 + spec.imag ** 2) * weights * weights
        ac = scipy.fft.irfft(power, n=N_FFT, axis=1)
        r0 = ac[:, 0]
        r = ac[:, self.lo:self.hi].T * self.inv_wac / np.maximum(r0, 1e-12)   # (n_lags, 3)
        inner = r[1:-1]
        peak = (inner >= r[:-2]) & (inner > r[2:]) & self.in_range
        best = np.where(peak, inner, -np.inf).max(axis=0)
        ok = np.isfinite(best) & (r0 > 1e-12)
        np.copyto(self.conf, np.where(ok, np.clip(best, 0.0, 1.0), 0.0))
        mag = np.sqrt(np.sqrt(power[:, :self.sal_bins]))   # magnitude^0.5: no partial dominates the sum
        sal = (self.salience @ mag.ravel()).reshape(len(PITCHED), -1)
        for j, (lo, hi) in enumerate(self.cand):
            self.hz[j] = self._pick(sal[j], lo, hi, j == self.melody) if ok[j] else 0.0
        return self.hz, self.conf

    def _pick(self, sal: np.ndarray, lo: int, hi: int, melody: bool) -> float:
        """The f0 (Hz) of the chosen salience peak among candidates lo..hi."""
        s = sal[lo:hi]
        b = int(np.argmax(s))
        if s[b] <= 0.0:
            return 0.0
        if melody:
            b = melody_peak(s, b)
        off = 0.0
        if 0 < b < len(s) - 1:
            a, c = s[b - 1], s[b + 1]
            den = a - 2.0 * s[b] + c
            if abs(den) > 1e-12:
                off = min(max(0.5 * (a - c) / den, -0.5), 0.5)
        return float(self.f0[lo + b] * 2.0 ** (off * STEP))


def harmonic_sum(f0: np.ndarray, bin_hz: float, n_bins: int, alpha: float) -> scipy.sparse.csr_matrix:
    """(n_candidates, n_bins): row i sums the magnitude at the harmonics of f0[i]
    (linear interpolation between the two nearest bins), the h-th weighted alpha^(h-1)."""
    rows, cols, vals = [], [], []
    for i, f in enumerate(f0):
        for h in range(1, HARMONICS + 1):
            if f * h >= F_MAX:
                break
            x = f * h / bin_hz
            k = int(x)
            w = alpha ** (h - 1)
            rows += [i, i]
            cols += [k, k + 1]
            vals += [w * (1.0 - (x - k)), w * (x - k)]
    return scipy.sparse.csr_matrix((vals, (rows, cols)), shape=(len(f0), n_bins))


def melody_peak(s: np.ndarray, strongest: int) -> int:
    """The highest salience peak within MELODY of the strongest whose f0 is not
    a harmonic (x2, x3, x4, +-2 candidates) of an f0 GUARD times as salient
    (candidate indices, STEP apart)."""
    inner = s[1:-1]
    top = np.flatnonzero((inner >= s[:-2]) & (inner > s[2:]) & (inner >= MELODY * s[strongest])) + 1
    below = top[:, None] - _BELOW                                   # (n_top, 15)
    under = np.where(below >= 0, s[np.maximum(below, 0)], 0.0).max(axis=1)
    free = top[under < GUARD * s[top]]
    return int(free[-1]) if len(free) else strongest


def gate(hz: float, conf: float, active: bool) -> float:
    return hz if (conf >= CONFIDENCE_GATE and active and hz > 0) else 0.0


def normalized(hz: float, lo: float, hi: float, last: float) -> float:
    """Log map lo..hi Hz -> 0..1; holds `last` while unvoiced."""
    if hz <= 0:
        return last
    return float(np.clip(np.log(hz / lo) / np.log(hi / lo), 0.0, 1.0))

"""Chroma, tonal distance and tension of the mix, one frame at a time.

- chroma: the offline filterbank (tonal.chroma_filters) on the frame's power,
  averaged over the last 3 frames (offline: centred), max-normalised, 0 when
  the mix is silent.
- tonal_distance: sqrt of the Jensen-Shannon divergence between the chroma
  averaged over the last 0.5 s and HOME, the mean of that smoothed chroma over
  every active frame so far (offline: over the whole track, so the first
  seconds differ and later ones converge).
- tension: the offline Sethares roughness of the 16 strongest peaks of the
  harmonic part of the mix (the split's 1 - P mask: the mix without the
  drums, as offline), on a 4096-sample window ending at the frame, every
  second frame, averaged over the last 0.25 s.
"""
from __future__ import annotations

import numpy as np
import scipy.fft

from ..analysis import tonal
from ..analysis.spectral import hann


class Harmony:
    def __init__(self, *, sr: int, n_fft: int, fps: float) -> None:
        self.sr, self.fps = sr, fps
        self.filters = tonal.chroma_filters(sr=sr, n_fft=n_fft).astype(np.float64)
        self.recent = np.zeros((3, 12))
        self.smooth_n = max(1, int(0.5 * fps))
        self.smooth_ring = np.zeros((self.smooth_n, 12))
        self.home_sum = np.zeros(12)
        self.home_n = 0
        self.rough_n = max(1, int(0.25 * fps))
        self.rough_ring = np.zeros(self.rough_n)
        self.win = hann(tonal.TENSION_N_FFT)
        n_bins = tonal.TENSION_N_FFT // 2 + 1
        self.bin_map = np.minimum(np.round(np.arange(n_bins) * (n_fft // 2) / (n_bins - 1)),
                                  n_fft // 2).astype(np.int64)
        self.i = 0
        self.rough = 0.0
        self.chroma = np.zeros(12)
        self.prev_chroma = np.zeros(12)

    def step(self, mix_mag: np.ndarray, active: bool, long_window: np.ndarray,
             harmonic_mask: np.ndarray) -> tuple[np.ndarray, float, float, float]:
        """-> (chroma (12,), tonal_distance, tension, chroma change) for this frame."""
        i = self.i
        self.recent[i % 3] = self.filters @ (mix_mag.astype(np.float64) ** 2)
        c = self.recent.mean(axis=0) if i >= 2 else self.recent[i % 3]
        peak = c.max()
        self.prev_chroma[:] = self.chroma
        self.chroma[:] = c / peak if (peak > 1e-12 and active) else 0.0
        change = float(np.abs(self.chroma - self.prev_chroma).sum())
        self.smooth_ring[i % self.smooth_n] = self.chroma
        smooth = self.smooth_ring.mean(axis=0) if i >= self.smooth_n else \
            self.smooth_ring[:i + 1].mean(axis=0)
        dist = 0.0
        if active:
            self.home_sum += smooth
            self.home_n += 1
            home = self.home_sum / self.home_n
            js = tonal.jensen_shannon((smooth + 1e-9)[:, None], home + 1e-9)
            dist = float(np.sqrt(js[0]))
        if i % tonal.TENSION_STEP == 0:
            self.rough = self._roughness(long_window, harmonic_mask) if active else 0.0
        self.rough_ring[i % self.rough_n] = self.rough
        n = min(i + 1, self.rough_n)
        tension = float(np.clip(self.rough_ring[:n].mean() / tonal.ROUGHNESS_FULL, 0, 1)) if active else 0.0
        self.i += 1
        return self.chroma, dist, tension, change

    def _roughness(self, window: np.ndarray, harmonic_mask: np.ndarray) -> float:
        spec = np.abs(scipy.fft.rfft(window * self.win)).astype(np.float32)
        spec *= harmonic_mask[self.bin_map]
        freqs, amps = tonal.spectral_peaks(spec[:, None], sr=self.sr, n_fft=tonal.TENSION_N_FFT)
        return float(tonal.sethares_pairs(freqs, amps)[0])

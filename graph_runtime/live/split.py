"""Causal stems: one STFT frame of the mix -> magnitudes of all ten stems.

The offline "approx" separator (analysis/stems.py) splits the mix by HPSS
and band weights, then its sub-bands by zero-phase LR4 crossovers
(analysis/crossover.py). Both act on magnitudes as per-bin weights, so live
we apply the same weights to one frame's spectrum instead of filtering
time signals:

- percussive mask P = p^2 / (h^2 + p^2) (Fitzgerald), where h is the median
  of the bin over the last HPSS_FRAMES frames (0.34 s) above SHORT_BELOW_HZ
  and the last HPSS_SHORT (0.18 s) below it, and p the median over 9 pooled
  bins of this frame. Causal: offline the window is centred, so live an
  onset is percussive at once and a held note turns harmonic after half the
  window: ~0.1 s below 4 kHz (notes), ~0.17 s above (where hats must stay
  percussive; a short window there lets their decay leak into other_high);
- the harmonic stems take the softer share S = h / (h + p) (exponent 1,
  where drums keep Fitzgerald's exponent 2): at a new note h (the median of
  past frames) is still low, and h/(h+p) >= h^2/(h^2+p^2) whenever h < p, so
  the note reaches bass/vocals/other at once instead of ~0.1 s late, which is
  what the offline (centred) median does. The stems then add up to a bit more
  than the mix at note onsets (P + S > 1 where h < p);
- bass = S x LR4 low-pass at 200 Hz; vocals = S x the 200 Hz-3.5 kHz
  band x centre-panning^2 (1 for a mono input); other = the rest of S;
- drums_low/mid/high and other_mid/high = the stems times the LR4 crossover
  magnitudes |H|^2 = 1/(1+(f/fc)^4), the zero-phase filter offline uses.

The mix column is the mid signal's magnitude itself, exactly as offline.
Shapes: spectra (n_bins,) complex; out magnitudes (n_bins, 10) float32 in
ALL_STEMS order.
"""
from __future__ import annotations

import numpy as np

from ..analysis.crossover import SUB_BANDS
from ..analysis.stems import BASS_HZ, VOICE_HI_HZ, lr4_weights
from ..analysis.store import ALL_STEMS

HPSS_FRAMES = 17      # frames of history for the harmonic median (0.34 s at 50 fps)
HPSS_SHORT = 9        # frames for the harmonic median below SHORT_BELOW_HZ (0.18 s)
SHORT_BELOW_HZ = 4000.0  # notes live below; hats above keep the long median
FREQ_KERNEL = 9       # pooled bins for the percussive median
FREQ_POOL = 2


class CausalSplit:
    def __init__(self, *, sr: int, n_fft: int) -> None:
        n_bins = n_fft // 2 + 1
        self.n_bins = n_bins
        freqs = np.arange(n_bins) * (sr / n_fft)
        self.w_bass = lr4_weights(freqs, BASS_HZ).astype(np.float32)
        self.w_voice = ((1.0 - self.w_bass) * lr4_weights(freqs, VOICE_HI_HZ)).astype(np.float32)
        d_names, d_cut = SUB_BANDS["drums"]
        o_names, o_cut = SUB_BANDS["other"]
        lo, hi = (lr4_weights(freqs, c).astype(np.float32) for c in d_cut)
        om = lr4_weights(freqs, o_cut[0]).astype(np.float32)
        self.sub = {"drums_low": lo, "drums_mid": (1 - lo) * hi, "drums_high": (1 - lo) * (1 - hi),
                    "other_mid": om, "other_high": 1 - om}
        self.col = {s: i for i, s in enumerate(ALL_STEMS)}
        self.pooled_bins = (n_bins // FREQ_POOL)
        pooled_hz = (np.arange(self.pooled_bins) * FREQ_POOL + 0.5 * (FREQ_POOL - 1)) * (sr / n_fft)
        self.short = pooled_hz < SHORT_BELOW_HZ        # (pooled_bins,) bool
        self.n_short = int(self.short.sum())
        self._back = np.arange(HPSS_SHORT)             # frames back from the newest
        self.history = np.zeros((HPSS_FRAMES, self.pooled_bins), np.float32)
        self.frames = 0
        self.p_mask = np.zeros(n_bins, np.float32)
        self.h_mask = np.zeros(n_bins, np.float32)     # h^2 / (h^2 + p^2): harmonic share per bin
        self.h_soft = np.zeros(n_bins, np.float32)     # h / (h + p): the harmonic stems' share
        self._soft_pooled = np.zeros(self.pooled_bins, np.float32)
        self.out = np.zeros((n_bins, len(ALL_STEMS)), np.float32)
        self._pad = np.zeros(self.pooled_bins + FREQ_KERNEL - 1, np.float32)

    def _masks(self, mag: np.ndarray) -> None:
        usable = self.pooled_bins * FREQ_POOL
        pooled = mag[:usable].reshape(-1, FREQ_POOL).mean(axis=1)
        self.history[self.frames % HPSS_FRAMES] = pooled
        self.frames += 1
        if self.frames >= HPSS_FRAMES:   # odd count: the middle element is the median
            harm = np.partition(self.history, HPSS_FRAMES // 2, axis=0)[HPSS_FRAMES // 2]
            # below SHORT_BELOW_HZ the last HPSS_SHORT frames only: a new note turns
            # harmonic after ~0.1 s instead of ~0.17 s
            rows = (self.frames - 1 - self._back) % HPSS_FRAMES
            recent = self.history[rows, :self.n_short]
            harm[:self.n_short] = np.partition(recent, HPSS_SHORT // 2, axis=0)[HPSS_SHORT // 2]
        else:
            harm = np.median(self.history[:self.frames], axis=0)
        h = FREQ_KERNEL // 2
        pad = self._pad
        pad[h:h + len(pooled)] = pooled
        pad[:h] = pooled[0]
        pad[h + len(pooled):] = pooled[-1]
        windows = np.lib.stride_tricks.sliding_window_view(pad, FREQ_KERNEL)
        perc = np.partition(windows, FREQ_KERNEL // 2, axis=1)[:, FREQ_KERNEL // 2]
        h2, p2 = harm * harm, perc * perc
        den = np.maximum(h2 + p2, 1e-20)
        p_pooled = p2 / den
        self.p_mask[:usable] = np.repeat(p_pooled, FREQ_POOL)
        self.p_mask[usable:] = p_pooled[-1]
        self.h_mask[:usable] = np.repeat(h2 / den, FREQ_POOL)
        self.h_mask[usable:] = self.h_mask[usable - 1]
        soft = self._soft_pooled
        np.add(harm, perc, out=soft)
        np.maximum(soft, 1e-10, out=soft)
        np.divide(harm, soft, out=soft)
        self.h_soft[:usable].reshape(-1, FREQ_POOL)[:] = soft[:, None]
        self.h_soft[usable:] = soft[-1]

    def split(self, left: np.ndarray, right: np.ndarray | None) -> np.ndarray:
        """Stem magnitudes (n_bins, 10) from the frame's spectra (right None: mono)."""
        mid = left if right is None else 0.5 * (left + right)
        mag = np.abs(mid).astype(np.float32)
        self._masks(mag)
        out, c = self.out, self.col
        harmonic = mag * self.h_soft
        if right is None:
            voice = self.w_voice
        else:
            num = 2.0 * np.abs(left * np.conj(right))
            den = np.abs(left) ** 2 + np.abs(right) ** 2
            centre = np.where(den > 1e-20, num / np.maximum(den, 1e-20), 1.0)
            voice = self.w_voice * (centre * centre).astype(np.float32)
        out[:, c["drums"]] = mag * self.p_mask
        out[:, c["bass"]] = harmonic * self.w_bass
        out[:, c["vocals"]] = harmonic * voice
        out[:, c["other"]] = harmonic * np.maximum(1.0 - self.w_bass - voice, 0.0)
        for name, w in self.sub.items():
            src = out[:, c["drums"] if name.startswith("drums") else c["other"]]
            out[:, c[name]] = src * w
        out[:, c["mix"]] = mag
        return out

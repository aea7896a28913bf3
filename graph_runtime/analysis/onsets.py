"""Transients: where the spectral flux peaks above its own running level.

A hit is a frame whose flux is the largest within +-40 ms, exceeds the
median of the surrounding 0.5 s by `delta`, exceeds an absolute floor, and
comes at least 50 ms after the previous hit. Flux is normalised to [0, 1]
per stem first, so delta and floor are fractions of the stem's loud hits.
"""
from __future__ import annotations

import numpy as np
import scipy.ndimage


def normalise_flux(flux: np.ndarray, active: np.ndarray, *, percentile: float = 99.0) -> np.ndarray:
    """Flux / its percentile over active frames, clipped to [0, 1]; 0 where inactive."""
    active = active.astype(bool)
    if not active.any():
        return np.zeros_like(flux, dtype=np.float32)
    ref = float(np.percentile(flux[active], percentile))
    if ref <= 1e-9:
        return np.zeros_like(flux, dtype=np.float32)
    return np.where(active, np.clip(flux / ref, 0.0, 1.0), 0.0).astype(np.float32)


def pick_peaks(flux: np.ndarray, *, fps: float, delta: float = 0.1, floor: float = 0.15,
               local_s: float = 0.04, median_s: float = 0.5, min_gap_s: float = 0.05) -> np.ndarray:
    """Transient mask (n_frames,) float32 in {0, 1} from a [0, 1] flux."""
    n = len(flux)
    out = np.zeros(n, np.float32)
    if n == 0:
        return out
    half = max(1, int(round(local_s * fps)))
    local_max = scipy.ndimage.maximum_filter1d(flux, size=2 * half + 1, mode="constant")
    med = scipy.ndimage.median_filter(flux, size=max(3, int(median_s * fps) | 1), mode="nearest")
    cand = np.flatnonzero((flux >= local_max) & (flux >= med + delta) & (flux >= floor))
    gap = max(1, int(round(min_gap_s * fps)))
    last = -gap
    for i in cand:
        if i - last >= gap:
            out[i] = 1.0
            last = i
    return out

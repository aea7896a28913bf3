"""Novelty at three timescales, and layer entries.

Novelty asks how different the next w/2 seconds sound from the last w/2:
the distance between the mean log-mel spectra (plus flux) of the two half
windows, a one-dimensional version of Foote's checkerboard kernel. The
windows scale with the tempo: 1 beat (fills, ornaments), 8 beats (phrases),
32 beats (sections, drops); at 120 BPM that is 0.5 s, 4 s, 16 s.

A layer entry is a stem arriving: it turns active after at least a second
of silence, or its phrase novelty peaks while it gets louder. Entries are
at least 500 ms apart.
"""
from __future__ import annotations

import numpy as np
import scipy.ndimage
import scipy.signal

NOVELTY_BEATS = {"novelty_short": 1.0, "novelty_medium": 8.0, "novelty_long": 32.0}
ENTRY_DEBOUNCE_S = 0.5
ENTRY_SILENCE_S = 1.0
ENTRY_NOVELTY = 0.5


def _window_means(x: np.ndarray, half: int) -> tuple[np.ndarray, np.ndarray]:
    """Means of x (d, n) over [t-half, t) and [t, t+half), edges shortened: (d, n) each."""
    d, n = x.shape
    c = np.concatenate([np.zeros((d, 1)), np.cumsum(x, axis=1)], axis=1)
    t = np.arange(n)
    lo, hi = np.maximum(t - half, 0), np.minimum(t + half, n)
    past = (c[:, t] - c[:, lo]) / np.maximum(t - lo, 1)
    future = (c[:, hi] - c[:, t]) / np.maximum(hi - t, 1)
    return past, future


def novelty_curve(features: np.ndarray, *, window_frames: int) -> np.ndarray:
    """Euclidean distance between future and past window means, (n_frames,)."""
    half = max(1, int(window_frames) // 2)
    past, future = _window_means(features.astype(np.float64), half)
    return np.sqrt(((future - past) ** 2).sum(axis=0))


def novelty_channels(features: np.ndarray, active: np.ndarray, *, fps: float,
                     bpm: float) -> dict[str, np.ndarray]:
    """novelty_short/medium/long, each (n_frames,) in [0, 1] (0 for a silent stem)."""
    beat_s = 60.0 / (bpm if bpm > 0 else 120.0)
    out = {}
    for name, beats in NOVELTY_BEATS.items():
        curve = novelty_curve(features, window_frames=int(round(beats * beat_s * fps)))
        out[name] = _unit(curve, active)
    return out


def _unit(curve: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Scale by the 99th percentile where the stem is active; clip to [0, 1]."""
    if not active.any():
        return np.zeros(len(curve), np.float32)
    ref = float(np.percentile(curve[active.astype(bool)], 99))
    if ref <= 1e-9:
        return np.zeros(len(curve), np.float32)
    return np.clip(curve / ref, 0.0, 1.0).astype(np.float32)


def layer_entries(active: np.ndarray, novelty_medium: np.ndarray, energy: np.ndarray,
                  *, fps: float) -> np.ndarray:
    """Layer entry pulses (n_frames,) in {0, 1}."""
    n = len(active)
    act = active.astype(bool)
    silence = int(ENTRY_SILENCE_S * fps)
    onsets = np.flatnonzero(act & ~np.concatenate([[False], act[:-1]]))
    cands = [int(i) for i in onsets if i == 0 and act[0] or i >= silence and not act[i - silence:i].any()]
    peaks, _ = scipy.signal.find_peaks(novelty_medium, height=ENTRY_NOVELTY,
                                       distance=max(1, int(ENTRY_DEBOUNCE_S * fps)))
    half = max(1, int(fps))  # louder over the next second than the last
    past, future = _window_means(energy[None].astype(np.float64), half)
    cands += [int(p) for p in peaks if act[p] and future[0, p] > 1.25 * past[0, p] + 1e-3]
    out = np.zeros(n, np.float32)
    gap = int(ENTRY_DEBOUNCE_S * fps)
    last = -gap
    for i in sorted(set(cands)):
        if i - last >= gap:
            out[i] = 1.0
            last = i
    return out


def novelty_features(logmel: np.ndarray, flux: np.ndarray) -> np.ndarray:
    """Stack a compact log-mel (d, n) with the flux (1, n), lightly smoothed."""
    feats = np.vstack([logmel, flux[None]])
    return scipy.ndimage.uniform_filter1d(feats, size=3, axis=1)

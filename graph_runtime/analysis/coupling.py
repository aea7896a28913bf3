"""How two stems play together, for every pair, on sliding windows of 8 beats.

- plv: phase-locking value (Lachaux 1999). Each envelope is band-passed
  around the beat rate (half to twice it), its phase taken from the Hilbert
  transform; plv = |mean exp(i (phase_a - phase_b))| over the window.
- envelope correlation: Pearson correlation of the two envelopes over the
  window, negative read as 0.
- onset synchrony: share of the two stems' transients that have one in the
  other stem within +-40 ms, over the window.
- lock_index = 0.4 correlation + 0.35 plv + 0.25 synchrony: above ~0.7 the
  pair is "in the pocket", below ~0.3 independent.
- call_response: exactly one of the two active (XOR), averaged over the window.

Where either stem is silent the pair is not locked: plv, correlation and
synchrony are weighted by the share of the window where both sound.
"""
from __future__ import annotations

import itertools

import numpy as np
import scipy.ndimage
import scipy.signal

WINDOW_BEATS = 8.0
W_CORR, W_PLV, W_SYNC = 0.4, 0.35, 0.25
SYNC_S = 0.04


def window_frames(*, bpm: float, fps: float) -> int:
    beat_s = 60.0 / (bpm if bpm > 0 else 120.0)
    return max(3, int(round(WINDOW_BEATS * beat_s * fps)))


def _moving_mean(x: np.ndarray, w: int) -> np.ndarray:
    """Centred moving mean of a real or complex (n,) array; edges average what exists."""
    n = len(x)
    c = np.concatenate([[0], np.cumsum(x)])
    t = np.arange(n)
    lo, hi = np.maximum(t - w // 2, 0), np.minimum(t - w // 2 + w, n)
    return (c[hi] - c[lo]) / np.maximum(hi - lo, 1)


def beat_phase(envelope: np.ndarray, *, bpm: float, fps: float) -> np.ndarray:
    """exp(i phase) of the envelope band-passed around the beat rate, (n,) complex."""
    n = len(envelope)
    beat_hz = (bpm if bpm > 0 else 120.0) / 60.0
    lo, hi = 0.5 * beat_hz, min(2.0 * beat_hz, 0.45 * fps)
    x = envelope.astype(np.float64) - envelope.mean()
    if n < 32 or not np.any(x):
        return np.zeros(n, complex)
    sos = scipy.signal.butter(2, [lo, hi], btype="band", fs=fps, output="sos")
    band = scipy.signal.sosfiltfilt(sos, x, padlen=min(3 * 9, n - 1))
    analytic = scipy.signal.hilbert(band)
    mag = np.abs(analytic)
    return np.where(mag > 1e-12, analytic / np.maximum(mag, 1e-12), 0.0)


def sliding_correlation(a: np.ndarray, b: np.ndarray, w: int) -> np.ndarray:
    """Pearson correlation over centred windows, (n,), 0 where either is flat."""
    ma, mb = _moving_mean(a, w), _moving_mean(b, w)
    cov = _moving_mean(a * b, w) - ma * mb
    va = np.maximum(_moving_mean(a * a, w) - ma ** 2, 0.0)
    vb = np.maximum(_moving_mean(b * b, w) - mb ** 2, 0.0)
    den = np.sqrt(va * vb)
    return np.where(den > 1e-9, cov / np.maximum(den, 1e-9), 0.0)


def onset_synchrony(ta: np.ndarray, tb: np.ndarray, w: int, *, fps: float) -> np.ndarray:
    """Share of transients matched in the other stem within +-SYNC_S, over windows."""
    reach = max(1, int(round(SYNC_S * fps)))
    near_a = scipy.ndimage.maximum_filter1d(ta, size=2 * reach + 1)
    near_b = scipy.ndimage.maximum_filter1d(tb, size=2 * reach + 1)
    matched = ta * near_b + tb * near_a
    total = _moving_mean(ta + tb, w)
    return np.where(total > 1e-9, _moving_mean(matched, w) / np.maximum(total, 1e-9), 0.0)


def pair_channels(a: dict, b: dict, *, w: int, fps: float) -> dict[str, np.ndarray]:
    """plv, lock_index, call_response for two stems' prepared signals."""
    both = _moving_mean(a["active"] * b["active"], w)
    plv = np.abs(_moving_mean(a["phase"] * np.conj(b["phase"]), w)) * both
    corr = np.clip(sliding_correlation(a["env"], b["env"], w), 0.0, 1.0) * both
    sync = onset_synchrony(a["onsets"], b["onsets"], w, fps=fps) * both
    xor = np.logical_xor(a["active"] > 0.5, b["active"] > 0.5).astype(np.float64)
    out = {
        "plv": plv,
        "lock_index": W_CORR * corr + W_PLV * plv + W_SYNC * sync,
        "call_response": _moving_mean(xor, w),
    }
    return {k: np.clip(v, 0.0, 1.0).astype(np.float32) for k, v in out.items()}


def all_pairs(stems: dict[str, dict[str, np.ndarray]], *, bpm: float, fps: float,
              pair_key) -> dict[str, np.ndarray]:
    """coupling/<a>+<b>/<channel> for every pair of `stems` (name -> its channels)."""
    w = window_frames(bpm=bpm, fps=fps)
    prepared = {
        name: {"env": ch["energy_smooth"].astype(np.float64),
               "active": ch["activity"].astype(np.float64),
               "onsets": ch["transient"].astype(np.float64),
               "phase": beat_phase(ch["energy_smooth"], bpm=bpm, fps=fps)}
        for name, ch in stems.items()
    }
    out: dict[str, np.ndarray] = {}
    for a, b in itertools.combinations(stems, 2):
        key = pair_key(a, b)
        first, second = key.split("+")
        for name, arr in pair_channels(prepared[first], prepared[second], w=w, fps=fps).items():
            out[f"coupling/{key}/{name}"] = arr
    return out

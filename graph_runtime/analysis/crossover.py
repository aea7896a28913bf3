"""Virtual sub-bands: Linkwitz-Riley 4th-order crossovers, zero-phase.

An LR4 low-pass has the magnitude of a 2nd-order Butterworth squared,
1 / (1 + (f/fc)^4). Running that Butterworth forwards and backwards
(sosfiltfilt) gives exactly this magnitude with zero phase: -6 dB at fc,
24 dB per octave beyond. The matching high-pass, (f/fc)^4 / (1 + (f/fc)^4),
is what the low-pass leaves, so each high band is computed as the
remainder: the bands sum back to the stem sample for sample, edges included.

drums  -> drums_low (kick) | drums_mid (snare, toms) | drums_high (hats, cymbals)
other  -> other_mid (guitars, keys)                  | other_high (shimmer, air)
"""
from __future__ import annotations

import numpy as np
import scipy.signal

# source stem -> ((band name, ...), (crossover Hz, ...)); len(names) == len(cutoffs) + 1
SUB_BANDS: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "drums": (("drums_low", "drums_mid", "drums_high"), (150.0, 5000.0)),
    "other": (("other_mid", "other_high"), (4000.0,)),
}


def lr4_lowpass(y: np.ndarray, *, sr: int, cutoff: float) -> np.ndarray:
    """Zero-phase LR4 low-pass of y (n_samples,) at cutoff Hz, float32."""
    y = np.asarray(y, dtype=np.float32)
    if len(y) == 0:
        return y.copy()
    sos = scipy.signal.butter(2, cutoff, btype="low", fs=sr, output="sos")
    padlen = min(3 * (2 * len(sos) + 1), len(y) - 1)
    return scipy.signal.sosfiltfilt(sos, y, padlen=max(padlen, 0)).astype(np.float32)


def split_bands(y: np.ndarray, *, sr: int, cutoffs: tuple[float, ...]) -> list[np.ndarray]:
    """Split y into len(cutoffs) + 1 bands, low to high; they sum to y.

    low = LP(c0) y; then the remainder is split at c1, and so on."""
    bands = []
    rest = np.asarray(y, dtype=np.float32)
    for c in sorted(cutoffs):
        low = lr4_lowpass(rest, sr=sr, cutoff=min(c, 0.45 * sr))
        bands.append(low)
        rest = rest - low
    bands.append(rest)
    return bands


def virtual_stems(stems: dict[str, np.ndarray], *, sr: int) -> dict[str, np.ndarray]:
    """The five sub-band stems from the drums and other stems: name -> (n_samples,)."""
    out: dict[str, np.ndarray] = {}
    for source, (names, cutoffs) in SUB_BANDS.items():
        if source not in stems:
            continue
        for name, band in zip(names, split_bands(stems[source], sr=sr, cutoffs=cutoffs)):
            out[name] = band
    return out

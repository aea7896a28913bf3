"""Per-frame spectral measures over a long spectrogram, a block of frames at a time.

spectral.rms, centroid, flatness, spectral_flux and harmonic_ratio make
full-size float64 temporaries of the magnitude they are given: on an hour
(513 bins x 180,000 frames) each is 740 MB, several at once. `framewise`
runs such a function on blocks of BLOCK frames, each with `context` frames
either side (clipped at the track's ends, so the ends see what they would on
the whole track), and keeps the block's own frames: equal to the whole-track
call wherever the function reaches no further than `context` frames.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

BLOCK = 8192          # frames (164 s at 50 fps): temporaries of ~35 MB per float64 copy


def framewise(fn: Callable[[np.ndarray], np.ndarray], magnitude: np.ndarray, *,
              context: int = 0, align: int = 1) -> np.ndarray:
    """fn(magnitude) -> (n_frames,), computed block by block.

    align: block starts are multiples of it (a function that pools frames in
    pairs needs 2, so its pairs fall where they would on the whole track)."""
    n = magnitude.shape[1]
    if n <= BLOCK + 2 * context:
        return fn(magnitude)
    context = -(-context // align) * align
    out = None
    for start in range(0, n, BLOCK):
        lo, hi = max(0, start - context), min(n, start + BLOCK + context)
        part = fn(magnitude[:, lo:hi])
        if out is None:
            out = np.empty(n, dtype=part.dtype)
        keep = min(BLOCK, n - start)
        out[start:start + keep] = part[start - lo:start - lo + keep]
    return out

"""Beats and downbeats in time order, always: the one rule every grid leaves through.

A tracker's refinements (sub-frame peaks, moving a beat back to its attack, a
half-beat shift, a user's nudge) can each move one beat past its neighbour or
onto it. Everything that hands beats on (the offline grid, Beat This!'s grid,
a correction, the live tracker's log, an Analysis from the cache) passes them
through strictly_increasing; downbeats through downbeats_on, so a downbeat
always sits on a kept beat. Times in seconds, float64.
"""
from __future__ import annotations

import numpy as np

MIN_BEAT_GAP_S = 0.1   # s: no metrical level people count has beats closer (600 BPM)


def strictly_increasing(times_s, *, min_gap_s: float = MIN_BEAT_GAP_S) -> np.ndarray:
    """The finite times (s) in order, each later than the one kept before it by
    more than min_gap_s; a time that is not (a beat moved back past its
    neighbour, a double) is dropped. (n,) -> (m <= n,) float64."""
    x = np.asarray(times_s, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return x.copy()
    keep = np.zeros(len(x), bool)
    last = -np.inf
    for i, t in enumerate(x):
        if t > last + min_gap_s:
            keep[i] = True
            last = t
    return x[keep]


def downbeats_on(beats_s: np.ndarray, downbeats_s, *, tolerance_s: float = 0.07) -> np.ndarray:
    """The downbeats (s) that fall on a kept beat (within tolerance_s), moved onto it,
    strictly increasing: after beats were dropped a downbeat never stands alone."""
    downs = strictly_increasing(downbeats_s, min_gap_s=MIN_BEAT_GAP_S)
    if len(beats_s) == 0 or len(downs) == 0:
        return np.zeros(0)
    j = np.clip(np.searchsorted(beats_s, downs), 1, max(1, len(beats_s) - 1))
    left = beats_s[j - 1] if len(beats_s) > 1 else beats_s[:1].repeat(len(downs))
    right = beats_s[np.minimum(j, len(beats_s) - 1)]
    near = np.where(np.abs(downs - left) <= np.abs(right - downs), left, right)
    on = near[np.abs(near - downs) <= tolerance_s]
    return strictly_increasing(on, min_gap_s=MIN_BEAT_GAP_S)

"""How a tracked grid fares against true beats, beyond the F-measure: when it
locked, how long it was off the beat afterwards, and how much of the time it
ran at the true beats' metrical level.

A true beat is "hit" when a tracked beat lies within WINDOW_S of it. The grid
is locked from the first true beat that starts a run of LOCK_BEATS hit beats;
time to lock is that beat's time (s from the start of the file, 0 = locked
from the first beat). Time off-beat is the time covered by true beats missed
after the lock (each counts its interval to the next true beat): a stretch on
the "and"s or at the wrong level shows up here, a single dropped beat barely.
Times in seconds.
"""
from __future__ import annotations

import numpy as np

WINDOW_S = 0.07
LOCK_BEATS = 8


def hits(truth_s, est_s, *, window_s: float = WINDOW_S) -> np.ndarray:
    """(n_truth,) bool: a tracked beat within window_s of each true beat."""
    truth = np.asarray(truth_s, np.float64)
    est = np.sort(np.asarray(est_s, np.float64))
    if len(truth) == 0 or len(est) == 0:
        return np.zeros(len(truth), bool)
    j = np.clip(np.searchsorted(est, truth), 1, max(1, len(est) - 1))
    near = np.minimum(np.abs(est[j - 1] - truth), np.abs(est[np.minimum(j, len(est) - 1)] - truth))
    return near <= window_s


def lock_index(hit: np.ndarray, *, run: int = LOCK_BEATS) -> int | None:
    """Index of the first true beat that starts `run` hits in a row; None if never."""
    count = 0
    for i, h in enumerate(hit):
        count = count + 1 if h else 0
        if count >= run:
            return i - run + 1
    return None


def lock_and_off_beat(truth_s, est_s) -> tuple[float | None, float]:
    """(time to lock in s, or None when it never locked; seconds off-beat after the lock)."""
    truth = np.asarray(truth_s, np.float64)
    hit = hits(truth, est_s)
    i = lock_index(hit, run=min(LOCK_BEATS, max(1, len(truth))))
    if i is None:
        return None, float(truth[-1] - truth[0]) if len(truth) > 1 else 0.0
    gaps = np.diff(truth, append=truth[-1] + (truth[-1] - truth[-2] if len(truth) > 1 else 0.0))
    missed = ~hit[i:]
    return float(truth[i]), float(gaps[i:][missed].sum())


LEVEL_TOL = 0.1     # relative: an interval within 10 % of the true one is at its level


def same_level_share(truth_s, est_s, *, after_s: float = 10.0, tol: float = LEVEL_TOL) -> float:
    """[0, 1]: the share of tracked inter-beat intervals (those ending after after_s) within
    tol of the true beats' interval at their midpoint. A clock at half or twice the
    tempo, or one wandering 15 % off it, counts as off the level for as long as it is;
    the tempo at the end of a track says nothing about the minute before. 0 when either
    grid has fewer than two beats there."""
    truth = np.asarray(truth_s, np.float64)
    est = np.sort(np.asarray(est_s, np.float64))
    est = est[est >= after_s]
    if len(truth) < 2 or len(est) < 2:
        return 0.0
    ibi = np.diff(est)
    mid = est[:-1] + ibi / 2
    k = np.clip(np.searchsorted(truth, mid), 1, len(truth) - 1)
    true_ibi = truth[k] - truth[k - 1]
    return float(np.mean(np.abs(np.log(ibi / true_ibi)) <= np.log1p(tol)))

"""The beat tracker's phase comb (live/comb.py): the score the lock reads, and no
array allocated per call (it runs every frame on the analysis thread)."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from graph_runtime.live.comb import MAX_PHASES, PhaseComb

RING = 1024


def direct(norm, i, tau, n_k, decay):
    """The comb written out: phase phi, beat k, the ring read between frames."""
    out = np.zeros(min(int(np.ceil(tau)), MAX_PHASES))
    for phi in range(len(out)):
        for k in range(n_k):
            pos = i - phi - k * tau
            lo = int(np.floor(pos))
            frac = pos - lo
            out[phi] += decay ** k * (norm[lo % RING] * (1 - frac) + norm[(lo + 1) % RING] * frac)
    return out


def test_the_comb_scores_each_phase_by_the_onsets_a_beat_apart():
    norm = np.random.default_rng(1).random(RING)
    comb = PhaseComb(8, 0.8)
    # one comb, called as the tracker calls it: tau moving, fewer beats while young,
    # the ring wrapped, a beat longer than MAX_PHASES frames
    for i, tau, n_k in [(300, 24.6, 5), (301, 24.61, 8), (1500, 31.25, 5), (2047, 40.0, 8),
                        (5000, 57.3, 3), (5001, 57.31, 8), (900, 80.0, 8), (90000, 25.0, 8)]:
        got = comb.score(norm, i, tau, n_k)
        assert got.shape == (min(int(np.ceil(tau)), MAX_PHASES),)
        assert np.allclose(got, direct(norm, i, tau, n_k, 0.8), rtol=1e-9, atol=1e-9), (i, tau, n_k)


def test_a_frame_allocates_no_array():
    norm = np.random.default_rng(0).random(RING)
    comb = PhaseComb(8, 0.8)
    comb.score(norm, 2000, 60.4, 8)                    # first call: the views for 61 phases
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for j in range(100):                           # the period moves a little each frame
            comb.score(norm, 2001 + j, 60.4 + 1e-3 * j, 8)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # one (16, 61) array would be 7.8 kB (the comb written with NumPy temporaries: ~28 kB)
    assert peak - before < 2048, peak - before


@pytest.mark.parametrize("n_k", [5, 8])
def test_the_tracker_reads_the_same_comb(n_k):
    from graph_runtime.live.beat_tracker import COMB_DECAY, OnlineBeatTracker
    tr = OnlineBeatTracker(fps=50.0)
    tr.norm[:] = np.random.default_rng(n_k).random(len(tr.norm))
    tr.i = 4321
    assert np.allclose(tr._comb(33.3, n_k), direct(tr.norm, 4321, 33.3, n_k, COMB_DECAY), atol=1e-9)

"""beat_eval.same_level_share: how much of a track a tracked grid ran at the true level."""
import numpy as np
import pytest

from graph_runtime.analysis.beat_eval import same_level_share

TRUTH = np.arange(0.3, 90.0, 0.5)          # 120 BPM for 90 s


def test_a_grid_on_the_beat_is_at_the_level_throughout():
    jitter = np.random.default_rng(1).normal(0.0, 0.01, len(TRUTH))
    assert same_level_share(TRUTH, TRUTH + jitter) == 1.0


def test_a_clock_at_half_tempo_for_part_of_the_track_counts_for_that_part():
    # at 60 BPM until 50 s, then on the beat: the tempo at the end would say "same octave"
    est = np.concatenate([np.arange(0.3, 50.0, 1.0), TRUTH[TRUTH >= 50.0]])
    share = same_level_share(TRUTH, est)
    assert share == pytest.approx(80 / (40 + 80), abs=0.02)   # 40 slow intervals, 80 on the level


def test_a_clock_wandering_off_the_tempo_is_off_the_level_and_early_beats_do_not_count():
    assert same_level_share(TRUTH, np.arange(0.3, 90.0, 0.5 * 1.15)) == 0.0
    assert same_level_share(TRUTH, np.arange(0.3, 90.0, 0.5 * 1.08)) == 1.0
    early_only = np.arange(0.3, 9.9, 0.5)
    assert same_level_share(TRUTH, early_only) == 0.0
    assert same_level_share([1.0], TRUTH) == 0.0

"""Meter logic (analysis/meter.py), tempo candidates and the Beat This! check, on
hand-made beat features and one rendered case."""
from __future__ import annotations

import beat_cases
import numpy as np
import pytest

from graph_runtime.analysis import beat_grid, meter, spectral, tempo_level


def bar_features(n_beats: int, bpb: int, first: int, *, seed: int = 0, noise: float = 0.3):
    """(n_beats, len(FEATURES)): kick and chord change on each bar's first beat."""
    rng = np.random.default_rng(seed)
    f = rng.random((n_beats, len(meter.FEATURES))) * noise
    ones = np.arange(first, n_beats, bpb)
    f[ones, meter.FEATURES.index("low")] += 1.0
    f[ones, meter.FEATURES.index("harmony")] += 1.0
    return f


@pytest.mark.parametrize("bpb, first", [(4, 0), (4, 3), (3, 1), (2, 1)])
def test_meter_and_phase_from_bar_marks(bpb, first):
    m = meter.estimate_meter(bar_features(48, bpb, first))
    assert (m.beats_per_bar, m.first_downbeat) == (bpb, first)
    assert m.confidence > 0.5
    assert list(m.downbeat_indices(48)) == list(range(first, 48, bpb))


def test_kick_on_1_and_3_is_settled_by_the_chord_change():
    f = bar_features(48, 4, 2, noise=0.1)
    low = meter.FEATURES.index("low")
    f[np.arange(0, 48, 4), low] += 1.0          # the kick on 3 as loud as on 1
    m = meter.estimate_meter(f)
    assert (m.beats_per_bar, m.first_downbeat) == (4, 2)


def test_no_evidence_means_low_confidence():
    # the five drum-logic features drawn as before "held" was added (a sixth column
    # drawn in the same call reshuffles them), and "held" as noise of its own
    f = np.random.default_rng(1).random((48, 5))
    f = np.column_stack([f, np.random.default_rng(2).random((48, len(meter.FEATURES) - 5))])
    m = meter.estimate_meter(f)
    assert m.confidence < 0.5


def test_a_causal_window_counts_from_its_own_first_beat():
    """The live tracker passes the last beats: the phase is relative to the window,
    and no start prior pulls it to the window's first beat."""
    f = bar_features(64, 4, 0)
    for start in (37, 38, 41):
        m = meter.estimate_meter(f[start:start + 16])
        assert (start + m.first_downbeat) % 4 == 0


def test_local_confidence_falls_where_the_bar_is_unclear():
    f = bar_features(96, 4, 0, noise=0.2)
    f[40:56] = np.random.default_rng(2).random((16, f.shape[1]))   # four bars of no bar marks
    m = meter.estimate_meter(f)
    conf = meter.local_confidence(f, m, bars=1)
    assert conf.shape == (96,) and 0.0 <= conf.min() and conf.max() <= 1.0
    assert conf[44:52].mean() < conf[8:32].mean() - 0.3


def test_check_downbeats_scores_the_given_phase():
    f = bar_features(48, 4, 1)
    assert meter.check_downbeats(f, 4, 1) > 0.5
    assert meter.check_downbeats(f, 4, 3) == 0.0


def test_given_meter_reads_beat_this_downbeats():
    b = np.arange(40) * 0.5
    assert beat_grid.given_meter(b, b[2::3]) == (3, 2)
    assert beat_grid.given_meter(b, b[1::4]) == (4, 1)
    assert beat_grid.given_meter(b, np.zeros(0)) == (4, 0)


@pytest.fixture(scope="module")
def waltz():
    y, truth = beat_cases.make("waltz_3_4_150", 10.0)
    return spectral.stft_magnitude(y), truth


def test_beat_this_path_keeps_its_grid_and_checks_the_downbeats(waltz):
    """check_grid: what the pipeline runs on Beat This!'s output (no checkpoint
    needed here: the truth plays Beat This!)."""
    mag, truth = waltz
    b, d = np.asarray(truth["beats"]), np.asarray(truth["downbeats"])
    good = beat_grid.check_grid(b, d, mag, sr=spectral.ANALYSIS_SR, fps=spectral.FPS)
    assert np.array_equal(good.beats, b) and np.array_equal(good.downbeats, d)
    assert good.beats_per_bar == 3 and good.downbeat_confidence > 0.5
    assert good.meta()["downbeat_check"]["agrees"] is True
    wrong = beat_grid.check_grid(b, b[(list(b).index(d[0]) + 1)::3], mag,
                                 sr=spectral.ANALYSIS_SR, fps=spectral.FPS)
    assert wrong.meta()["downbeat_check"]["agrees"] is False
    assert wrong.downbeat_confidence < 0.2


def test_tempo_candidates_offer_double_and_half(waltz):
    mag, truth = waltz
    onset = beat_grid.Envelopes.of(mag, sr=spectral.ANALYSIS_SR, chroma=None).onset
    cands = tempo_level.tempo_candidates(onset, 150.0, fps=spectral.FPS)
    by_ratio = {c["ratio"]: c for c in cands}
    assert {"x1", "x2", "/2"} <= set(by_ratio)
    assert by_ratio["x2"]["bpm"] == pytest.approx(300.0) and by_ratio["/2"]["bpm"] == pytest.approx(75.0)
    assert sum(c["score"] for c in cands) == pytest.approx(1.0, abs=1e-3)
    assert [c["chosen"] for c in cands].count(True) == 1 and by_ratio["x1"]["chosen"]
    assert cands == sorted(cands, key=lambda c: -c["score"])
    assert by_ratio["x1"]["score"] > by_ratio["x2"]["score"]


def test_half_beats_played_on_tracked_beats():
    onset = np.zeros(1000, np.float32)
    beats_f = np.arange(10, 990, 50.0)
    onset[beats_f.astype(int)] = 3.0
    assert not tempo_level.half_beats_played(onset, beats_f)
    onset[(beats_f[:-1] + 25).astype(int)] = 1.5                  # the "and"s are played
    assert tempo_level.half_beats_played(onset, beats_f)


def test_given_downbeats_in_a_meter_the_bar_logic_does_not_estimate_are_checked_not_refused():
    """Beat This! (or a user) may say every beat is a downbeat (1 beat per bar) or
    give 7/8: the check scores that meter too instead of failing the analysis."""
    from graph_runtime.analysis import meter

    feats = np.random.default_rng(0).random((32, len(meter.FEATURES)))
    for bpb in (1, 7):
        conf = meter.check_downbeats(feats, bpb, 0)
        assert 0.0 <= conf <= 1.0

"""The beat grid on short hard cases with known truth (tests/support/beat_cases.py).

One case per failure class of the beat grid: the metrical level on syncopated and
half-time grooves, the downbeat phase (kick on 1 and 3 after a pickup, swing,
no drums), the meter (3/4 vs 4/4), tempo that moves (ramp, rubato), and
beats through reverb, noise and humanised timing. Each case is rendered to a
file and run through the bench's path (load, spectra, chroma, track_grid:
the functions the pipeline's beat stage calls).
"""
from __future__ import annotations

import beat_cases
import mir_eval
import numpy as np
import pytest

from hambajuba_nodes.cli.beats import grid_of

SECONDS = 12.0


def f_measure(ref, est) -> float:
    return mir_eval.beat.f_measure(mir_eval.beat.trim_beats(np.asarray(ref)),
                                   mir_eval.beat.trim_beats(np.asarray(est)))


@pytest.fixture(scope="module")
def grids(tmp_path_factory):
    """case -> (truth, (beats, downbeats, bpm, beats_per_bar, bpm_range)), rendered once."""
    folder = tmp_path_factory.mktemp("beat-cases")
    cache = {}

    def get(name: str, seconds: float = SECONDS):
        if (name, seconds) not in cache:
            path = beat_cases.write_case(str(folder / f"{seconds:g}"), name, seconds)
            _, truth = beat_cases.make(name, seconds)
            cache[(name, seconds)] = truth, grid_of(f"{path}/mix.flac", full=False)
        return cache[(name, seconds)]
    return get


@pytest.mark.parametrize("name, bpm", [("syncopated_124", 124.0), ("halftime_140", 140.0)])
def test_quarter_note_level_on_syncopated_and_half_time_grooves(grids, name, bpm):
    truth, (beats_s, downs, found_bpm, bpb, _) = grids(name)
    assert found_bpm == pytest.approx(bpm, rel=0.03), (name, found_bpm)
    assert f_measure(truth["beats"], beats_s) >= 0.9
    assert f_measure(truth["downbeats"], downs) >= 0.9
    assert bpb == 4


@pytest.mark.parametrize("name", ["kick_1_3_pickup_118", "swing_110", "no_drums_96",
                                  "choir_strings_100", "humanized_128"])
def test_downbeat_phase_and_four_four(grids, name):
    """The one is found after a pickup, with the kick on 1 and 3, swung, and without drums."""
    truth, (beats_s, downs, _, bpb, _) = grids(name)
    assert bpb == 4, name
    assert f_measure(truth["beats"], beats_s) >= 0.9, name
    assert f_measure(truth["downbeats"], downs) >= 0.9, name
    # the phase, beat by beat: every found downbeat is a true downbeat
    true_downs = np.asarray(truth["downbeats"])
    near = [np.min(np.abs(true_downs - d)) < 0.07 for d in downs if d > 1.0]
    assert np.mean(near) >= 0.9, name


def test_three_four_is_three(grids):
    truth, (beats_s, downs, bpm, bpb, _) = grids("waltz_3_4_150")
    assert bpb == 3
    assert bpm == pytest.approx(150.0, rel=0.03)
    assert f_measure(truth["downbeats"], downs) >= 0.9


@pytest.mark.parametrize("name", ["reverb_noise_120", "humanized_128"])
def test_beats_through_reverb_noise_and_humanised_timing(grids, name):
    truth, (beats_s, _, bpm, _, _) = grids(name)
    assert f_measure(truth["beats"], beats_s) >= 0.95, name
    assert bpm == pytest.approx(truth["bpm"], rel=0.03), name


def test_ramp_bpm_is_the_median_tempo_and_the_range_spans_the_ramp(grids):
    truth, (beats_s, _, bpm, _, bpm_range) = grids("ramp_100_130", 20.0)
    assert f_measure(truth["beats"], beats_s) >= 0.95
    assert bpm == pytest.approx(truth["bpm"], rel=0.03)         # median, not one end
    lo, hi = bpm_range
    assert lo == pytest.approx(truth["tempo_min"], rel=0.05)
    assert hi == pytest.approx(truth["tempo_max"], rel=0.05)


def test_bpm_local_follows_rubato(grids):
    """global/bpm_local (beats.local_bpm_channel) against the true tempo, beat by beat."""
    from graph_runtime.analysis import beats
    truth, (beats_s, _, bpm, _, _) = grids("rubato_84", 20.0)
    assert f_measure(truth["beats"], beats_s) >= 0.95
    true_b = np.asarray(truth["beats"])
    mids = (true_b[1:] + true_b[:-1]) / 2
    true_local = 60.0 / np.diff(true_b)
    found_local = beats.local_bpm_channel(mids, beats_s)
    inside = (mids > beats_s[1]) & (mids < beats_s[-2])
    assert np.corrcoef(true_local[inside], found_local[inside])[0, 1] > 0.6
    assert np.median(np.abs(found_local[inside] / true_local[inside] - 1)) < 0.04
    assert bpm == pytest.approx(truth["bpm"], rel=0.03)

"""The offline metrical level on generated material the grid was not tuned on.

Each case failed before (the figure in the docstring): a fast half-time groove
read at half tempo, a syncopated kick's 3:2 level or its double winning the
walk, and a weak pulse in noise (what orchestral recordings look like to the
onset envelope) read at a level the walk stepped to on nothing. Cases go
through the bench's path (grid_of: load, spectra, chroma, track_grid).
"""
from __future__ import annotations

import beat_cases
import mir_eval
import numpy as np
import pytest

from graph_runtime.analysis import tempo_level
from hambajuba_nodes.cli.beats import grid_of

SECONDS = 16.0
FPS = 50.0


def f_measure(ref, est) -> float:
    return mir_eval.beat.f_measure(mir_eval.beat.trim_beats(np.asarray(ref)),
                                   mir_eval.beat.trim_beats(np.asarray(est)))


def run(tmp_path, name: str, *, seed: int, scale: float, seconds: float = SECONDS):
    path = beat_cases.write_case(str(tmp_path), name, seconds, seed=seed, tempo_scale=scale)
    _, truth = beat_cases.make(name, seconds, seed=seed, tempo_scale=scale)
    return truth, grid_of(f"{path}/mix.flac", full=False)


@pytest.mark.parametrize("scale", [1.05, 1.1, 1.2])
def test_fast_half_time_counts_quarter_notes_when_the_hats_play_eighths(tmp_path, scale):
    """147-168 BPM, kick on 1, snare on 3, hats in eighths: read at 73-84 before."""
    truth, (beats_s, downs, bpm, bpb, _) = run(tmp_path, "halftime_140", seed=41, scale=scale)
    assert bpm == pytest.approx(truth["bpm"], rel=0.02), bpm
    assert f_measure(truth["beats"], beats_s) >= 0.9      # 0.67 at half tempo
    assert f_measure(truth["downbeats"], downs) >= 0.9
    assert bpb == 4


def test_slower_half_time_is_left_at_its_tempo(tmp_path):
    """At 98 BPM the same pattern's count stays 98 (its double, 196, is not counted)."""
    truth, (beats_s, _, bpm, _, _) = run(tmp_path, "halftime_140", seed=41, scale=0.7)
    assert bpm == pytest.approx(truth["bpm"], rel=0.02), bpm
    assert f_measure(truth["beats"], beats_s) >= 0.95


@pytest.mark.parametrize("scale", [0.8, 1.07])
def test_syncopated_kick_keeps_the_quarter_note_level(tmp_path, scale):
    """Read at 199 BPM (x2) at 0.8 and 88 BPM (x2/3) at 1.07 before (22 s, as the bench)."""
    truth, (beats_s, downs, bpm, _, _) = run(tmp_path, "syncopated_124", seed=11, scale=scale,
                                             seconds=22.0)
    assert bpm == pytest.approx(truth["bpm"], rel=0.02), bpm
    assert f_measure(truth["beats"], beats_s) >= 0.9       # 0.36 and 0.67 before
    assert f_measure(truth["downbeats"], downs) >= 0.9


def weak_pulse(bpm: float, seconds: float = 40.0, seed: int = 0) -> np.ndarray:
    """An onset envelope (unit std) with a soft pulse at `bpm` buried in noise bursts."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FPS)
    onset = np.abs(rng.standard_normal(n)) * (rng.random(n) < 0.1) * 2.0
    for t in np.arange(0.0, seconds, 60.0 / bpm):
        k = int(round(t * FPS + rng.normal(0, 0.3)))
        if k < n:
            onset[k] += 2.0
    return (onset / onset.std()).astype(np.float32)


def test_a_weak_pulse_in_noise_replaces_an_unrelated_walk_level():
    """The walk's x3 step on noise (81 BPM for a 115 BPM pulse) gives way to the comb."""
    onset = weak_pulse(115.0)
    bpm, replaced = tempo_level.settle_level(onset, 81.7, fps=FPS)
    assert replaced and bpm == pytest.approx(115.0, rel=0.02), bpm


def test_an_octave_of_the_pulse_is_the_walk_s_choice_and_kept():
    """A half-time reading the walk chose on purpose stays: only unrelated levels are replaced."""
    onset = weak_pulse(115.0)
    assert tempo_level.settle_level(onset, 57.5, fps=FPS) == (57.5, False)
    assert tempo_level.settle_level(onset, 115.0, fps=FPS)[1] is False


def steep_ramp_without_drums(n: int):
    """Piano chords and a bass on every beat, 80 -> 160 BPM over the case (4/4)."""
    s = beat_cases.Score(4, n, pickup=0)
    beat_cases.add_harmony(s, chord_kind="piano", vel=0.4, bass_every_beat=True)
    return s, dict(tempo=np.linspace(80.0, 160.0, n))


def test_a_steep_ramp_without_drums_is_followed_to_its_end(tmp_path, monkeypatch):
    """The tempo path keeps the metrical level without pinning the tempo: 0.81 beat F1
    when the prior held the path within ~20 % of the track's median tempo."""
    monkeypatch.setitem(beat_cases.CASES, "steep_ramp", steep_ramp_without_drums)
    truth, (beats_s, downs, _, bpb, _) = run(tmp_path, "steep_ramp", seed=0, scale=1.0, seconds=22.0)
    assert f_measure(truth["beats"], beats_s) >= 0.95
    assert f_measure(truth["downbeats"], downs) >= 0.9 and bpb == 4


def tresillo_in_four(bpm: float, seconds: float = 40.0, seed: int = 0) -> np.ndarray:
    """An onset envelope (unit std) of a 4/4 bar whose loudest hits play 3+3+2 eighths
    (beats 1, the "and" of 2, 4) over softer hits on beats 2 and 3, in noise bursts:
    the loud figure repeats every 1.5 beats, the bar every four."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FPS)
    onset = np.abs(rng.standard_normal(n)) * (rng.random(n) < 0.1)
    eighth = 30.0 / bpm
    for bar in np.arange(0.0, seconds, 8 * eighth):
        for j, w in ((0, 3.0), (3, 3.0), (6, 3.0), (2, 1.2), (4, 1.2)):
            k = int(round((bar + j * eighth) * FPS + rng.normal(0, 0.3)))
            if k < n:
                onset[k] += w
    return (onset / onset.std()).astype(np.float32)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_3_3_2_figure_keeps_the_beat_the_bar_of_four_repeats_on(seed):
    """The comb reaches the bar (four beats), which repeats on the beat's comb and not
    on the dotted-quarter level's: 140 BPM was replaced by 93.5 (2/3) on seeds 0 and 1
    when the comb stopped at three beats."""
    onset = tresillo_in_four(140.0, seed=seed)
    assert tempo_level.settle_level(onset, 140.0, fps=FPS) == (140.0, False)
    assert tempo_level.comb_level(onset, fps=FPS)[0] == pytest.approx(140.0, rel=0.02)

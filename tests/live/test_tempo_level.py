"""The live metrical level (live/tempo.py) and the live bar (live/downbeat.py) on
onset patterns with a known answer."""
import numpy as np
import pytest
from live_helpers import pulses

from graph_runtime.analysis import meter, tempo_level
from graph_runtime.live import tempo
from graph_runtime.live.downbeat import BarTracker

FPS = 50.0


def test_normalise_matches_the_offline_onset_scale():
    rng = np.random.default_rng(0)
    flux = rng.random(400) ** 4 + pulses(400, 25.0, 3.0)
    out = tempo.normalise(flux, fps=FPS)
    assert out.min() >= 0.0 and out.std() == pytest.approx(1.0)
    assert not tempo.normalise(np.full(400, 2.0), fps=FPS).any()     # flat: zeros, no NaN


def test_the_same_window_gives_the_offline_level():
    rng = np.random.default_rng(1)
    onset = tempo.normalise(rng.random(400) ** 4 + pulses(400, 24.2, 2.0), fps=FPS)
    bpm, conf, acf = tempo.estimate(onset, onset, fps=FPS)
    assert (bpm, conf) == pytest.approx(tempo_level.choose_level(onset, fps=FPS, accent=onset))
    assert bpm == pytest.approx(124.0, rel=0.03) and 0.0 < tempo.support(acf, 24.2) <= 1.0


def test_half_time_pattern_keeps_the_quarter_level_and_a_slow_one_stays_slow():
    # kick and snare every 2 beats of 140 BPM (a half-time reading is 70) with quieter
    # hats on the beats in between: the quarter level, whether the tracker runs at 70
    # (its half-beats are played) or at 140 already
    n, beat = 400, 60.0 * FPS / 140.0
    x = pulses(n, 2 * beat, 3.0) + pulses(n, 2 * beat, 0.8, phase=beat)
    onset = tempo.normalise(x, fps=FPS)
    for tracked in (np.arange(0.0, n - 1, 2 * beat), np.arange(0.0, n - 1, beat)):
        bpm, _, _ = tempo.estimate(onset, onset, fps=FPS, beat_frames=tracked)
        assert bpm == pytest.approx(140.0, rel=0.03)
    # nothing between the beats of a 66 BPM pulse: no doubling
    slow = 60.0 * FPS / 66.0
    onset = tempo.normalise(pulses(n, slow, 3.0), fps=FPS)
    bpm, _, _ = tempo.estimate(onset, onset, fps=FPS, beat_frames=np.arange(0.0, n - 1, slow))
    assert bpm == pytest.approx(66.0, rel=0.03)


def test_octave_apart():
    assert tempo.octave_apart(0.5, 1.0) and tempo.octave_apart(0.97, 0.5)
    assert not tempo.octave_apart(2 / 3, 1.0) and not tempo.octave_apart(1.0, 1.0)


def _bar_features(n_beats, ones_at, bpb=4):
    """Features of n_beats beats whose downbeats are at beat index ones_at (mod bpb):
    a low-band hit and a chord change on each one, small noise elsewhere."""
    rng = np.random.default_rng(ones_at)
    f = rng.random((n_beats, len(meter.FEATURES))) * 0.2
    ones = (np.arange(n_beats) - ones_at) % bpb == 0
    f[ones, 0] += 1.0
    f[ones, 1] += 1.0
    return f


def test_bar_is_found_and_held_by_its_anchor_while_beats_go_by():
    bars = BarTracker()
    for k in range(6):                       # a 32-beat window every 8 beats; ones on index 2 mod 4
        first = 8 * k
        bars.update(_bar_features(32, (2 - first) % 4), first)
    assert (bars.meter, bars.anchor) == (4, 2)
    assert bars.bar_pos(2) == 0 and bars.bar_pos(41) == 3
    assert bars.confidence > 0.5


def test_one_contrary_window_does_not_move_the_bar():
    bars = BarTracker()
    for k in range(6):
        bars.update(_bar_features(32, 0), 4 * k * 4)
    bars.update(_bar_features(32, 2), 100)   # one window that hears the ones on 3
    assert (bars.meter, bars.anchor) == (4, 0)
    for k in range(8):                       # evidence that keeps coming moves it
        bars.update(_bar_features(32, 2), 104 + 4 * k)
    assert (bars.meter, bars.anchor % 4) == (4, 2)


def test_reset_forgets_the_bar_and_its_confidence():
    bars = BarTracker()
    bars.start_index = 3
    bars.update(_bar_features(32, 0), 0)
    bars.reset()
    assert bars.confidence == 0.0 and bars.seen == 0 and bars.start_index is None


def test_a_fast_half_time_feel_counts_its_quarters_and_a_slow_groove_stays():
    # 150 BPM with the snare on 3 (accents every 2 beats read as 75, inside the counted
    # range) and hats on every eighth of 150: tracked at 75, the quarters of the 75
    # level are all played, so the level is 150
    n, beat = 400, 60.0 * FPS / 150.0
    x = (pulses(n, 4 * beat, 3.0) + pulses(n, 4 * beat, 2.5, phase=2 * beat)
         + pulses(n, beat / 2, 0.8, phase=beat / 2))
    onset = tempo.normalise(x, fps=FPS)
    tracked = np.arange(0.0, n - 1, 2 * beat)
    bpm, _, _ = tempo.estimate(onset, onset, fps=FPS, beat_frames=tracked)
    assert bpm == pytest.approx(150.0, rel=0.03)
    # a 75 BPM groove with nothing on its quarters (only the backbeat and the "and"s): stays
    y = pulses(n, 2 * beat, 3.0) + pulses(n, 2 * beat, 1.5, phase=beat)
    onset = tempo.normalise(y, fps=FPS)
    assert not tempo.eighths_played(onset, tracked)


def _chorded_melody(n_beats, ones_at, bpb):
    """Beat-synchronous chroma (n_beats, 12): a chord held for each bar (C G Am F, the
    bar's ones at index ones_at mod bpb) under a melody that moves on every beat."""
    chords = ((0, 4, 7), (7, 11, 2), (9, 0, 4), (5, 9, 0))
    rows = np.zeros((n_beats, 12))
    for k in range(n_beats):
        bar = (k - ones_at) // bpb
        for pc in chords[bar % 4]:
            rows[k, pc] += 0.6
        rows[k, (2 * k + 1) % 12] += 1.0           # the tune, a new note every beat
    return rows


@pytest.mark.parametrize("bpb, ones_at", [(4, 0), (4, 3), (3, 1)])
def test_the_bar_long_chord_change_finds_the_one_under_a_moving_melody(bpb, ones_at):
    from graph_runtime.live.downbeat import bar_novelty
    rows = _chorded_melody(32, ones_at, bpb)
    nov = bar_novelty(rows, bpb)
    assert int(np.argmax(nov)) == ones_at % bpb
    assert bar_novelty(rows[: 3 * bpb - 1], bpb) is None       # under a bar each side: nothing


def test_the_bar_tracker_takes_the_chords_when_the_rhythm_is_even():
    bars = BarTracker()
    rng = np.random.default_rng(3)
    for k in range(6):                                         # a flat rhythm: the chords decide
        first = 4 * k
        feats = rng.random((32, len(meter.FEATURES))) * 0.05
        bars.update(feats, first, chroma=_chorded_melody(32, (1 - first) % 4, 4))
    assert (bars.meter, bars.anchor % 4) == (4, 1)


@pytest.mark.parametrize("meter, moves", [(4, (1, 2, 3)), (3, (1, 2))])
def test_a_moving_bar_phase_never_doubles_nor_drops_a_downbeat(meter, moves):
    from graph_runtime.live.beat_tracker import OnlineBeatTracker
    tr = OnlineBeatTracker(fps=FPS)
    tr.bars.meter = meter
    downs = []
    n = 12 * meter * len(moves)
    for k in range(n + 3 * meter):
        if k < n and k % (3 * meter) == 3 * meter - 1:    # the bar's phase moves, mid-bar
            tr.bars.anchor += moves[(k // (3 * meter)) % len(moves)]
        tr.beat_index = k
        if tr._bar_line():
            downs.append(k)
    gaps = np.diff(downs)
    assert gaps.min() >= 2 and gaps.max() <= meter
    assert (np.array(downs[-3:]) - tr.bars.anchor) % meter == pytest.approx(0)   # it follows the bar

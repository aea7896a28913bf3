"""A song cut straight into another, no silence between (live/song_change.py): a DJ's
cut, a band going straight into the next number. Before, the settled clock of the
first song held: the second's beats were found 10 s after the cut or never (half
a beat off for good). Now a tempo estimate whose 8 s and 4 s windows agree on a tempo
10 % or more from the clock's (not an octave), where the 4 s window repeats clearly
better there and the clock's beats have lost their onsets, starts a new tracker on
the last 4 s it heard; its music begins with them (the on-beat check and the bar read
them), and its first beat is not taken as a one.

Through the path a live input and `analyze --live` use: the file in 10 ms blocks into
the causal analyser, on hard cases with exact truth (tests/support/beat_cases.py).
"""
from __future__ import annotations

import beat_cases
import numpy as np
import pytest
import soundfile as sf

FIRST_S = 12.0


def _live(tmp_path, y, name="set.wav"):
    from graph_runtime.live.replay import analyse_file
    path = tmp_path / name
    sf.write(path, y, beat_cases.SR)
    return analyse_file(str(path))


def _cut(tmp_path, first, second):
    """(the take, the second song's truth, the take's beats and downbeats from the cut on in
    the second song's time): FIRST_S of `first`, then `second` from its start (20 s)."""
    a, _ = beat_cases.make(first, FIRST_S + 1.0)
    b, truth = beat_cases.make(second, 20.0)
    take = _live(tmp_path, np.concatenate([a[:int(FIRST_S * beat_cases.SR)], b]))
    later = take.beats[take.beats >= FIRST_S] - FIRST_S
    downs = take.downbeats[take.downbeats >= FIRST_S] - FIRST_S
    return take, truth, later, downs


def _f1(ref, est, lo):
    import mir_eval
    ref, est = np.asarray(ref), np.asarray(est)
    return mir_eval.beat.f_measure(ref[ref >= lo], est[est >= lo], 0.07)


@pytest.mark.parametrize("first,second", [("halftime_140", "no_drums_96"),
                                          ("swing_110", "waltz_3_4_150")])
def test_a_song_cut_straight_in_gets_a_new_tracker(tmp_path, first, second):
    take, truth, later, _ = _cut(tmp_path, first, second)
    assert take.meta["songs_cut_in"] == 1
    assert _f1(truth["beats"], later, 5.0) >= 0.9          # on the new song's beat from its 5th s (was 0.73-0.74)
    assert abs(take.bpm / truth["bpm"] - 1.0) <= 0.02
    gaps = np.diff(take.beats[(take.beats > FIRST_S - 2.0) & (take.beats < FIRST_S + 12.0)])
    assert gaps.min() >= 0.25 and gaps.max() <= 0.7   # no double beat (0.6 beat at 140-150), no hole (a beat at 96-110)


def test_a_cut_into_a_tempo_a_tenth_away_gets_a_new_tracker(tmp_path):
    """110 into 124 BPM (13 % apart, under a metrical level's 20 %): the cut was never
    looked at, and the settled clock, drifted to 124, sat on the syncopated song's
    off-beat for good (beat F1 0.0 from its 10th s)."""
    take, truth, later, downs = _cut(tmp_path, "swing_110", "syncopated_124")
    assert take.meta["songs_cut_in"] == 1
    assert _f1(truth["beats"], later, 10.0) >= 0.9
    assert _f1(truth["downbeats"], downs, 10.0) >= 0.8
    gaps = np.diff(take.beats[(take.beats > FIRST_S - 2.0) & (take.beats < FIRST_S + 20.0)])
    assert gaps.min() >= 0.25 and gaps.max() <= 0.65   # the restart and the on-beat glide: no double, no hole


def test_the_bar_after_a_cut_comes_from_the_new_song(tmp_path):
    """A cut is found seconds into the new song, mid-bar: the new tracker's first beat
    is no one, and the bar reads the seconds it kept (downbeat F1 from the 8th s was 0.0,
    the new clock's first beat taken as the one)."""
    take, truth, _, downs = _cut(tmp_path, "kick_1_3_pickup_118", "no_drums_96")
    assert take.meta["songs_cut_in"] == 1
    assert _f1(truth["downbeats"], downs, 8.0) >= 0.8


@pytest.mark.parametrize("case", ["rubato_84", "syncopated_124", "ramp_100_130"])
def test_one_song_never_starts_a_new_tracker(tmp_path, case):
    y, _ = beat_cases.make(case, 40.0)
    take = _live(tmp_path, y)
    assert take.meta["songs_cut_in"] == 0

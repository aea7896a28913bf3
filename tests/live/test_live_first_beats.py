"""The first beats shown (live/shown_beats.py): before the clock has a phase of its own
(a comb of five beats), the beats shown follow a comb of three; once it has one, the
clock's own beats are shown, unchanged.

Through the path `analyze --live` and a performance take use: the file in 10 ms
blocks into the causal analyser (replay.feed), on hard cases with exact truth
(tests/support/beat_cases.py). Scored as bench beats does (70 ms, lock = first of 8
hit beats in a row): on the straight cases below the clock's own phase comes at
3.75 s (96 BPM) and 3.0 s (100 BPM, six periods), and its beats before that sit
wherever `now + period` put them (no_drums_96: 2.62 and 3.24 s, the truth 2.80 and
3.42), so a lock before then is the provisional phase's.
"""
from __future__ import annotations

import types

import beat_cases
import numpy as np
import pytest
import soundfile as sf

SECONDS = 9.0


def _run(tmp_path, name):
    """(the shown beats (s), the clock's own beats (s), the frame time the clock took
    its phase (s)) of one hard case through the analyser."""
    from graph_runtime.analysis.decode import decode_for_analysis
    from graph_runtime.live.analyser import CausalAnalyser
    from graph_runtime.live.replay import feed
    y, truth = beat_cases.make(name, SECONDS)
    path = tmp_path / f"{name}.wav"
    sf.write(path, y, beat_cases.SR)
    track = decode_for_analysis(str(path))
    x = track.frames_first()[:, :2]
    a = CausalAnalyser(sr=track.sr, channels=x.shape[1])
    tr = a.tracker
    tr.log = []
    own_phase = []

    def watch(_k, _made):
        if tr.period > 0 and not tr._snap and not own_phase:
            own_phase.append(tr.now())
    feed(x, a, on_block=watch)
    clock = np.sort(tr.emitted[:tr.n_emitted])
    return np.array([b for b, _ in tr.log]), clock, own_phase[0], truth


@pytest.mark.parametrize("name", ["no_drums_96", "choir_strings_100"])
def test_the_first_beats_are_on_the_beat_before_the_clock_has_its_phase(tmp_path, name):
    from graph_runtime.analysis.beat_eval import lock_and_off_beat
    shown, clock, own_phase, truth = _run(tmp_path, name)
    lock, _ = lock_and_off_beat(truth["beats"], shown)
    assert lock is not None and lock < own_phase              # the provisional beats count
    clock_lock, _ = lock_and_off_beat(truth["beats"], clock)
    assert clock_lock > own_phase                              # the clock alone: not yet


@pytest.mark.parametrize("name", ["no_drums_96", "syncopated_124", "halftime_140", "humanized_128"])
def test_after_the_hand_over_the_clock_is_shown_unchanged(tmp_path, name):
    shown, clock, own_phase, _ = _run(tmp_path, name)
    assert np.all(np.diff(shown) > 0)
    ibi = np.median(np.diff(clock))
    assert np.diff(shown).min() >= 0.5 * ibi                   # no double beat at the hand-over
    later = clock[clock > own_phase + ibi]                     # a beat after the hand-over
    assert later.size and np.array_equal(shown[-later.size:], later)


def _stub(period=0.5):
    """A ShownClock on a stand-in clock: only what _put reads."""
    from graph_runtime.live.shown_beats import ShownClock
    s = types.SimpleNamespace(period=period, log=[])
    ShownClock._init_shown(s)
    s._put = types.MethodType(ShownClock._put, s)
    return s


def test_a_hand_over_never_shows_a_double_beat_and_the_clock_keeps_its_spacing():
    s = _stub()
    s._put(10.0, True, clock=False)                  # provisional
    s._put(10.2, True, clock=True)                   # the clock's first, 0.4 periods on: not shown
    s._put(10.7, False, clock=True)
    s._put(11.0, True, clock=True)                   # its own spacing (0.6 periods): shown
    assert [b for b, _ in s.log] == [10.0, 10.7, 11.0]
    s2 = _stub()
    s2._put(10.0, True, clock=False)
    s2._put(10.5, True, clock=True)                  # a one a beat after a one: not a bar
    assert s2.log == [(10.0, True), (10.5, False)]


def test_a_provisional_frame_allocates_nothing():
    import tracemalloc

    from live_helpers import pulses

    from graph_runtime.live.beat_tracker import OnlineBeatTracker
    fps = 50.0
    x = pulses(300, 25.0, 1.0, phase=7.0)              # 120 BPM, clicks 0.14 s into each beat
    tr = OnlineBeatTracker(fps=fps)
    chroma = np.zeros(12)
    for v in x[:105]:                                  # the first tempo at 2 s, then 5 frames
        tr.step(float(v), float(v), 0.0, chroma, chroma)
        tr.idle()
    assert tr.provisional                              # the comb spans 3-4 beats until 3 s
    grown = 0
    tracemalloc.start()
    try:
        for v in x[105:140]:                           # the analysis thread's per-frame step,
            tr.step(float(v), float(v), 0.0, chroma, chroma)
            before, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            tr._show()                                 # and its shown part once more, measured
            grown = max(grown, tracemalloc.get_traced_memory()[1] - before)
    finally:
        tracemalloc.stop()
    assert tr.provisional and tr.log is None
    assert grown < 1024, grown        # views and scalars; one (16, 25) comb read would be 3.2 kB
    assert tr.shown_phase(tr.now()) == pytest.approx((tr.now() - 0.14) / 0.5 % 1.0, abs=0.06)

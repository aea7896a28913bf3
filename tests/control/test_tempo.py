"""Tap tempo and nudge: the free grid, and a track's saved grid correction."""
import os

import pytest

from graph_runtime.analysis import beat_grid_correction as grid
from graph_runtime.analysis.store import synthetic
from graph_runtime.control.tap_correction import TapCorrector
from graph_runtime.control.tempo import MAX_GAP_S, TapTempo, correction_from_taps, fit_taps


def test_taps_set_tempo_and_phase_and_a_pause_starts_over():
    tap = TapTempo()
    assert tap.tap(1.0) is None
    assert tap.tap(1.5) == pytest.approx(120.0)
    assert tap.tap(2.0) == pytest.approx(120.0) and tap.phase_s == 2.0
    tap.tap(10.0)  # a long pause: a new tapping
    assert tap.taps == [10.0]
    tap.nudge(+1)
    assert tap.phase_s == pytest.approx(2.01)


def test_correction_from_taps_finds_the_scale_and_the_phase():
    beats = [i * 0.5 for i in range(40)]  # analysed at 120 BPM
    taps = [1.03 + i * 1.0 for i in range(4)]  # 60 BPM, 30 ms late
    scale, phase = correction_from_taps(taps, beats, 120.0)
    assert scale == 0.5 and phase == pytest.approx(0.03)


def test_taps_and_nudges_on_a_track_are_saved_per_track(show, tmp_path, monkeypatch):
    """Through the real grid-correction store (graph_runtime/analysis/beat_grid_correction.py), in a private cache."""
    monkeypatch.setenv("HAMBAJUBA_CACHE", str(tmp_path / "cache"))
    track = tmp_path / "song.wav"
    track.write_bytes(b"RIFF not really audio, but a file with bytes to hash")
    analysis, applied = synthetic(30.0), []
    tg = TapCorrector(show.control, on_analysis=applied.append)
    show.control.on_tap, show.control.on_nudge = tg.tapped, tg.nudged
    show.control.set_analysis(analysis)
    tg.track(str(track), analysis)
    for i in range(6):
        show.control.tap(t=2.02 + 0.5 * i)  # the analysed tempo, 20 ms late
        assert not os.listdir(tmp_path / "cache") if (tmp_path / "cache").exists() else True
    assert applied[-1].beats[1] == pytest.approx(0.52)  # followed at once, every tap
    tg.tick()  # still tapping: nothing written
    assert grid.load_correction(str(track)).phase_s == 0.0
    tg._tapped_at -= MAX_GAP_S + 0.1  # tapping has ended
    tg.tick()  # written once, now
    saved = grid.load_correction(str(track))
    assert saved.tempo_scale == 1.0 and saved.phase_s == pytest.approx(0.02)
    show.control.nudge(-1)
    assert grid.load_correction(str(track)).phase_s == pytest.approx(0.01)
    # what plays now follows: the whole correction on the analysis's own grid (not stacked)
    assert applied[-1].beats[1] == pytest.approx(0.51)
    assert show.control.grid.beats[1] == pytest.approx(0.51)
    tg.track(str(track), grid.apply_saved(str(track), synthetic(30.0)))  # reopened
    assert tg.correction.phase_s == pytest.approx(0.01)
    assert tg.analysis.beats[1] == pytest.approx(0.51)


def test_without_an_analysis_taps_still_steer_the_free_grid(show):
    notes = []
    tg = TapCorrector(show.control, status=lambda lv, t: notes.append(t))
    show.control.on_tap = tg.tapped
    tg.track(None, None)
    for i in range(4):
        show.control.tap(t=1.0 + 0.4 * i)
    assert show.control.grid.bpm == pytest.approx(150.0)
    assert show.control.grid.next_beat(2.3) == pytest.approx(2.6)


def test_one_click_x2_and_downbeat_shift_are_saved_and_followed(show, tmp_path, monkeypatch):
    """The Control tab's 'tempo x2' and 'one later' buttons: the grid doubles and
    the bar moves by a beat at once, and both are there when the track reopens."""
    monkeypatch.setenv("HAMBAJUBA_CACHE", str(tmp_path / "cache"))
    track = tmp_path / "song.wav"
    track.write_bytes(b"RIFF bytes to hash")
    analysis, applied = synthetic(30.0, bpm=60.0), []
    tg = TapCorrector(show.control, on_analysis=applied.append)
    show.control.set_analysis(analysis)
    tg.track(str(track), analysis)
    tg.scaled(2.0)
    assert applied[-1].bpm == pytest.approx(120.0, rel=0.02)
    assert len(applied[-1].beats) == pytest.approx(2 * len(analysis.beats), abs=2)
    first_down = applied[-1].downbeats[0]
    tg.bar_shifted(1)
    assert applied[-1].downbeats[0] == pytest.approx(first_down + 0.5, abs=0.02)
    saved = grid.load_correction(str(track))
    assert (saved.tempo_scale, saved.downbeat_shift) == (2.0, 1)
    tg.scaled(2.0)  # x4 of the analysis is not a correction: the tempo stays
    assert grid.load_correction(str(track)).tempo_scale == 2.0


def test_a_robust_fit_reads_taps_jittered_by_a_slow_window():
    """Key taps arrive once per window frame: at 9 fps each is up to 111 ms late.
    The fit over the taps reads the tempo; the last interval would not."""
    import numpy as np

    true = [1.0 + 0.63 * i for i in range(12)]
    frame = 1 / 9
    seen = [np.ceil(t / frame) * frame for t in true]  # the frame after each tap
    tap = TapTempo()
    for t in seen:
        bpm = tap.tap(t)
    assert round(bpm, 0) == 95.0 and abs(bpm - 60 / 0.63) < 1.0
    last_gap = 60 / (seen[-1] - seen[-2])
    assert abs(last_gap - 60 / 0.63) > 3.0  # what a last-interval reading would have said
    period, phase = fit_taps([1.0, 1.5, 2.3, 2.5, 3.0])  # one stray tap
    assert period == pytest.approx(0.5) and phase == pytest.approx(3.0)

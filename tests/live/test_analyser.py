"""The causal analyser on signals with known answers, and on bad input."""
import numpy as np
import pytest
from live_helpers import SR, drum_loop, run_analyser

from graph_runtime.live import layout
from graph_runtime.live.analyser import CausalAnalyser
from graph_runtime.live.replay import feed

S = layout.STATUS_INDEX
I = layout.INDEX


def test_every_offline_channel_name_has_a_live_column():
    from graph_runtime.analysis.store import ALL_STEMS, CHANNELS, GLOBAL_CHANNELS
    for s in ALL_STEMS:
        for c in CHANNELS:
            assert f"{s}/{c}" in I
    for c in GLOBAL_CHANNELS:
        assert f"global/{c}" in I


@pytest.mark.parametrize("bpm", [92.0, 128.0])
def test_drum_loop_tempo_beats_and_pitch(bpm):
    a = CausalAnalyser(sr=SR, channels=2)
    a.tracker.log = []
    rows = run_analyser(a, drum_loop(14.0, bpm=bpm))
    assert abs(a.tracker.bpm / bpm - 1.0) < 0.02
    period = 60.0 / bpm
    beats = np.array([b for b, _ in a.tracker.log if b >= 8.0])
    assert len(beats) >= 6
    # emitted beats sit on the grid (the loop starts on a beat at t = 0)
    off = (beats / period + 0.5) % 1.0 - 0.5
    assert np.all(np.abs(off) * period < 0.07)
    last = rows[-1]
    assert np.all(np.isfinite(np.array(rows)))
    assert last[I["global/bpm_local"]] == pytest.approx(a.tracker.bpm)
    kick_hits = sum(r[I["drums/transient"]] for r in rows)
    assert kick_hits >= 0.8 * 14.0 / period            # most beats are seen as hits


def test_held_tone_pitch_on_the_other_stem():
    sr = 22050
    t = np.arange(int(3.0 * sr)) / sr
    y = 0.3 * sum(np.sin(2 * np.pi * 330.0 * h * t) / h for h in range(1, 5))
    a = CausalAnalyser(sr=sr, channels=1)
    rows = np.array(run_analyser(a, y[:, None].astype(np.float32)))
    hz = rows[50:, I["mix/pitch_hz"]]
    assert np.median(hz) == pytest.approx(330.0, rel=0.02)


def test_minutes_of_silence_no_nan_tempo_holds_and_says_so():
    a = CausalAnalyser(sr=22050, channels=1)
    run_analyser(a, drum_loop(10.0, bpm=120.0, sr=22050, channels=1))
    bpm = a.tracker.bpm
    assert abs(bpm - 120.0) < 2.4
    silence = np.zeros((22050 * 120, 1), np.float32)   # two minutes, fed as fast as it goes
    feed(silence, a)
    row = a.ring.latest()
    assert np.all(np.isfinite(a.ring.rows))
    assert row[S["tempo_holding"]] == 1.0
    assert row[S["bpm"]] == pytest.approx(bpm, rel=0.01)   # held, not decayed to 0 or NaN
    assert row[I["mix/envelope"]] == 0.0 and row[I["mix/activity"]] == 0.0


def test_dc_offset_is_blocked_and_clipping_counted():
    a = CausalAnalyser(sr=SR, channels=2)
    x = np.full((SR * 2, 2), 0.5, np.float32)            # pure DC
    rows = np.array(run_analyser(a, x))
    assert np.all(rows[-20:, I["mix/activity"]] == 0.0)
    b = CausalAnalyser(sr=SR, channels=2)
    loud = np.clip(drum_loop(1.0) * 4.0, -1.0, 1.0)
    run_analyser(b, loud)
    assert b.clipped > 0


def test_nan_input_is_zeroed():
    a = CausalAnalyser(sr=48000, channels=1)
    x = drum_loop(1.0, sr=48000, channels=1)
    x[1000:5000] = np.nan
    x[9000] = np.inf
    rows = np.array(run_analyser(a, x))
    assert np.all(np.isfinite(rows))


@pytest.mark.parametrize("sr,channels", [(44100, 1), (48000, 2), (22050, 2)])
def test_rates_and_channel_counts(sr, channels):
    a = CausalAnalyser(sr=sr, channels=channels)
    rows = run_analyser(a, drum_loop(1.0, sr=sr, channels=channels))
    assert abs(len(rows) - 50) <= 2                        # 50 frames a second whatever the rate
    assert rows[-1][I["mix/activity"]] == 1.0


def test_unsupported_rate_and_channels_are_refused_with_a_message():
    with pytest.raises(ValueError, match="11025 Hz is not supported"):
        CausalAnalyser(sr=11025, channels=1)
    with pytest.raises(ValueError, match="mono or stereo"):
        CausalAnalyser(sr=44100, channels=6)


def test_the_bar_is_heard_in_two_halves_on_consecutive_frames_one_task_a_frame():
    """The slow tasks run between frames, at most one per frame's idle call (a block
    carries at most one): the bar's features (BAR_TASK) and its scores (BAR_SCORE, the
    next frame) are two calls, so no block pays for the whole bar, and every bar
    features heard are scored and reach the bar tracker."""
    from graph_runtime.live.bar_line import BAR_SCORE, BAR_TASK
    a = CausalAnalyser(sr=SR, channels=2)
    tr = a.tracker
    ran = []                                  # (frame, task) of every idle call that had one
    idle = tr.idle

    def watched():
        task = tr._tick
        done = idle()
        if task:
            ran.append((tr.i, task))
        return done

    tr.idle = watched
    run_analyser(a, drum_loop(14.0, bpm=120.0))
    frames = [f for f, _ in ran]
    assert len(frames) == len(set(frames))   # one task per frame
    halves = [(f, t) for f, t in ran if t in (BAR_TASK, BAR_SCORE)]
    firsts = [f for f, t in halves if t == BAR_TASK]
    seconds = [f for f, t in halves if t == BAR_SCORE]
    assert len(seconds) >= 5                  # the bar was heard every second or so
    assert all(f - 1 in firsts for f in seconds)
    assert tr.bars.seen == len(seconds) and tr._bar_heard is None


def test_a_bar_heard_before_a_tapped_level_change_is_not_scored_after_it():
    """A tap between the bar's two halves starts the bar again: the features heard on the
    old level's beats are dropped, not scored into the new level's bar."""
    from graph_runtime.live.bar_line import BAR_SCORE, BAR_TASK
    a = CausalAnalyser(sr=SR, channels=2)
    tr = a.tracker
    idle = tr.idle
    seen = []                                # the bar's estimates right after the next idle call

    def tap_after_the_first_half():
        task = tr._tick
        done = idle()
        if seen == [None]:                   # the frame after the tap: its BAR_SCORE call ran
            seen[0] = (task, tr.bars.seen)
        if task == BAR_TASK and tr._bar_heard is not None and not seen:
            tr.override(tr.bpm * 2.0, tr.now())          # another level: the bar starts again
            seen.append(None)
        return done

    tr.idle = tap_after_the_first_half
    run_analyser(a, drum_loop(12.0, bpm=100.0))
    assert seen and seen[0] is not None
    task, estimates = seen[0]
    assert task == BAR_SCORE and estimates == 0   # the old level's bar was not scored

"""Music that starts on an input already open (live/beat_tracker.py RESTART_S, the
analyser's BEAT_GATE_DBFS gate): a performer opens the input, then plays. Before, the
tracker ran on the silence or the input's noise floor, and once the music came it kept
that clock's level and phase for 10 s or more (a 3/4 waltz after 10 s of -60 dBFS
hiss never locked). Now frames under the gate are silence to the tracker, and the
first onset after RESTART_S of silence starts a new tracker, as if a file began there;
a shorter break keeps the clock.

Through the path a live input and `analyze --live` use: the file in 10 ms blocks into
the causal analyser, on hard cases with exact truth (tests/support/beat_cases.py).
"""
from __future__ import annotations

import beat_cases
import numpy as np
import pytest
import soundfile as sf


def _live(tmp_path, y, name="take.wav"):
    from graph_runtime.live.replay import analyse_file
    path = tmp_path / name
    sf.write(path, y, beat_cases.SR)
    return analyse_file(str(path))


def _pad(seconds, like, noise_dbfs=None):
    shape = (int(seconds * beat_cases.SR),) + like.shape[1:]
    if noise_dbfs is None:
        return np.zeros(shape, like.dtype)
    rng = np.random.default_rng(7)
    return (10 ** (noise_dbfs / 20) * rng.standard_normal(shape)).astype(like.dtype)


def _f1(ref, est, lo, hi):
    import mir_eval
    ref, est = np.asarray(ref), np.asarray(est)
    return mir_eval.beat.f_measure(ref[(ref >= lo) & (ref < hi)], est[(est >= lo) & (est < hi)], 0.07)


@pytest.mark.parametrize("noise_dbfs", [None, -60.0])
def test_music_on_an_open_input_is_tracked_as_a_file_that_starts_with_it(tmp_path, noise_dbfs):
    y, truth = beat_cases.make("waltz_3_4_150", 12.0)
    pre = 8.0
    alone = _live(tmp_path, y, "alone.wav")
    take = _live(tmp_path, np.concatenate([_pad(pre, y, noise_dbfs), y]))
    assert not np.any(take.beats < pre)                        # no beat on the hiss
    later = take.beats[take.beats >= pre + 3.0] - pre
    assert _f1(truth["beats"], later, 3.0, 12.0) >= 0.9        # locked within ~3 s of the music
    if noise_dbfs is None:                                     # the same tracker, beat for beat
        same = alone.beats[alone.beats >= 3.0]
        assert len(later) == len(same) and np.allclose(later, same, atol=1e-3)


def test_a_new_song_after_silence_gets_a_new_tracker(tmp_path):
    first, _ = beat_cases.make("no_drums_96", 12.0)
    second, truth = beat_cases.make("syncopated_124", 14.0)
    start = 12.0 + 6.0
    alone = _live(tmp_path, second, "alone.wav")
    take = _live(tmp_path, np.concatenate([first, _pad(6.0, first), second]))
    later = take.beats[take.beats >= start + 3.0] - start
    same = alone.beats[alone.beats >= 3.0]
    assert len(later) == len(same) and np.allclose(later, same, atol=1e-3)
    assert _f1(truth["beats"], later, 5.0, 14.0) >= 0.9       # 96 BPM's clock does not hold it
    assert abs(take.bpm / truth["bpm"] - 1.0) <= 0.02


def test_a_break_shorter_than_the_restart_keeps_the_clock(tmp_path):
    y, truth = beat_cases.make("no_drums_96", 16.0)
    y = y.copy()
    y[int(9.0 * beat_cases.SR):int(11.5 * beat_cases.SR)] = 0.0      # 2.5 s of silence, in time
    take = _live(tmp_path, y)
    assert np.any((take.beats > 9.5) & (take.beats < 11.5))      # the clock holds through it
    assert _f1(truth["beats"], take.beats, 11.5, 16.0) >= 0.75    # and there when it ends (a restart: 0.22)


def test_the_panel_says_when_the_input_is_under_the_gate():
    from live_helpers import blocks

    from graph_runtime.live import layout
    from graph_runtime.live.analyser import CausalAnalyser
    from hambajuba_nodes.editor.live_input_panel import tempo_text
    a = CausalAnalyser(sr=44100, channels=2)
    rng = np.random.default_rng(3)
    under = (10 ** (-70 / 20) * rng.standard_normal((3 * 44100, 2))).astype(np.float32)
    it = blocks(under, a.block)
    for _ in range(300):                                       # 3 s of hiss at -70 dBFS
        a.push(next(it).copy())
    row = a.ring.latest()
    s = {n: float(row[i]) for n, i in layout.STATUS_INDEX.items()}
    assert s["under_gate_s"] >= 2.5 and s["bpm"] == 0.0
    assert "under -55 dBFS" in tempo_text(s) and "raise the gain" in tempo_text(s)
    loud = (10 ** (-20 / 20) * rng.standard_normal((44100, 2))).astype(np.float32)
    it = blocks(loud, a.block)
    for _ in range(20):
        a.push(next(it).copy())
    row = a.ring.latest()
    assert row[layout.STATUS_INDEX["under_gate_s"]] == 0.0
    s["under_gate_s"] = 1.0                                    # a pause between phrases: not said
    assert "gain" not in tempo_text(s)

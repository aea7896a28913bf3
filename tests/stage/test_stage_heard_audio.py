"""The audio as heard, rebuilt from the heard-position log: loops, seeks, pauses."""
from __future__ import annotations

import numpy as np

from graph_runtime.stage.heard_audio import HeardAudio, read_track

RATE = 1000  # a toy rate: one sample per ms


class Ramp:
    """A track whose every sample says its own time: sample i = i / sr."""

    def __init__(self, seconds=10.0, sr=RATE):
        self.sr = sr
        t = np.arange(int(seconds * sr), dtype=np.float32) / sr
        self.samples = np.stack([t, t], 1)


def run(log, track, w0=100.0):
    a = HeardAudio(RATE, w0)
    out = [c for at, t, p in log if (c := a.until(at, t, p, track)) is not None]
    return np.concatenate(out)[:, 0], a


def test_a_loop_wrap_is_heard_where_it_wrapped():
    # 60 Hz reports from track time 1.0; the loop [1.0, 1.5) wraps once, at wall 100.5
    log = []
    for k in range(1, 61):
        at = 100.0 + k / 60
        t = 1.0 + (k / 60) % 0.5
        log.append((at, t, True))
    audio, a = run(log, Ramp())
    assert len(audio) == 1000  # one second at 1000 Hz, tied to the wall clock
    assert abs(audio[400] - 1.4) < 0.02  # before the wrap: track time 1.4
    assert abs(audio[900] - 1.4) < 0.02  # after it: 1.0 + 0.4
    assert len(a.jumps) == 1 and abs(a.jumps[0][1] - 1.0) < 0.02


def test_paused_is_silence_and_play_resumes_from_the_position():
    log = [(100.0 + k / 60, 2.0 + k / 60, True) for k in range(1, 31)]  # 0.5 s playing
    log += [(100.5 + k / 60, 2.5, False) for k in range(1, 31)]  # 0.5 s paused
    log += [(101.0 + k / 60, 2.5 + k / 60, True) for k in range(1, 31)]
    audio, a = run(log, Ramp())
    assert abs(audio[250] - 2.25) < 0.02
    assert np.all(audio[520:990] == 0.0)
    assert abs(audio[1250] - 2.75) < 0.03
    assert a.jumps == []  # a pause is not a seek


def test_small_clock_slew_keeps_the_audio_continuous():
    # the visual clock runs 0.4 % fast: no jumps, no repeated or skipped samples
    log = [(100.0 + k / 60, k / 60 * 1.004, True) for k in range(1, 121)]
    audio, a = run(log, Ramp())
    steps = np.diff(audio)
    assert a.jumps == [] and np.allclose(steps[1:], 1.0 / RATE, atol=1e-6)


def test_reading_resamples_and_is_silent_outside_the_track():
    tr = Ramp(1.0, sr=2000)
    x = read_track(tr.samples, 2000, 0.5, 10, 1000)  # 1 kHz out of a 2 kHz track
    assert np.allclose(x[:, 0], 0.5 + np.arange(10) / 1000, atol=1e-6)
    y = read_track(tr.samples, 2000, 0.999, 5, 2000)
    assert y[0, 0] > 0.99 and np.all(y[2:] == 0.0)
    assert read_track(None, 1000, 0.0, 4, 1000).shape == (4, 2)


def test_one_late_clock_read_is_not_a_seek():
    # a stalled frame: its position was read 80 ms after its time stamp, once
    log = [(100.0 + k / 60, k / 60 + (0.08 if k == 30 else 0.0), True) for k in range(1, 61)]
    audio, a = run(log, Ramp())
    assert a.jumps == []
    assert np.allclose(np.diff(audio)[1:], 1.0 / RATE, atol=1e-6)

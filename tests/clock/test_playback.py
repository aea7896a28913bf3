"""Outputs: the null output keeps time; the device callback plays, seeks and
loops the track and reports the clock; both map heard time through seeks."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from graph_runtime.media.audio_file import AudioFileError
from graph_runtime.media.playback import DeviceOutput, NullOutput, Track, load_track, open_output


class FakeTime:
    def __init__(self) -> None:
        self.t = 50.0

    def __call__(self) -> float:
        return self.t


def ramp_track(seconds=4.0, sr=1000):
    n = int(seconds * sr)
    return Track(np.arange(n, dtype=np.float32)[:, None].repeat(2, 1), sr)


def test_null_output_plays_pauses_seeks_and_ends():
    now = FakeTime()
    out = NullOutput("test", now=now)
    out.load(ramp_track(4.0))
    out.play()
    now.t += 1.5
    assert out.time() == pytest.approx(1.5)
    out.pause()
    now.t += 10
    assert out.time() == pytest.approx(1.5)
    out.seek(3.0)
    assert out.time() == pytest.approx(3.0)
    out.play()
    now.t += 0.5
    out.seek(1.0)
    now.t += 0.25
    assert out.time() == pytest.approx(1.25)
    now.t += 5.0
    assert out.time() == pytest.approx(4.0) and out.ended and not out.playing


def test_null_output_loops_exactly():
    now = FakeTime()
    out = NullOutput(now=now)
    out.load(ramp_track(10.0))
    out.set_loop(2.0, 3.0)
    out.seek(2.5)
    out.play()
    now.t += 0.75  # 2.5 -> 3.25 wraps to 2.25
    assert out.time() == pytest.approx(2.25)
    now.t += 3.0  # three more wraps in one step
    assert out.time() == pytest.approx(2.25)
    out.set_loop(None)
    now.t += 1.0
    assert out.time() == pytest.approx(3.25)


def test_no_device_falls_back_to_null_output():
    out = open_output("auto")
    assert out.kind in ("null", "device")
    if out.kind == "null":
        assert "audio" in out.reason
    assert open_output("null").kind == "null"


class FakeStream:
    latency = 0.1

    def __init__(self, sr, channels, callback):
        self.sr, self.channels, self.callback = sr, channels, callback
        self.started = self.closed = False

    def start(self):
        self.started = True

    def stop(self):
        self.started = False

    def close(self):
        self.closed = True


def drive(out, now, n_buffers, frames=100):
    """Call the audio callback as a device would, one buffer per 100 ms."""
    chunks = []
    for _ in range(n_buffers):
        buf = np.zeros((frames, 2), np.float32)
        info = SimpleNamespace(currentTime=5.0, outputBufferDacTime=5.1)
        out._callback(buf, frames, info, None)
        chunks.append(buf[:, 0].copy())
        now.t += frames / out.track.sr
    return np.concatenate(chunks)


def test_device_callback_plays_loops_and_clock_follows():
    now = FakeTime()
    streams = []
    out = DeviceOutput(stream_factory=lambda *a: streams.append(FakeStream(*a)) or streams[-1],
                       now=now, probe=False)
    out.load(ramp_track(4.0, sr=1000))
    out.set_loop(1.0, 1.5)
    out.seek(0.8)
    out.play()
    assert streams[0].started
    played = drive(out, now, 10)  # 1 s of audio
    # 0.8..1.5, then wraps to 1.0
    assert played[0] == 800 and played[699] == 1499 and played[700] == 1000
    # what is heard now was written 100 ms ago (latency): 0.9 s of played time
    t = out.time()
    u_heard = 0.9
    expect = 0.8 + u_heard if 0.8 + u_heard < 1.5 else 1.0 + (0.8 + u_heard - 1.5)
    assert t == pytest.approx(expect, abs=0.02)
    out.pause()
    assert not streams[0].started and streams[0].closed


def test_device_seek_takes_effect_when_heard():
    now = FakeTime()
    out = DeviceOutput(stream_factory=FakeStream, now=now, probe=False)
    out.load(ramp_track(10.0, sr=1000))
    out.play()
    drive(out, now, 5)
    out.seek(7.0)
    played = drive(out, now, 3)
    assert played[0] == 7000
    # latency 100 ms: the seek, written at u=0.5 s, is heard from u=0.5 on
    assert out.time() == pytest.approx(7.0 + 0.2, abs=0.02)


def test_load_track_errors(tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio")
    with pytest.raises(AudioFileError, match="not an audio file"):
        load_track(bad)
    with pytest.raises(AudioFileError, match="no such file"):
        load_track(tmp_path / "missing.wav")
    good = tmp_path / "tone.wav"
    sf.write(good, np.zeros((4410, 2), np.float32), 44100)
    assert load_track(good).duration == pytest.approx(0.1)

"""A fake InputStream drives the real callback, ring and worker thread:
overflow, device loss and reconnection, silence, DC, a file at real-time pace."""
import time
import types

import numpy as np
import pytest
from live_helpers import drum_loop

from graph_runtime.live import audio_device, layout
from graph_runtime.live import input as live_input
from graph_runtime.live.input import LiveInput, LiveInputError

S = layout.STATUS_INDEX
I = layout.INDEX


class FakeStream:
    """What sounddevice.InputStream looks like to LiveInput; the test calls feed()."""

    instances: list = []
    refuse = False

    def __init__(self, *, device, samplerate, channels, blocksize, callback):
        if FakeStream.refuse:
            raise RuntimeError("PortAudio: device unavailable")
        self.callback, self.blocksize, self.channels = callback, blocksize, channels
        self.latency = 0.012
        self.started = self.closed = False
        FakeStream.instances.append(self)

    def start(self):
        self.started = True

    def stop(self):
        self.started = False

    def close(self):
        self.closed = True

    def feed(self, x, *, overflow=False):
        status = types.SimpleNamespace(input_overflow=overflow)
        for i in range(0, x.shape[0] - self.blocksize + 1, self.blocksize):
            self.callback(x[i:i + self.blocksize], self.blocksize, None, status)


def play(live, stream, x):
    """Feed x in 0.1 s pieces, each after the worker drained the last (as a device would)."""
    step = int(0.1 * live.samplerate)
    for i in range(0, x.shape[0], step):
        stream.feed(x[i:i + step])
        assert wait_for(lambda: live.ring.available() < live.block)


def wait_for(cond, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def live(monkeypatch):
    monkeypatch.setattr(live_input, "LOSS_S", 60.0)      # a fake only sends what a test feeds
    FakeStream.instances, FakeStream.refuse = [], False
    inp = LiveInput(device="fake", channels=2, samplerate=44100, stream_factory=FakeStream)
    yield inp
    inp.stop()


def test_callback_ring_and_worker_thread_publish_rows(live):
    source = live.start()
    stream = FakeStream.instances[-1]
    assert stream.started and live.input_latency_s == pytest.approx(0.012)
    play(live, stream, drum_loop(2.0))
    assert wait_for(lambda: live.analyser.frame >= 95)
    status = source.status()
    assert status["state"] == "running" and status["level_db"] <= 0.0
    row = source.ring.latest()
    assert row[I["mix/activity"]] == 1.0 and np.isfinite(row).all()


def test_overflows_are_counted_never_raised(live):
    live.start()
    stream = FakeStream.instances[-1]
    stream.feed(drum_loop(0.1), overflow=True)           # PortAudio's flag
    assert live.stats()["overflows"] >= 1
    live._stop.set()                                      # worker paused: the ring fills up
    live._thread.join(timeout=5)
    stream.feed(drum_loop(2.0))                          # 2 s into a 1 s ring
    dropped = live.ring.overflows
    assert dropped > 0 and live.stats()["overflows"] >= dropped + 1
    assert live.ring.available() <= live.ring.capacity   # nothing overwritten, nothing grown


def test_device_loss_plays_silence_says_so_and_reconnects(live, monkeypatch):
    monkeypatch.setattr(live_input, "LOSS_S", 0.2)
    monkeypatch.setattr(live_input, "RECONNECT_S", 0.3)
    live.start()
    stream = FakeStream.instances[-1]
    play(live, stream, drum_loop(1.0))
    assert wait_for(lambda: live.analyser.frame >= 45)
    FakeStream.refuse = True                              # unplugged: callbacks stop, reopen fails
    assert wait_for(lambda: live.state == "lost")
    assert "stopped sending audio" in live.message and "reconnecting" in live.message
    frames = live.analyser.frame
    assert wait_for(lambda: live.analyser.frame >= frames + 10)   # rows keep coming, on silence
    assert wait_for(lambda: "failed to open" in live.message)     # a refused reopen: said, no crash
    FakeStream.refuse = False                             # plugged back in
    assert wait_for(lambda: live.state == "running")
    assert "is back" in live.message
    assert FakeStream.instances[-1] is not stream and FakeStream.instances[-1].started
    assert np.isfinite(live.analyser.ring.rows).all()


def test_silence_and_dc_read_as_inactive(live):
    source = live.start()
    stream = FakeStream.instances[-1]
    x = np.full((44100 * 2, 2), 0.25, np.float32)         # a DC offset, nothing else
    play(live, stream, x)
    assert wait_for(lambda: live.analyser.frame >= 95)
    row = source.ring.latest()
    assert row[I["mix/activity"]] == 0.0 and row[I["mix/envelope"]] < 1e-3
    assert np.isfinite(live.analyser.ring.rows).all()


def test_gain_scales_the_level(monkeypatch):
    monkeypatch.setattr(live_input, "LOSS_S", 60.0)
    FakeStream.instances, FakeStream.refuse = [], False
    levels = []
    for gain in (1.0, 0.1):
        inp = LiveInput(device="fake", channels=2, samplerate=48000, gain=gain,
                        stream_factory=FakeStream)
        src = inp.start()
        play(inp, FakeStream.instances[-1], drum_loop(1.0, sr=48000))
        assert wait_for(lambda inp=inp: inp.analyser.frame >= 45)
        levels.append(src.status()["level_db"])
        inp.stop()
    assert levels[1] == pytest.approx(levels[0] - 20.0, abs=1.0)


def test_file_input_runs_through_the_same_callback(tmp_path):
    import soundfile as sf
    path = tmp_path / "loop.wav"
    sf.write(path, drum_loop(1.5), 44100)
    inp = LiveInput(file=str(path), realtime=False)
    calls = []
    real = inp.callback
    inp.callback = lambda *a: (calls.append(1), real(*a))[1]
    inp.start()
    assert wait_for(lambda: inp.state == "finished" and inp.ring.available() < inp.block)
    inp.stop()
    assert len(calls) == int(1.5 * 100)                    # every 10 ms block, via the callback
    assert inp.analyser.frame >= 70


def test_a_file_that_ends_says_so_and_a_looped_one_plays_on(tmp_path):
    import soundfile as sf
    path = tmp_path / "loop.wav"
    sf.write(path, drum_loop(0.5), 44100)
    inp = LiveInput(file=str(path), realtime=False)
    inp.start()
    assert wait_for(lambda: inp.state == "finished")
    inp.stop()
    assert inp.stats()["message"].startswith("input ended: ")
    looped = LiveInput(file=str(path), realtime=False, loop=True)
    calls = []
    real = looped.callback
    looped.callback = lambda *a: (calls.append(1), real(*a))[1]
    looped.start()
    assert wait_for(lambda: len(calls) > 3 * 50)  # three times round a 0.5 s file
    assert looped.state != "finished"
    looped.loop = False  # unticked: the input ends (and says so)
    assert wait_for(lambda: looped.state == "finished")
    looped.stop()


def test_unsupported_rate_is_a_one_line_error():
    inp = LiveInput(device="fake", channels=2, samplerate=96000, stream_factory=FakeStream)
    with pytest.raises(LiveInputError, match="96000 Hz is not supported"):
        inp.open()


def test_mono_device_asked_for_stereo_opens_mono(monkeypatch):
    fake_sd = types.SimpleNamespace(
        PortAudioError=RuntimeError,
        query_devices=lambda device=None, kind=None: {"name": "USB mic", "max_input_channels": 1,
                                                      "default_samplerate": 48000.0})
    monkeypatch.setattr(audio_device, "_sounddevice", lambda: fake_sd)
    dev, ch, rate, note = live_input.resolve_device("USB mic", channels=2)
    assert (ch, rate) == (1, 48000) and "using mono" in note and "USB mic" in note


def test_no_input_device_is_a_one_line_error(monkeypatch):
    def nothing(device=None, kind=None):
        raise ValueError("No input device matching 'x'")
    fake_sd = types.SimpleNamespace(PortAudioError=RuntimeError, query_devices=nothing)
    monkeypatch.setattr(audio_device, "_sounddevice", lambda: fake_sd)
    with pytest.raises(LiveInputError, match="no input device 'x'.*hambajuba audio devices"):
        live_input.resolve_device("x", channels=2)

"""The headphone cue (`--monitor-out`): the live input, from a file at real-time pace
through LiveInput's callback, played to a fake output device that calls the
monitor's callback as PortAudio would. What it plays is the input, delayed; the
latency shown is input + output + one block; underruns, overruns and a missing
device are counted or said, and the input plays on."""
from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile as sf
from live_helpers import FakeOutput, PacedOutput, drum_loop

from graph_runtime.live.input import LiveInput
from graph_runtime.live.monitor import BACKLOG_BLOCKS, Monitor, latency_text

SR = 44100


@pytest.fixture
def loop_file(tmp_path):
    path = tmp_path / "loop.wav"
    sf.write(path, drum_loop(3.0, bpm=120.0, channels=1) + 0.01, SR)   # no sample is exactly 0
    return str(path)


@pytest.fixture(autouse=True)
def fresh():
    FakeOutput.instances, FakeOutput.refuse = [], False


def test_the_cue_plays_the_input_one_block_later_with_its_gain_and_latency(loop_file):
    mon = Monitor("headphones", gain=0.5, channels=2, stream_factory=FakeOutput)
    live = LiveInput(file=loop_file, monitor=mon)
    live.open()
    assert live.set_monitor(mon) == ""
    out = FakeOutput.instances[-1]
    assert out.started and out.channels == 2 and out.blocksize == live.block
    x = live._file_samples                       # (n, 1): the file as the feeder sends it
    b, n = live.block, x.shape[0] // live.block
    for k in range(n):                           # the output asks just before each input block
        out.pull()
        live.callback(x[k * b:(k + 1) * b], b, None, None)
    heard = np.concatenate(out.heard)
    want = np.concatenate([np.zeros((b, 1), np.float32), x[:(n - 1) * b]]) * 0.5
    np.testing.assert_array_equal(heard, np.repeat(want, 2, axis=1))   # mono on both ears
    m = live.stats()["monitor"]
    assert m["state"] == "playing" and m["underruns"] == 0 and m["overruns"] == 0
    assert m["latency_ms"] == pytest.approx(0.0 + 8.0 + 1e3 * b / SR)    # file: no input latency
    assert m["block_ms"] == pytest.approx(10.0) and m["output_latency_ms"] == pytest.approx(8.0)
    assert "monitor: headphones, 18.0 ms (in 0.0 + out 8.0 + block 10.0)" in latency_text(m)
    live.stop()
    assert not out.started


def test_a_starved_cue_counts_one_underrun_and_a_backlog_is_skipped(loop_file):
    mon = Monitor(stream_factory=FakeOutput)
    live = LiveInput(file=loop_file, monitor=mon)
    live.open()
    live.set_monitor(mon)
    out, x, b = FakeOutput.instances[-1], live._file_samples, live.block
    live.callback(x[:b], b, None, None)
    out.pull()
    for _ in range(5):                               # the input stops: silence, one count
        out.pull()
    assert np.all(out.heard[-1] == 0.0) and mon.underruns == 1
    for k in range(1, BACKLOG_BLOCKS + 3):           # the output falls behind: latency held
        live.callback(x[k * b:(k + 1) * b], b, None, None)
    out.pull()
    k = BACKLOG_BLOCKS + 2
    np.testing.assert_array_equal(out.heard[-1], x[(k - 1) * b:k * b])   # one block in hand
    assert mon.skipped == BACKLOG_BLOCKS * b and mon.ring.available() == b
    for _ in range(mon.ring.capacity // b + 2):       # nobody pulls: the cue drops, the input not
        live.callback(x[:b], b, None, None)
    assert live.stats()["monitor"]["overruns"] == 3 and live.ring.overflows == 0


def test_a_file_at_real_time_pace_reaches_the_output_in_order(loop_file):
    """The user's path: LiveInput.start() feeds the file from its own thread; the
    null device pulls on its own clock. Every block it plays is the next stretch of the
    input (or silence while starved; after an overrun, the stretch after the dropped
    blocks), and the backlog stays bounded."""
    mon = Monitor("null", stream_factory=PacedOutput)
    live = LiveInput(file=loop_file, monitor=mon)
    live.start()
    x = live._file_samples
    deadline = time.monotonic() + 60
    while live.state != "finished" and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)                                           # the last blocks drain
    live.stop()
    out = FakeOutput.instances[-1]
    b, played = live.block, 0
    # a block the input could not put in the ring (an overrun) is dropped whole: from
    # then on the ring's samples sit that many blocks behind the file's, and never ahead
    dropped, shift = mon.stats()["overruns"] * b, 0
    for block, mark in zip(out.heard, out.marks):
        if np.any(block != 0.0):                              # a block of input, not a gap
            while shift < dropped and not np.array_equal(block, x[mark - b + shift:mark + shift]):
                shift += b
            np.testing.assert_array_equal(block, x[mark - b + shift:mark + shift])
            played += b
    # all of it was heard, or counted: a stall of the output thread longer than the
    # ring's 0.5 s on a loaded machine drops blocks (overruns), a backlog is skipped;
    # at most what was still in hand at stop (the backlog) and a partial last block are
    # neither
    counted = played + mon.skipped + b * mon.stats()["overruns"]
    assert x.shape[0] - counted <= (BACKLOG_BLOCKS + 1) * b + x.shape[0] % b, (counted, x.shape)


def test_no_output_device_is_one_line_and_the_input_plays_on(loop_file):
    live = LiveInput(file=loop_file, monitor=Monitor("no-such-output-xyz"))
    source = live.start()
    try:
        assert live.monitor is None and live.state == "running"
        msg = live.stats()["monitor"]["message"]
        assert msg.startswith("monitor off:") and "\n" not in msg and "show goes on" in msg
        assert latency_text(source.status()["monitor"]) == msg     # the tab's line says why
    finally:
        live.stop()
    FakeOutput.refuse = True
    live = LiveInput(file=loop_file, monitor=Monitor(stream_factory=FakeOutput))
    live.start()
    try:
        assert "device unavailable" in live.monitor_message and live.state == "running"
    finally:
        live.stop()


class FakeSoundDevice:
    """sounddevice's device queries, for one output device."""

    class PortAudioError(Exception):
        pass

    def __init__(self, outputs: int, refuse: bool = False):
        self.outputs, self.refuse = outputs, refuse

    def query_devices(self, device=None, kind=None):
        return {"name": "USB Audio", "max_output_channels": self.outputs}

    def check_output_settings(self, **kw):
        if self.refuse:
            raise self.PortAudioError("Invalid sample rate")


def test_the_output_device_is_resolved_to_its_channels_and_name(monkeypatch):
    from graph_runtime.live import audio_device
    from graph_runtime.live.monitor import MonitorError, resolve_output
    for outputs, asked, want in ((2, 1, 2), (2, 2, 2), (1, 2, 1), (8, 2, 2)):
        monkeypatch.setattr(audio_device, "_sounddevice", lambda o=outputs: FakeSoundDevice(o))
        assert resolve_output(3, channels=asked, samplerate=SR) == (3, want, "USB Audio")
    monkeypatch.setattr(audio_device, "_sounddevice", lambda: FakeSoundDevice(0))
    with pytest.raises(MonitorError, match="has no output channels"):
        resolve_output(None, channels=2, samplerate=SR)
    monkeypatch.setattr(audio_device, "_sounddevice", lambda: FakeSoundDevice(2, refuse=True))
    with pytest.raises(MonitorError, match="refuses 2 ch at 44100 Hz"):
        resolve_output("USB Audio", channels=2, samplerate=SR)


def test_a_stereo_input_on_a_mono_output_is_mixed_down():
    mon = Monitor(channels=1, stream_factory=FakeOutput)
    mon.open(samplerate=SR, channels=2, block=441)
    mon.start()
    x = np.random.default_rng(0).standard_normal((441, 2)).astype(np.float32)
    mon.write(x)
    out = FakeOutput.instances[-1]
    out.pull()
    np.testing.assert_allclose(out.heard[-1][:, 0], 0.5 * (x[:, 0] + x[:, 1]), rtol=1e-6)
    mon.stop()

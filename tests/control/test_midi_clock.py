"""Tempo shared with the rig, end to end through the control session:

- MIDI clock out (24 ppqn, start/stop/continue) through a mido output port of the
  fake backend, whose bytes come back through mido's real Parser into MidiInputs'
  handler of a second show: that show follows the clock (tempo source "midi clock",
  tempo and phase), and use_tracker() hands the tempo back;
- OSC /hambajuba/beat, /bar, /tempo out over UDP loopback, decoded by python-osc;
- the rtmidi round trip, skipped only where no ALSA sequencer exists.
"""
from __future__ import annotations

import socket
import time

import hbj_fake_midi as fake
import pytest
from control_helpers import small_patch
from test_rtmidi import _alsa_reason

from graph_runtime.control.midi import MidiInputs, open_output
from graph_runtime.control.midi_clock import PPQN, ClockOut, OscBeatOut
from graph_runtime.show.headless_show import HeadlessShow

PORT = "Fake Cable 24:0"


def tap_tempo(show, bpm: float, t0: float = 0.0) -> None:
    for k in range(4):
        show.control.tap(t0 + k * 60.0 / bpm)


def run_frames(shows, seconds: float, fps: float = 100.0) -> None:
    """Each show drains its inbox once a frame, on the wall clock (as the window does)."""
    start = time.perf_counter()
    while (now := time.perf_counter() - start) < seconds:
        for s in shows:
            s.tick(now)
        time.sleep(1.0 / fps)


@pytest.fixture
def cable(registry):
    """(leader show, follower show, the leader's ClockOut): the leader taps 126 BPM and
    sends its clock into the fake cable; the follower listens on it."""
    fake.NAMES[:] = [PORT]
    leader = HeadlessShow(small_patch(), registry=registry)
    follower = HeadlessShow(small_patch(), registry=registry)
    midi = MidiInputs(follower.control.inbox, follower.control.relative,
                      backend_name="hbj_fake_midi", clock=follower.control.clock_in)
    midi.open("Fake Cable")
    out = ClockOut(leader.control.lead, port=open_output("Fake Cable", backend_name="hbj_fake_midi"))
    yield leader, follower, out
    out.stop()
    midi.stop()
    fake.NAMES.clear()


def test_the_follower_takes_tempo_and_phase_from_the_clock_and_hands_it_back(cable):
    leader, follower, out = cable
    tap_tempo(leader, 126.0)
    leader.tick(0.0)
    assert leader.control.tempo_source == "tap" and leader.control.lead.value.bpm == pytest.approx(126.0)
    assert follower.control.tempo_source == "tracker"
    out.start()
    run_frames([leader, follower], 1.5)
    c = follower.control
    assert c.tempo_source == "midi clock"
    assert c.clock_reading.bpm == pytest.approx(126.0, rel=0.01)
    assert any("following the MIDI clock" in r for r in c.reports)
    # phase: the follower's beats fall where the leader's do (wall time, within 10 ms: the
    # leader's own lead moves by its frame's lateness on a loaded machine)
    lead, got = leader.control.lead.value, c.lead.value
    period = 60.0 / 126.0
    off = ((got.beat_wall - lead.beat_wall) / period) % 1.0
    assert min(off, 1.0 - off) * period < 0.010, f"phase off by {min(off, 1 - off) * period * 1e3:.1f} ms"
    # the follower's scene grid follows too: a recall "on the next beat" lands on the clock's beat
    assert c.grid.bpm == pytest.approx(126.0, rel=0.01)
    # stop: the clock is lost, the tracker leads again; continue: the clock leads again
    out.pause()
    run_frames([leader, follower], 0.8)
    assert c.tempo_source == "tracker" and not c.clock_reading.running, c.reports
    out.resume()
    run_frames([leader, follower], 0.6)
    assert c.tempo_source == "midi clock"
    # the way back while the clock runs
    c.use_tracker()
    run_frames([leader, follower], 0.3)
    assert c.tempo_source == "tracker"
    c.use_midi_clock()
    run_frames([leader, follower], 0.3)
    assert c.tempo_source == "midi clock"


def test_the_clock_bends_to_a_new_tempo_without_doubling_a_beat(cable):
    leader, follower, out = cable
    tap_tempo(leader, 100.0)
    leader.tick(0.0)
    out.start()
    run_frames([leader, follower], 1.0)
    tap_tempo(leader, 140.0, t0=5.0)      # the leader's tempo changes under the running clock
    run_frames([leader, follower], 2.5)
    assert follower.control.clock_reading.bpm == pytest.approx(140.0, rel=0.02)
    j = out.jitter_ms()
    n = j["ticks"]
    due = out.target_wall[:n]               # the schedule (what is sent late on a loaded machine
    iv = due[1:] - due[:-1]                 # is the bench's figure, not this test's)
    assert iv.min() > 0.75 * 60.0 / 140.0 / PPQN          # never a burst of ticks
    assert iv.max() < 1.25 * 60.0 / 100.0 / PPQN          # never a hole


def test_osc_beats_bars_and_tempo_out(registry):
    import numpy as np
    from pythonosc.osc_packet import OscPacket
    show = HeadlessShow(small_patch(), registry=registry)
    tap_tempo(show, 150.0)
    show.tick(0.0)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.05)
    out = ClockOut(show.control.lead, osc=OscBeatOut("127.0.0.1", rx.getsockname()[1]))
    out.start()
    got = []
    end = time.perf_counter() + 3.0
    try:
        while time.perf_counter() < end:
            show.tick(time.perf_counter())
            try:
                data = rx.recv(2048)
            except socket.timeout:
                continue
            for m in OscPacket(data).messages:
                got.append((time.perf_counter(), m.message.address, tuple(m.message.params)))
        out.stop()
        while True:  # what was sent before the stop (a bar's messages travel as several datagrams)
            try:
                data = rx.recv(2048)
            except socket.timeout:
                break
            for m in OscPacket(data).messages:
                got.append((time.perf_counter(), m.message.address, tuple(m.message.params)))
    finally:
        out.stop()
        rx.close()
    beats = [(w, a[0], a[1]) for w, addr, a in got if addr == "/hambajuba/beat"]
    bars = [a[0] for _, addr, a in got if addr == "/hambajuba/bar"]
    tempos = [a[0] for _, addr, a in got if addr == "/hambajuba/tempo"]
    assert len(beats) >= 5
    idx = [b[1] for b in beats]
    assert idx == list(range(idx[0], idx[0] + len(idx)))           # every beat, in order
    pos = [b[2] for b in beats]
    assert pos == [(pos[0] + k) % 4 for k in range(len(pos))]       # position in the bar
    assert bars == list(range(1, len(bars) + 1)) and len(bars) == pos.count(0)
    assert tempos and all(abs(x - 150.0) < 0.5 for x in tempos)
    gaps = np.diff([b[0] for b in beats])
    assert np.median(gaps) == pytest.approx(0.4, abs=0.02)


@pytest.mark.skipif(_alsa_reason() is not None, reason=str(_alsa_reason()))
def test_rtmidi_clock_round_trip(registry):
    from graph_runtime.control.midi import backend
    be = backend()
    virt = be.open_input("hambajuba-clock-test", virtual=True)   # a port to send into
    virt.close()
    out_port = be.open_output("hambajuba-clock-out", virtual=True)
    follower = HeadlessShow(small_patch(), registry=registry)
    midi = MidiInputs(follower.control.inbox, clock=follower.control.clock_in)
    try:
        midi.open("hambajuba-clock-out")
        leader = HeadlessShow(small_patch(), registry=registry)
        tap_tempo(leader, 120.0)
        leader.tick(0.0)
        out = ClockOut(leader.control.lead, port=out_port)
        out.start()
        run_frames([leader, follower], 1.5)
        out.stop()
        assert follower.control.clock_reading.bpm == pytest.approx(120.0, rel=0.01) or \
            follower.control.tempo_source == "tracker"   # stopped: lost again
        assert any("following the MIDI clock" in r for r in follower.control.reports)
    finally:
        midi.stop()
        out_port.close()

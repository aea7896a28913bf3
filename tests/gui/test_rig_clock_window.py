"""The window and the rig's clock: a MIDI clock through the real MidiHandler takes the
tempo over (the Control tab says so), its button hands it back; --osc-beat-out sends
the window's beats to a loopback socket."""
from __future__ import annotations

import shutil
import socket
import threading
import time

import dearpygui.dearpygui as dpg
import mido
import pytest
from gui_harness import centre, step_until, xdo

from graph_runtime.control.midi import MidiHandler
from graph_runtime.graph import patch as P

pytestmark = [pytest.mark.gui,
              pytest.mark.skipif(shutil.which("xdotool") is None, reason="needs xdotool")]


def small(tmp_path):
    p = P.Patch()
    p.add_node("sae.block", {"block": "down.2.1", "feature_id": 7, "strength": 0.0,
                             "scale_by_mean": False}, (40.0, 40.0), node_id="sink")
    path = tmp_path / "small.patch"
    P.save(p, path)
    return str(path)


def test_midi_clock_leads_then_the_button_hands_the_tempo_back(make_app, tmp_path):
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.02)
    app = make_app(patch_path=small(tmp_path), beat_out=f"127.0.0.1:{rx.getsockname()[1]}")
    app.step(5)
    ctl = app.control
    assert not app.exit_problems and ctl.rig.out is not None
    app.tabs and dpg.set_value(app.tabs, app.tab_control)
    app.step(3)
    handler = MidiHandler(ctl.session.inbox, "drum machine", ctl.session.relative, ctl.session.clock_in)
    stop = threading.Event()

    def drum_machine():                  # 125 BPM: a tick every 20 ms, as rtmidi's thread would
        handler(mido.Message("start"))
        nxt = time.perf_counter()
        while not stop.is_set():
            handler(mido.Message("clock"))
            nxt += 60.0 / 125.0 / 24
            time.sleep(max(0.0, nxt - time.perf_counter()))

    th = threading.Thread(target=drum_machine, daemon=True)
    th.start()
    try:
        assert step_until(app, lambda: ctl.session.tempo_source == "midi clock")
        app.step(3)
        text = dpg.get_value(ctl.tags["lead"])
        assert text.startswith("tempo led by the MIDI clock: ") and text.endswith(" BPM")
        assert float(text.split(": ")[1].split()[0]) == pytest.approx(125.0, rel=0.01)
        assert dpg.get_item_configuration(ctl.tags["lead_button"])["show"]
        xdo(app, "mousemove", *centre(ctl.tags["lead_button"]), "click", "1")
        assert step_until(app, lambda: ctl.session.tempo_source != "midi clock")
        app.step(3)
        assert "ignored" in dpg.get_value(ctl.tags["lead"])      # the clock still runs: says so
        assert dpg.get_item_label(ctl.tags["lead_button"]) == "Follow MIDI clock"
    finally:
        stop.set()
        th.join()
    got = []
    end = time.monotonic() + 3.0
    while time.monotonic() < end and len(got) < 3:
        app.step(1)
        try:
            got.append(rx.recv(2048))
        except socket.timeout:
            pass
    rx.close()
    assert any(b"/hambajuba/beat" in g or b"/hambajuba/tempo" in g for g in got)

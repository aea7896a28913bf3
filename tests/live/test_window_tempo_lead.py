"""The Input tab says who leads the live tempo: a MIDI clock (through the real
MidiHandler, as rtmidi's thread would call it) takes it over and the tab says
"locked to the MIDI clock"; handed back (the Control tab's button), the tracker
leads again at once, and the tab says so with its confidence, level and last
correction."""
from __future__ import annotations

import re
import threading
import time

import dearpygui.dearpygui as dpg
import mido
import pytest
from gui_harness import step_until
from live_helpers import drum_loop

from graph_runtime.control.midi import MidiHandler

pytestmark = pytest.mark.gui


def shown_level(text: str) -> float:
    """The metrical level the tab shows: '... level 120 BPM in 4 ...' -> 120.0."""
    m = re.search(r"level (\d+) BPM in", text)
    return float(m.group(1)) if m else 0.0


@pytest.fixture
def loop_wav(tmp_path):
    import soundfile as sf
    path = tmp_path / "loop.wav"
    sf.write(path, drum_loop(12.0, bpm=120.0), 44100)
    return str(path)


def test_the_tab_says_the_midi_clock_leads_and_when_the_tracker_leads_again(make_app, loop_wav):
    app = make_app(live_input=loop_wav)
    panel, session = app.live_input, app.control.session
    panel.set_loop(True)
    app.tabs and dpg.set_value(app.tabs, app.tab_input)
    tempo = lambda: dpg.get_value(panel.tags["tempo"])   # noqa: E731
    assert step_until(app, lambda: "locked to the tracker" in tempo(), timeout=60)
    handler = MidiHandler(session.inbox, "drum machine", session.relative, session.clock_in)
    stop = threading.Event()

    def drum_machine():                  # 120 BPM: a tick every 20.8 ms
        handler(mido.Message("start"))
        nxt = time.perf_counter()
        while not stop.is_set():
            handler(mido.Message("clock"))
            nxt += 60.0 / 120.0 / 24
            time.sleep(max(0.0, nxt - time.perf_counter()))

    th = threading.Thread(target=drum_machine, daemon=True)
    th.start()
    try:
        assert step_until(app, lambda: "locked to the MIDI clock" in tempo(), timeout=30)
        assert panel.source.status()["tempo_lead"] == 2.0
        # the clock's tempo (its reading settles over a few ticks of a thread on a loaded machine)
        assert step_until(app, lambda: abs(panel.source.status()["bpm"] - 120.0) < 3.0, timeout=30)
        assert step_until(app, lambda: abs(shown_level(tempo()) - 120.0) < 3.0, timeout=10)
        assert "confidence" in tempo()
        session.use_tracker()            # the Control tab's "Use tracker" button
        t0 = panel.clock()
        assert step_until(app, lambda: panel.source.status()["tempo_lead"] == 0.0, timeout=30)
        assert panel.clock() - t0 < 2.0  # at once, not when the clock's 30 s hold ends
        assert step_until(app, lambda: "MIDI clock" not in tempo(), timeout=10)
        text = tempo()
        assert "(the tracker)" in text or "locked to the tracker" in text
        assert "% of estimates" in text and ("last correction" in text or "no correction yet" in text)
    finally:
        stop.set()
        th.join()

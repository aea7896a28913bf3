"""The Input tab in a real window: `--input FILE` plays through the live path,
the plan reads the live bank, the tab shows level and tempo; back to the track."""
from __future__ import annotations

import pathlib

import dearpygui.dearpygui as dpg
import numpy as np
import pytest
from gui_harness import step_until
from live_helpers import drum_loop

from graph_runtime.live.bank import LiveBank

pytestmark = pytest.mark.gui


@pytest.fixture
def loop_wav(tmp_path):
    import soundfile as sf
    path = tmp_path / "loop.wav"
    sf.write(path, drum_loop(12.0, bpm=120.0), 44100)
    return str(path)


def test_input_file_plays_live_and_the_tab_shows_it(make_app, loop_wav):
    patch = str(pathlib.Path(__file__).resolve().parents[2] / "patches" / "default.patch")
    app = make_app(patch_path=patch, live_input=loop_wav)
    panel = app.live_input
    assert panel.active and panel.input.name == loop_wav
    assert step_until(app, lambda: app.live.plan is not None
                      and isinstance(app.live.plan.bank, LiveBank), timeout=60)
    assert step_until(app, lambda: panel.source.status()["bpm"] > 0, timeout=60)
    app.step(10)                                       # the tab refreshes every 5 frames
    tempo_text = dpg.get_value(panel.tags["tempo"])
    assert "BPM" in tempo_text and "confidence" in tempo_text
    assert "dBFS" in dpg.get_item_configuration(panel.tags["level"])["overlay"]
    assert "approximations" not in dpg.get_value(panel.tags["approx"])   # the list itself
    assert "stems" in dpg.get_value(panel.tags["approx"])
    t0 = panel.clock()
    app.step(30)
    assert panel.clock() > t0                          # the stream clock drives the frames
    assert np.isfinite(app.live.plan.frame.vec).all()
    panel._pick("track")                               # back to the track's analysis
    app.step(5)
    assert not panel.active and not isinstance(getattr(app.live.plan, "bank", None), LiveBank)


def test_input_from_a_missing_device_is_a_message_not_a_crash(make_app):
    app = make_app(live_input="no-such-device-xyz")
    assert not app.live_input.active
    assert any("live input" in p for p in app.exit_problems)
    app.step(5)


def test_tap_tempo_overrides_the_live_tracker(make_app, loop_wav):
    app = make_app(live_input=loop_wav)
    panel = app.live_input
    assert step_until(app, lambda: panel.source.status()["bpm"] > 0, timeout=60)
    now = panel.clock()
    for k in range(4):                                  # four taps at 100 BPM, on the stream clock
        app.control.session.tap(now + k * 0.6)
    app.step(3)                                         # the panel hands it to the worker
    assert step_until(app, lambda: abs(panel.source.status()["bpm"] - 100.0) < 0.5, timeout=20)
    assert panel.input.analyser.tracker.pinned_until > panel.input.analyser.tracker.i


def test_the_panel_says_what_the_tracker_knows(make_app, loop_wav):
    """The Input tab's tempo line: locked or not and to what (tracker, tap), the
    confidence, the metrical level and the time since the last correction, from the
    analyser's status row (the main thread reads it; only it calls Dear PyGui)."""
    import dearpygui.dearpygui as dpg
    app = make_app(live_input=loop_wav)
    panel = app.live_input
    app.tabs and dpg.set_value(app.tabs, app.tab_input)
    assert step_until(app, lambda: panel.source.status()["tempo_locked"] == 1.0, timeout=60)
    assert step_until(app, lambda: "locked to the tracker" in dpg.get_value(panel.tags["tempo"]))
    text = dpg.get_value(panel.tags["tempo"])
    assert "confidence 0." in text or "confidence 1." in text
    assert "% of estimates" in text and ("last correction" in text or "no correction yet" in text)
    now = panel.clock()
    for k in range(4):
        app.control.session.tap(now + k * 0.5)
    assert step_until(app, lambda: "locked to tap" in dpg.get_value(panel.tags["tempo"]), timeout=20)


def test_an_input_file_that_ends_says_so_and_loop_keeps_it_going(make_app, tmp_path):
    """When the rehearsal file ends the window says so (the output must not just freeze),
    and "loop the file" keeps it going."""
    import soundfile as sf
    short = tmp_path / "short.wav"
    sf.write(short, drum_loop(1.0, bpm=120.0), 44100)
    app = make_app(live_input=str(short))
    panel = app.live_input
    assert step_until(app, lambda: any("input ended" in m for _, _, m in app.messages), timeout=30)
    assert panel.input.state == "finished"
    dpg.get_item_callback(panel.tags["loop"])(panel.tags["loop"], True)  # tick "loop the file"
    panel.start(str(short))  # play it again: now it loops
    t0 = panel.clock()
    assert step_until(app, lambda: panel.clock() > t0 + 2.5, timeout=30)  # past the 1 s file twice
    assert panel.input.state != "finished"

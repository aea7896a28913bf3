"""The Input tab's monitor out (`perform --input ... --monitor-out DEVICE`): the cue is
picked in the tab's combo, plays the live input to a (fake) output device, shows its
latency from its parts; a missing device is a warning and the show goes on."""
from __future__ import annotations

import dearpygui.dearpygui as dpg
import numpy as np
import pytest
from gui_harness import step_until
from live_helpers import FakeOutput, PacedOutput, drum_loop

pytestmark = pytest.mark.gui


@pytest.fixture
def loop_wav(tmp_path):
    import soundfile as sf
    path = tmp_path / "loop.wav"
    x = drum_loop(12.0, bpm=120.0)
    x += 0.01 + 0.01 * np.random.default_rng(1).random(x.shape, np.float32)   # no two bars alike
    sf.write(path, x, 44100)
    return str(path)


def test_monitor_out_without_a_device_warns_and_the_show_goes_on(make_app, loop_wav):
    app = make_app(live_input=loop_wav, monitor_out="no-such-output-xyz")
    panel = app.live_input
    assert panel.active and panel.input.monitor is None
    assert any(level == "warn" and "monitor off" in text and "show goes on" in text
               for _, level, text in app.messages)
    assert not app.exit_problems                              # a warning, not a failure
    assert step_until(app, lambda: "monitor off: no output device 'no-such-output-xyz'"
                      in dpg.get_value(panel.tags["monitor_state"]), timeout=30)
    t0 = panel.clock()
    assert step_until(app, lambda: panel.clock() > t0 + 0.5, timeout=30)   # the input plays on


def test_the_tab_cues_the_input_to_an_output_and_shows_the_latency(make_app, loop_wav):
    app = make_app(live_input=loop_wav)
    panel = app.live_input
    FakeOutput.instances = []
    panel.monitor_factory = PacedOutput                       # the null device: its own clock
    combo = panel.tags["monitor"]
    assert "default output" in dpg.get_item_configuration(combo)["items"]
    dpg.get_item_callback(combo)(combo, "default output")     # the user picks the cue
    out = FakeOutput.instances[-1]
    assert out.started and panel.input.monitor is not None
    assert step_until(app, lambda: "ms (in 0.0 + out 8.0 + block 10.0)"
                      in dpg.get_value(panel.tags["monitor_state"]), timeout=30)
    assert "18.0 ms" in dpg.get_value(panel.tags["monitor_state"])
    assert panel.source.status()["monitor"]["latency_ms"] == pytest.approx(18.0)
    assert step_until(app, lambda: sum(np.any(h != 0) for h in out.heard) >= 20, timeout=30)
    x, b = panel.input._file_samples, panel.input.block
    played = [(block, mark) for block, mark in list(zip(out.heard, out.marks)) if np.any(block != 0)]
    first, mark0 = played[0]                # the cue began mid-file: where in the file is it?
    at = [p for p in np.flatnonzero(x[:, 0] == first[0, 0]) if np.array_equal(x[p:p + b], first)]
    assert len(at) == 1
    for block, mark in played[:40]:         # then every block it plays is the next of the input
        start = at[0] + mark - mark0
        np.testing.assert_array_equal(block, x[start:start + b])
    gain = panel.tags["monitor_gain"]
    dpg.get_item_callback(gain)(gain, -6.0)
    assert panel.input.monitor.gain == pytest.approx(10 ** (-6 / 20))
    dpg.get_item_callback(combo)(combo, "off")
    assert panel.input.monitor is None and not out.started
    assert step_until(app, lambda: dpg.get_value(panel.tags["monitor_state"]) == "monitor: off")

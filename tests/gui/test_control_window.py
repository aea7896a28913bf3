"""The Control tab in a real window: OSC into the running window,
MIDI learn with a click on a param, scenes from keys 1-9, the perform panel.
MIDI messages go through the real MidiHandler into the window's inbox (this
machine has no ALSA sequencer to open a port on)."""
from __future__ import annotations

import shutil
import time

import dearpygui.dearpygui as dpg
import mido
import pytest
from gui_harness import centre, step_until, xdo
from pythonosc.udp_client import SimpleUDPClient

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


def test_osc_learn_scenes_and_the_perform_panel(make_app, tmp_path):
    app = make_app(patch_path=small(tmp_path), osc="127.0.0.1:0")
    app.step(5)
    ctl = app.control
    assert ctl.osc is not None and not app.exit_problems
    app.tabs and dpg.set_value(app.tabs, app.tab_control)
    app.step(3)
    # OSC into the running window: the next frame's plan carries it
    SimpleUDPClient("127.0.0.1", ctl.osc.port).send_message("/hambajuba/sink/strength", 12.5)
    assert step_until(app, lambda: app.model.param_value("sink", "strength") == 12.5)
    app.step(2)
    assert float(app.live.plan.frame.strength[0, 0]) == 12.5

    # learn: tick Learn, click the param on the node, move a control
    xdo(app, "mousemove", *centre(ctl.tags["learn"]), "click", "1")
    assert ctl.session.learning
    xdo(app, "mousemove", *centre(app.view._nodes["sink"].params["strength"].tag), "click", "1")
    assert ctl.session.learn_target == ("sink", "strength")
    learning = app.view._nodes["sink"].params["strength"].tag  # the feedback is on the node too
    assert step_until(app, lambda: ctl.badges.badge_of(learning) == "[LEARN: move a control]", 5)
    handler = MidiHandler(ctl.session.inbox, "test keys", ctl.session.relative)
    handler(mido.Message("control_change", channel=0, control=21, value=64))
    app.step(3)
    assert [b.describe() for b in ctl.session.bindings_for("sink", "strength")] == ["CC 21 ch 1"]
    handler(mido.Message("control_change", channel=0, control=21, value=127))
    assert step_until(app, lambda: app.model.param_value("sink", "strength") == 400.0)
    widget = app.view._nodes["sink"].params["strength"].tag
    assert step_until(app, lambda: ctl.badges.badge_of(widget) == "[CC 21 ch 1]")
    assert dpg.get_item_configuration(widget)["format"].startswith("[CC 21 ch 1] strength")
    # the bindings table: its row names the source; its curve combo edits the binding
    title, row = dpg.get_item_children(ctl.tags["bindings"], 1)
    assert dpg.get_value(dpg.get_item_children(title, 1)[0]) == "CC 21 ch 1 -> sink.strength"
    items = dpg.get_item_children(row, 1)
    curve = next(i for i in items if dpg.get_item_configuration(i).get("items") == ["lin", "log", "exp"])
    dpg.get_item_callback(curve)(curve, "log")
    app.step(2)
    assert app.model.patch.bindings[0]["curve"] == "log"
    ctl.session.remove_binding(0)  # the badge goes with the binding
    assert step_until(app, lambda: ctl.badges.badge_of(widget) is None)
    assert dpg.get_item_configuration(widget)["format"].startswith("strength")
    app.undo()  # and comes back with it
    assert step_until(app, lambda: ctl.badges.badge_of(widget) == "[CC 21 ch 1]")

    # right-click a param: learn it, and the add-node menu stays shut
    ctl.session.cancel_learn()
    xdo(app, "mousemove", *centre(widget), "click", "3")
    assert ctl.session.learn_target == ("sink", "strength") and not app.add_menu.is_open
    ctl.session.cancel_learn()

    # scenes: store two, recall the first with key 1 (now, a cut)
    app.model.set_param("sink", "strength", 5.0)
    dpg.set_value(ctl.tags["scene_name"], "low")
    ctl._store(False)
    app.model.set_param("sink", "strength", 300.0)
    dpg.set_value(ctl.tags["when"], "now")
    app.step(3)
    xdo(app, "mousemove", *centre(app.view.editor), "key", "1")
    assert step_until(app, lambda: app.model.param_value("sink", "strength") == 5.0)

    # the perform panel: pin the param last touched in the window, go perform
    ctl.session.last_touched = ("sink", "strength")
    ctl.perform.pin_last()
    assert P.loads(P.dumps(app.model.patch)).meta["perform"] == [["sink", "strength"]]
    app.toggle_perform()
    app.step(5)
    assert dpg.is_item_shown(ctl.perform.window)
    fader = ctl.perform.widgets[("sink", "strength")]
    assert dpg.get_value(fader) == pytest.approx(5.0)
    app.toggle_perform()
    app.step(3)
    assert not dpg.is_item_shown(ctl.perform.window)


def test_a_taken_osc_port_is_reported_and_the_show_goes_on(make_app, tmp_path):
    import socket

    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    try:
        app = make_app(patch_path=small(tmp_path), osc=str(port))
        app.step(5)
        assert any("already in use" in p for p in app.exit_problems)
        assert app.control.osc is None
        t0 = app.frames
        app.step(5)
        assert app.frames == t0 + 5
    finally:
        taken.close()
    time.sleep(0)

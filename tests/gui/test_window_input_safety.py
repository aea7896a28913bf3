"""Keys typed in a dialog never reach the canvas; Save As takes the path as
typed; an error stays on the status bar until replaced or dismissed.

Driven as a user does it: xdotool clicks into the Save As file name field
and types; the window runs frame by frame meanwhile."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import dearpygui.dearpygui as dpg
import pytest
from gui_harness import step_until

pytestmark = [pytest.mark.gui,
              pytest.mark.skipif(shutil.which("xdotool") is None, reason="needs xdotool")]

FILE_W, FILE_H = 640, 420  # the file dialog, centred on the viewport


def xdo(app, *args):
    proc = subprocess.Popen(["xdotool", *map(str, args)])
    while proc.poll() is None:
        app.step()
    app.step(5)
    assert proc.returncode == 0


def dialog_xy(app, dx, dy):
    """Screen position of a point of the centred file dialog."""
    vx, vy = dpg.get_viewport_pos()
    vw, vh = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
    return int(vx + (vw - FILE_W) // 2 + dx), int(vy + (vh - FILE_H) // 2 + dy)


def typed_name(app) -> str | None:
    """The file name field of the open file dialog, as Dear PyGui holds it."""
    fd = next(iter(app.dialogs._files), None)
    if fd is None:
        return None
    return (dpg.get_file_dialog_info(fd) or {}).get("file_name")


def erase_name(app, *keys) -> None:
    """Click into the file name field and erase it with `keys`, as a user would, again
    if a key was lost on the way (an xdotool ctrl+a that the X server delivered while
    the machine stalled reached the field as a plain 'a', or not at all, and the typed
    path went after the suggested name)."""
    for _ in range(3):
        xdo(app, "mousemove", *dialog_xy(app, 300, 379), "click", "1")  # into the file name field
        xdo(app, "key", "--delay", "40", *keys)
        if typed_name(app) == "":
            return
    assert typed_name(app) == "", f"the file name field still holds {typed_name(app)!r}"


def bar_text(app) -> str:
    """What the status bar shows (the widget, not the message log)."""
    item = getattr(app, "status_text", None)
    if item is None:
        item = app.status_bar.text
    return dpg.get_value(item)


def test_typing_in_save_as_never_reaches_the_canvas(make_app, tmp_path, monkeypatch):
    short = tempfile.mkdtemp(prefix="hbj", dir="/tmp")  # short: xdotool types every key
    monkeypatch.setenv("HOME", short)
    app = make_app()
    lfo = app.view.add_node_at("time.lfo", (300, 200))
    app.step(5)
    lo = dpg.get_item_rect_min(app.view.node_tag(lfo))
    vx, vy = dpg.get_viewport_pos()
    xdo(app, "mousemove", int(vx + lo[0] + 30), int(vy + lo[1] + 8), "click", "1")
    assert app.view.selected_nodes() == [lfo]

    app.ask_save_as()  # File > Save as...
    app.step(10)
    # erase the suggested name as a user would, then type an absolute path (a space too)
    erase_name(app, "ctrl+a", "BackSpace", "BackSpace", "Delete", "space", "BackSpace")
    target = os.path.join(short, "a b", "show.patch")
    os.mkdir(os.path.dirname(target))
    xdo(app, "type", "--delay", "60", target)
    assert app.model.patch.node(lfo) is not None, "Backspace/Delete in the dialog deleted the node"
    assert not app.transport.playing and app.model.revision >= 1
    xdo(app, "mousemove", *dialog_xy(app, 18, 403), "click", "1")  # OK
    assert step_until(app, lambda: os.path.exists(target), timeout=5), app.last_status()
    assert app.files.path == target
    assert "saved" in bar_text(app)
    assert app.model.patch.node(lfo) is not None
    # "~/..." is the user's home, not a folder called ~ in the one shown
    app.ask_save_as()
    app.step(10)
    erase_name(app, "ctrl+a", "BackSpace")
    xdo(app, "type", "--delay", "60", "~/gig.patch")
    xdo(app, "mousemove", *dialog_xy(app, 18, 403), "click", "1")
    assert step_until(app, lambda: os.path.exists(os.path.join(short, "gig.patch")), timeout=5), \
        app.last_status()
    assert app.model.patch.node(lfo) is not None
    shutil.rmtree(short)


def test_an_error_stays_until_replaced_or_dismissed(make_app, tmp_path):
    app = make_app(autosave_every=0.05)
    app.step(3)
    bad = app.save_as("/proc/not/here.patch")  # a place nobody can write
    assert bad and "cannot save" in bad
    app.dialogs.answer("OK")
    err = bar_text(app)
    assert "cannot save" in err
    # an edit, then the autosave a moment later: the newest message shows, and the
    # error stays in view as a red chip beside it until dismissed
    app.view.add_node_at("time.lfo", (30, 30))
    assert step_until(app, lambda: any("autosaved" in m for _, _, m in app.messages), timeout=5)
    app.step(5)
    assert "autosaved" in bar_text(app)
    assert "cannot save" in dpg.get_value(app.status_bar.more)
    assert any("cannot save" in m and lv == "error" for _, lv, m in app.messages)
    # another error replaces it; dismissing takes the chip away
    app.status("error", "a second problem")
    assert bar_text(app) == "a second problem" and dpg.get_value(app.status_bar.more) == ""
    app.status("info", "autosaved to somewhere")
    assert bar_text(app) == "autosaved to somewhere"
    assert "a second problem" in dpg.get_value(app.status_bar.more)
    assert dpg.get_item_configuration(app.status_bar.text)["color"][:3] != (230, 80, 70)
    app.status_bar.dismiss()
    app.step(2)
    assert "problem" not in bar_text(app) and dpg.get_value(app.status_bar.more) == ""
    app.screenshot(str(tmp_path / "status.png"))

"""Controls a performer touches mid-show, driven with the mouse and keys
(xdotool): param drags never jump and move in ratios over wide ranges; a
click on a feature row only selects it; loop A-B always matches its box;
the open-track chooser shows every audio format and opens on double-click."""
from __future__ import annotations

import os
import shutil

import dearpygui.dearpygui as dpg
import numpy as np
import pytest
import soundfile as sf
from gui_harness import centre, step_until, xdo

pytestmark = [pytest.mark.gui,
              pytest.mark.skipif(shutil.which("xdotool") is None, reason="needs xdotool")]


def drag_x(app, item, dx, *, shift=False):
    x, y = centre(item)
    steps = " ".join(f"mousemove {x + dx * k // 6} {y} sleep 0.05" for k in range(1, 7))
    down = "keydown shift " if shift else ""
    up = " keyup shift" if shift else ""
    xdo(app, *f"mousemove {x} {y} sleep 0.1 {down}mousedown 1 sleep 0.1 {steps} sleep 0.1 mouseup 1{up}".split())


def test_param_drags_are_relative_log_scaled_and_typed(make_app):
    app = make_app()
    lfo = app.view.add_node_at("time.lfo", (40, 60))
    app.step(5)
    rate = app.view._nodes[lfo].params["rate"].tag  # 0.001 .. 1000 Hz, default 1
    assert app.model.param_value(lfo, "rate") == 1.0
    # one click well right of the middle: nothing moves (a slider jumped to ~750 Hz)
    x, y = centre(rate)
    xdo(app, "mousemove", x + 50, y, "click", "1")
    assert app.model.param_value(lfo, "rate") == pytest.approx(1.0)
    # 60 px of drag: a ratio (about 1.8x), not 776 Hz
    drag_x(app, rate, 60)
    after = app.model.param_value(lfo, "rate")
    assert 1.3 < after < 3.0, after
    # Shift: the same drag moves far less
    drag_x(app, rate, 60, shift=True)
    fine = app.model.param_value(lfo, "rate")
    assert after < fine < after * 1.15, (after, fine)
    # a bounded linear param (phase 0..1) moves a share of its range, not to the click point
    phase = app.view._nodes[lfo].params["phase"].tag
    drag_x(app, phase, 40)
    assert 0.03 < app.model.param_value(lfo, "phase") < 0.3
    # Ctrl+click types a value
    x, y = centre(rate)
    xdo(app, "mousemove", x, y, "keydown", "ctrl", "click", "1", "keyup", "ctrl")
    xdo(app, "key", "ctrl+a")
    xdo(app, "type", "--delay", "60", "2.5")
    xdo(app, "key", "Return")
    assert app.model.param_value(lfo, "rate") == pytest.approx(2.5)
    assert app.model.patch.node(lfo) is not None


def rows(app):
    """(selectable, Row) of the feature table's rows, as drawn."""
    out = []
    for row in dpg.get_item_children(app.features.tags["table"], 1):
        sel = dpg.get_item_children(row, 1)[0]
        out.append((sel, dpg.get_item_user_data(sel)))
    return out


def test_a_click_on_a_feature_row_only_selects_it(make_app):
    app = make_app()
    sink = app.view.add_node_at("sae.block", (40, 60))
    app.select_target(sink)
    app.step(5)
    start = (app.model.param_value(sink, "block"), app.model.param_value(sink, "feature_id"))
    table = rows(app)
    sel, row = table[2]
    xdo(app, "mousemove", *centre(sel), "click", "1")
    assert app.features.current == row
    assert (app.model.param_value(sink, "block"), app.model.param_value(sink, "feature_id")) == start
    xdo(app, "key", "Return")  # Enter assigns the selected row
    assert app.model.param_value(sink, "feature_id") == row.id
    sel, row = table[3]
    xdo(app, "mousemove", *centre(sel), "click", "--repeat", "2", "--delay", "80", "1")  # double-click
    assert app.model.param_value(sink, "feature_id") == row.id
    sel, row = table[1]
    xdo(app, "mousemove", *centre(sel), "click", "1")
    assert app.model.param_value(sink, "feature_id") == table[3][1].id
    xdo(app, "mousemove", *centre(app.features.tags["assign"]), "click", "1")  # the Assign button
    assert app.model.param_value(sink, "feature_id") == row.id


def test_loop_box_matches_the_loop_and_snaps_to_bars(make_app, wav):
    app = make_app()
    bar = app.bar
    app.open_track(wav(8.0, "one.wav"))
    assert step_until(app, lambda: app.transport.track is not None)
    dpg.set_value(bar.tags["a"], 1.0)
    dpg.set_value(bar.tags["b"], 3.0)
    dpg.set_value(bar.tags["loop"], True)
    bar.apply_loop()  # the box's callback
    app.step(3)
    assert app.transport.output.loop == (1.0, 3.0)
    # File > Open track: the output forgets the loop, so the box unticks
    app.open_track(wav(6.0, "two.wav"))
    assert step_until(app, lambda: app.transport.path.endswith("two.wav"))
    app.step(3)
    assert app.transport.output.loop is None
    assert dpg.get_value(bar.tags["loop"]) is False
    # the region is drawn on the seek bar's strip, in proportion (dim while not looping)
    dpg.set_value(bar.tags["loop"], True)
    bar.apply_loop()
    app.step(3)
    x0, x1 = bar.loop_px
    w = dpg.get_item_rect_size(bar.tags["seek"])[0]
    assert abs(x0 - w / 6) < 2 and abs(x1 - 3 * w / 6) < 2
    dpg.set_value(bar.tags["loop"], False)
    bar.apply_loop()
    # snap to bars: 120 BPM in 4/4, a bar every 2 s
    dpg.set_value(bar.tags["snap"], True)
    app.seek(2.7)
    bar.set_point("a")
    app.seek(4.4)
    bar.set_point("b")
    dpg.set_value(bar.tags["loop"], True)
    bar.apply_loop()
    assert app.transport.output.loop == (2.0, 4.0)
    assert dpg.get_value(bar.tags["loop"]) is True


def test_open_track_shows_all_audio_starts_in_its_folder_and_double_click_opens(make_app, tmp_path):
    folder = tmp_path / "oggs"
    folder.mkdir()
    sr = 22050
    y = (0.2 * np.sin(2 * np.pi * 110 * np.arange(sr * 2) / sr)).astype(np.float32)
    for name in ("first.ogg", "second.ogg"):
        sf.write(folder / name, y, sr, format="OGG")
    app = make_app()
    app.open_track(str(folder / "first.ogg"))
    assert step_until(app, lambda: app.transport.track is not None)
    loads = app.transport.loads
    app.ask_open_track()  # File > Open track...
    app.step(10)
    app.screenshot(str(tmp_path / "open_track.png"))
    vx, vy = dpg.get_viewport_pos()
    vw, vh = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
    x0, y0 = vx + (vw - 640) // 2, vy + (vh - 420) // 2
    # the list's rows: directories first ("..") then the files; double-click each
    # row in turn until a track opens (a double-click on ".." would leave the folder)
    chooser = [i for i in dpg.get_all_items() if dpg.get_item_type(i) == "mvAppItemType::mvFileDialog"]
    assert len(chooser) == 1
    for k in range(4):
        ry = int(y0 + 96 + 17 * k)
        xdo(app, "mousemove", int(x0 + 120), ry, "click", "1", settle=3)
        if not (dpg.get_file_dialog_info(chooser[0]).get("file_name") or "").endswith(".ogg"):
            continue
        xdo(app, "click", "--repeat", "2", "--delay", "80", "1")
        break
    assert step_until(app, lambda: app.transport.loads > loads, timeout=20), app.last_status()
    assert os.path.dirname(app.transport.path) == str(folder)
    assert app.transport.path.endswith(".ogg")
    assert not app.dialogs.modal_open()

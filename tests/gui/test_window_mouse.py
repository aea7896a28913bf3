"""Drive the real window with the mouse (xdotool): drag a cable from an
output pin to an input pin, refuse a wrong one, paint the mask grid."""
from __future__ import annotations

import shutil
import subprocess
import time

import dearpygui.dearpygui as dpg
import pytest

from graph_runtime.graph.patch import Link

pytestmark = [pytest.mark.gui,
              pytest.mark.skipif(shutil.which("xdotool") is None, reason="needs xdotool")]


def pin_xy(app, node_id, port, side):
    """Screen position of a pin: the node's left or right edge, on the port's row."""
    attr = app.view.attr_of(node_id, port, side)
    row = dpg.get_item_children(attr, 1)[0]
    lo, hi = dpg.get_item_rect_min(row), dpg.get_item_rect_max(row)
    node = app.view.node_tag(node_id)
    nlo, nhi = dpg.get_item_rect_min(node), dpg.get_item_rect_max(node)
    vx, vy = dpg.get_viewport_pos()
    x = nhi[0] if side == "out" else nlo[0]
    return int(vx + x), int(vy + (lo[1] + hi[1]) / 2)


def drag(app, start, end, button=1, settle=0.4):
    """Press at start, move in steps, release at end, while the window runs."""
    (x0, y0), (x1, y1) = start, end
    moves = " ".join(f"mousemove {int(x0 + (x1 - x0) * k / 6)} {int(y0 + (y1 - y0) * k / 6)} sleep 0.05"
                     for k in range(1, 7))
    script = f"mousemove {x0} {y0} sleep 0.15 mousedown {button} sleep 0.1 {moves} sleep 0.1 mouseup {button}"
    proc = subprocess.Popen(["xdotool"] + script.split())
    while proc.poll() is None:
        app.step()
    end = time.monotonic() + settle
    while time.monotonic() < end:
        app.step()
    assert proc.returncode == 0


def test_drag_a_link_with_the_mouse(make_app, tmp_path):
    app = make_app(width=1200, height=800)
    view, model = app.view, app.model
    lfo = view.add_node_at("time.lfo", (30, 40))
    smooth = view.add_node_at("shape.smooth", (380, 60))
    paint = view.add_node_at("mask.paint", (30, 330))
    app.step(5)
    drag(app, pin_xy(app, lfo, "out", "out"), pin_xy(app, smooth, "x", "in"))
    assert Link((lfo, "out"), (smooth, "x")) in model.patch.links, app.last_status()
    assert view.link_tag(Link((lfo, "out"), (smooth, "x"))) is not None
    app.screenshot(str(tmp_path / "mouse_link.png"))
    # a mask output dropped on a signal input: refused, and the status bar says why
    drag(app, pin_xy(app, paint, "out", "out"), pin_xy(app, smooth, "attack_ms", "in")
         if view.attr_of(smooth, "attack_ms", "in") else pin_xy(app, smooth, "x", "in"))
    assert len(model.patch.links) == 1
    assert "kinds must match" in app.last_status()
    # click the cable to select it, Delete removes it, Ctrl+Z brings it back
    (x0, y0), (x1, y1) = pin_xy(app, lfo, "out", "out"), pin_xy(app, smooth, "x", "in")
    click(app, (x0 + x1) // 2, (y0 + y1) // 2)
    assert view.selected_links() == [Link((lfo, "out"), (smooth, "x"))]
    key(app, "Delete")
    assert model.patch.links == []
    key(app, "ctrl+z")
    assert model.patch.links == [Link((lfo, "out"), (smooth, "x"))]
    assert view.link_tag(model.patch.links[0]) is not None


def click(app, x, y):
    proc = subprocess.Popen(["xdotool", "mousemove", str(x), str(y), "sleep", "0.15",
                             "mousedown", "1", "sleep", "0.1", "mouseup", "1"])
    while proc.poll() is None:
        app.step()
    app.step(5)


def key(app, name):
    proc = subprocess.Popen(["xdotool", "key", name])
    while proc.poll() is None:
        app.step()
    app.step(5)


def test_paint_the_mask_with_the_mouse(make_app, tmp_path):
    app = make_app(width=1200, height=860)
    paint = app.view.add_node_at("mask.paint", (30, 40))
    app.step(3)
    lo = dpg.get_item_rect_min(app.view.node_tag(paint))
    vx, vy = dpg.get_viewport_pos()
    click(app, int(vx + lo[0] + 30), int(vy + lo[1] + 8))  # select the node: the painter follows
    assert app.view.selected_nodes() == [paint] and app.painter.node == paint
    dpg.set_value(app.tabs, app.tab_mask)
    app.painter.apply_preset("clear")
    app.step(5)
    canvas = app.painter.tags["canvas"]
    lo = dpg.get_item_rect_min(canvas)
    vx, vy = dpg.get_viewport_pos()
    cell = 15

    def xy(r, c):
        return int(vx + lo[0] + 1 + c * cell + cell // 2), int(vy + lo[1] + 1 + r * cell + cell // 2)

    drag(app, xy(15, 0), xy(15, 15))  # paint the bottom row, left button
    grid = app.model.param_value(paint, "grid")
    assert sum(grid[15 * 16:]) >= 14 and sum(grid[:15 * 16]) == 0
    drag(app, xy(15, 4), xy(15, 8), button=3)  # erase part of it, right button
    grid = app.model.param_value(paint, "grid")
    assert 0 < sum(grid[15 * 16:]) < 14
    app.screenshot(str(tmp_path / "mouse_mask.png"))


def test_dragging_a_node_moves_it_in_the_patch_panning_does_not(make_app, tmp_path):
    app = make_app(width=1200, height=800)
    view, model = app.view, app.model
    lfo = view.add_node_at("time.lfo", (60, 60))
    other = view.add_node_at("shape.smooth", (400, 300))
    app.step(5)
    lo = dpg.get_item_rect_min(view.node_tag(lfo))
    vx, vy = dpg.get_viewport_pos()
    title = (int(vx + lo[0] + 30), int(vy + lo[1] + 8))
    drag(app, title, (title[0] + 120, title[1] + 60))
    x, y = model.patch.node(lfo).pos
    assert abs(x - 180) <= 2 and abs(y - 120) <= 2, (x, y)
    assert model.patch.node(other).pos == (400.0, 300.0)
    # pan the canvas (middle button): no node moves in the patch
    empty = (int(vx + 450), int(vy + 650))
    before = dpg.get_item_rect_min(view.node_tag(other))
    drag(app, empty, (empty[0] - 150, empty[1] - 40), button=2)
    app.input.on_mouse_release()
    after = dpg.get_item_rect_min(view.node_tag(other))
    assert abs(after[0] - before[0] + 150) <= 3 and abs(after[1] - before[1] + 40) <= 3  # it panned
    assert model.patch.node(other).pos == (400.0, 300.0)
    assert abs(model.patch.node(lfo).pos[0] - 180) <= 2
    # a node added where the mouse is lands under the mouse, panned or not
    grid = view.screen_to_grid(500, 400)
    n = view.add_node_at("time.lfo", grid)
    app.step(3)
    rect = dpg.get_item_rect_min(view.node_tag(n))
    assert abs(rect[0] - 500) <= 2 and abs(rect[1] - 400) <= 2, rect

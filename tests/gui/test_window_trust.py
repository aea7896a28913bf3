"""What the window says when something is wrong, and where things are:
broken links drawn red and deletable, "N problems" over the output, which
patch drives the image, a track that did not open, approximate stems, the
window inside its screen and the whole default patch in view."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import dearpygui.dearpygui as dpg
import pytest
from gui_harness import step_until

from graph_runtime.graph.patch import Link

pytestmark = [pytest.mark.gui,
              pytest.mark.skipif(shutil.which("xdotool") is None, reason="needs xdotool")]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GHOST = Link(("ghost", "out"), ("sm", "x"))
NO_OUT = Link(("lfo", "nope"), ("sm", "x"))
NO_IN = Link(("lfo", "out"), ("sm", "nope_in"))


def broken_patch(folder) -> str:
    doc = {"format": "hambajuba.patch", "version": 1, "meta": {}, "engine": {},
           "nodes": [{"id": "lfo", "type": "time.lfo", "params": {}, "pos": [40, 40]},
                     {"id": "sm", "type": "shape.smooth", "params": {}, "pos": [420, 40]}],
           "links": [{"from": list(l.src), "to": list(l.dst)} for l in (GHOST, NO_OUT, NO_IN)]}
    path = os.path.join(folder, "broken.patch")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    return path


def xdo(app, *args):
    proc = subprocess.Popen(["xdotool", *map(str, args)])
    while proc.poll() is None:
        app.step()
    app.step(5)


def pin_xy(attr, side):
    """A pin: its node's left or right edge, on its row."""
    row = dpg.get_item_children(attr, 1)[0]
    lo, hi = dpg.get_item_rect_min(row), dpg.get_item_rect_max(row)
    node = dpg.get_item_parent(attr)
    nlo, nhi = dpg.get_item_rect_min(node), dpg.get_item_rect_max(node)
    return (nhi[0] if side == "out" else nlo[0]), (lo[1] + hi[1]) / 2


def test_broken_links_are_drawn_and_deletable_and_the_output_says_n_problems(make_app, tmp_path):
    app = make_app(patch_path=broken_patch(str(tmp_path)))
    app.step(10)
    view = app.view
    for link in (GHOST, NO_OUT, NO_IN):  # every link of the file is on the canvas
        tag = view.link_tag(link)
        assert tag is not None and dpg.does_item_exist(tag), link
    # nothing ever compiled: the output says so instead of a black picture
    assert not app.live.ok and app.live.plan is None
    assert app.output.notice.startswith("3 problems")
    assert "nothing drives the image" in app.output.notice
    assert not any("last good plan keeps playing" in m for _, _, m in app.messages)
    app.screenshot(str(tmp_path / "broken.png"))
    # click the red link from the missing node, Delete removes it (and its stand-in node)
    a = pin_xy(view._ghost_pins[("ghost", "out", "out")], "out")
    b = pin_xy(view.attr_of("sm", "x", "in"), "in")
    vx, vy = dpg.get_viewport_pos()
    xdo(app, "mousemove", int(vx + (a[0] + b[0]) / 2), int(vy + (a[1] + b[1]) / 2), "sleep", "0.15",
        "mousedown", "1", "sleep", "0.1", "mouseup", "1")
    assert view.selected_links() == [GHOST]
    xdo(app, "key", "Delete")
    assert GHOST not in app.model.patch.links and view.link_tag(GHOST) is None
    assert len(app.model.patch.links) == 2
    app.step(3)
    assert app.output.notice.startswith("2 problems")
    # the rest through the same handler as the Delete key; then it compiles
    view.delete_selected(nodes=[], links=[NO_OUT, NO_IN])
    assert step_until(app, lambda: app.live.ok, timeout=5)
    app.step(3)
    assert app.output.notice == ""
    assert not [i for i in dpg.get_all_items() if dpg.get_item_type(i) == "mvAppItemType::mvNode"
                and "missing node" in (dpg.get_item_label(i) or "")]


def test_opening_a_broken_patch_mid_show_says_which_patch_plays(make_app, tmp_path):
    app = make_app(patch_path=os.path.join(ROOT, "patches", "default.patch"))
    assert step_until(app, lambda: app.live.plan is not None and app.live.ok, timeout=10)
    assert app.output.notice == ""
    assert app.open_patch(broken_patch(str(tmp_path))) == []
    assert step_until(app, lambda: not app.live.ok, timeout=10)
    app.step(3)
    assert "broken.patch" in app.output.notice and "default.patch" in app.output.notice
    assert "still comes from default.patch" in app.output.notice


def test_a_track_that_does_not_open_says_why_in_the_window(make_app, tmp_path):
    bad = tmp_path / "notaudio.ogg"
    bad.write_text("this is not audio")
    app = make_app(track_path=str(bad))
    assert step_until(app, lambda: any("not an audio file" in m for _, _, m in app.messages), timeout=10)
    app.step(10)
    track_line = dpg.get_value(app.bar.tags["track"])
    assert "notaudio.ogg" in track_line and "not an audio file" in track_line
    app.status("info", "something later")  # e.g. the engine coming up: newest on the bar,
    assert dpg.get_value(app.status_bar.text) == "something later"  # the error in its chip
    assert dpg.get_value(app.status_bar.more).startswith("  ! ")
    assert "not an audio file" in dpg.get_value(app.status_bar.more_tip)


def test_approximate_stems_badge_in_the_transport(make_app, wav):
    from graph_runtime.analysis.store import synthetic

    def approx(path, progress, duration):
        a = synthetic(duration)
        a.meta.update(separator="approx", beat_tracker="beat_this")
        return a, ""

    app = make_app(analyze=approx)
    app.open_track(wav(3.0))
    assert step_until(app, lambda: app.transport.track is not None)
    app.step(8)
    assert dpg.is_item_shown(app.bar.badges.tags["stems"])
    assert "approximate stems" in dpg.get_item_label(app.bar.badges.tags["stems"])
    assert not dpg.is_item_shown(app.bar.badges.tags["beats"])


def test_layout_at_1600x1000_shows_the_default_patch_and_the_feature_buttons(make_app, tmp_path):
    app = make_app(width=1600, height=1000, patch_path=os.path.join(ROOT, "patches", "default.patch"))
    app.step(10)
    vx, vy = dpg.get_viewport_pos()
    vw, vh = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
    assert vx >= 0 and vy >= 0 and vx + vw <= 1600 and vy + vh <= 1000  # the Xvfb screen
    view = app.view
    area = dpg.get_item_state(view.area)
    (ax, ay), (aw, ah) = area["pos"], area["rect_size"]
    for sink in ("sink_bass", "sink_drums"):  # the sink column is on the canvas, not under the panel
        lo, hi = dpg.get_item_rect_min(view.node_tag(sink)), dpg.get_item_rect_max(view.node_tag(sink))
        assert ax <= lo[0] and hi[0] <= ax + aw, (sink, lo, hi, ax, aw)
    right = dpg.get_item_state(app.right)
    assert right["pos"][0] >= ax + aw
    button = dpg.get_item_state(app.features.tags["assign"])
    assert button["rect_max"][1] <= right["pos"][1] + right["rect_size"][1]
    app.screenshot(str(tmp_path / "layout_1600x1000.png"))
    # the view scrolled far off (as a middle-drag does), then F fits the patch back
    view.set_pan((view.pan[0] - 700, view.pan[1] - 300))
    app.step(3)
    hi = dpg.get_item_rect_max(view.node_tag("sink_bass"))
    assert hi[0] < ax + aw - 400
    x0, y0 = int(vx + ax + 640), int(vy + ay + 300)
    xdo(app, "mousemove", x0, y0, "key", "f")
    app.step(3)
    lo, hi = dpg.get_item_rect_min(view.node_tag("sink_bass")), dpg.get_item_rect_max(view.node_tag("sink_bass"))
    assert ax <= lo[0] and hi[0] <= ax + aw
    assert app.model.patch.node("sink_bass").pos == (960.0, 0.0)  # the view moved, not the patch
    # a node from the Add menu (no place given) lands in free space on screen
    nid = view.add_node_at("time.lfo")
    app.step(5)
    lo, hi = dpg.get_item_rect_min(view.node_tag(nid)), dpg.get_item_rect_max(view.node_tag(nid))
    assert ax <= lo[0] and hi[0] <= ax + aw and ay <= lo[1] and hi[1] <= ay + ah
    for other in app.model.patch.nodes:
        if other.id == nid:
            continue
        olo, ohi = dpg.get_item_rect_min(view.node_tag(other.id)), dpg.get_item_rect_max(view.node_tag(other.id))
        assert hi[0] <= olo[0] or ohi[0] <= lo[0] or hi[1] <= olo[1] or ohi[1] <= lo[1], other.id
    # an auto chain (five columns) lands where it is seen
    ids = app.auto_chain("other", "up.0.1")
    app.step(8)
    for n in ids:
        lo, hi = dpg.get_item_rect_min(view.node_tag(n)), dpg.get_item_rect_max(view.node_tag(n))
        assert ax <= lo[0] and hi[0] <= ax + aw and ay <= lo[1] < ay + ah, n
    # a long message: cut on the bar, whole in its tooltip and in Messages
    long = "engine: " + "a very long reason " * 30
    app.status("warn", long)
    shown = dpg.get_value(app.status_bar.text)
    assert shown.endswith("...") and len(shown) < len(long)
    assert long in dpg.get_value(app.status_bar.tip)
    assert any(m == long for _, _, m in app.messages)

"""Build a patch in the real window through the same handlers the mouse uses."""
from __future__ import annotations

import dearpygui.dearpygui as dpg
import pytest

from graph_runtime.graph.patch import Link, dumps

pytestmark = pytest.mark.gui


def pins(app, src, dst):
    return (app.view.attr_of(src[0], src[1], "out"), app.view.attr_of(dst[0], dst[1], "in"))


def test_build_link_refuse_delete_undo_redo_save_reopen(make_app, tmp_path):
    app = make_app()
    view, model = app.view, app.model
    app.step(3)
    lfo = view.add_node_at("time.lfo", (20, 40))
    smooth = view.add_node_at("shape.smooth", (260, 40))
    paint = view.add_node_at("mask.paint", (20, 260))
    sink = view.add_node_at("sae.block", (520, 40))
    note = app.add_comment("LFO breathes the mid block")
    app.step(3)
    assert all(view.node_tag(n) for n in (lfo, smooth, paint, sink, note))

    # link as Dear PyGui reports a drag: (pin, pin) to the editor's callback
    assert view.on_link(view.editor, pins(app, (lfo, "out"), (smooth, "x"))) is None
    assert view.on_link(view.editor, pins(app, (smooth, "out"), (sink, "strength"))) is None
    assert view.on_link(view.editor, pins(app, (paint, "out"), (sink, "mask"))) is None
    app.step(2)
    assert len(model.patch.links) == 3
    for link in model.patch.links:
        assert dpg.does_item_exist(view.link_tag(link))

    # a wrong link: mask output into a signal input, refused with the reason shown
    bad = view.on_link(view.editor, (view.attr_of(paint, "out", "out"),
                                     view.attr_of(sink, "gain", "in")))
    app.step(2)
    assert bad and "kinds must match" in bad
    assert "kinds must match" in app.last_status()
    assert len(model.patch.links) == 3

    # a param through its widget's handler; an out-of-range one is refused
    assert view.on_param(lfo, "rate", 2.5) is None
    assert view.on_param(lfo, "rate", -4.0) is not None
    assert model.param_value(lfo, "rate") == 2.5
    saved_text = dumps(model.patch)

    # delete a node (as the Delete key does with it selected): its links go too
    assert view.delete_selected(nodes=[smooth], links=[]) == 1
    app.step(2)
    assert model.patch.node(smooth) is None
    assert len(model.patch.links) == 1 and view.node_tag(smooth) is None
    link_tags = {l: view.link_tag(l) for l in model.patch.links}
    assert all(dpg.does_item_exist(t) for t in link_tags.values())

    # delete a link alone, as the delink callback reports it
    view.on_delink(view.editor, view.link_tag(Link((paint, "out"), (sink, "mask"))))
    app.step(1)
    assert model.patch.links == []

    app.undo()  # the link
    app.undo()  # the node and its two links
    app.step(2)
    assert dumps(model.patch) == saved_text
    assert view.node_tag(smooth) and all(view.link_tag(l) for l in model.patch.links)
    app.redo()
    app.step(1)
    assert model.patch.node(smooth) is None
    app.undo()
    app.step(2)

    path = tmp_path / "built.patch"
    assert app.save_as(str(path)) is None
    assert not model.dirty
    app.screenshot(str(tmp_path / "built.png"))
    before = dumps(model.patch)
    app.new_patch()
    app.step(2)
    assert model.patch.nodes == []
    assert app.open_patch(str(path)) == []
    app.step(3)
    assert dumps(model.patch) == before
    assert view.node_tag(note) is not None and len(model.patch.links) == 3
    assert app.live.ok and app.live.plan is not None
    assert (tmp_path / "built.png").stat().st_size > 10_000


def test_copy_paste_duplicate_and_positions(make_app, tmp_path):
    app = make_app()
    view, model = app.view, app.model
    a = view.add_node_at("time.lfo", (0, 0))
    b = view.add_node_at("shape.curve", (250, 0))
    view.on_link(view.editor, pins(app, (a, "out"), (b, "x")))
    app.step(2)
    assert view.copy_selected(nodes=[a, b]) == 2
    assert "shape.curve" in dpg.get_clipboard_text()  # the nodes as JSON, for other windows
    new = view.paste_at((0, 300))
    dup = view.duplicate_selected(nodes=[b])
    app.step(3)
    assert len(model.patch.nodes) == 5 and len(model.patch.links) == 2
    assert all(view.node_tag(n) for n in new + dup)
    # a node dragged on the canvas: the position reaches the patch on mouse release
    dpg.set_item_pos(view.node_tag(a), [123, 456])
    app.step(1)
    assert view.sync_positions()
    assert model.patch.node(a).pos == (123.0, 456.0)
    app.undo()
    app.step(1)
    assert model.patch.node(a).pos == (0.0, 0.0)
    assert dpg.get_item_pos(view.node_tag(a))[:2] == [0, 0]


def test_edit_that_does_not_compile_keeps_playing(make_app, tmp_path, wav):
    app = make_app()
    view = app.view
    app.open_track(wav(3.0))
    from gui_harness import step_until

    assert step_until(app, lambda: app.transport.track is not None)
    lfo = view.add_node_at("time.lfo", (0, 0))
    sinks = [view.add_node_at("sae.block", (300, 120 * i)) for i in range(4)]
    for s in sinks:
        view.on_param(s, "block", "mid.0")
    view.on_link(view.editor, pins(app, (lfo, "out"), (sinks[0], "strength")))
    app.transport.play()
    app.step(10)
    assert app.live.ok
    good = app.live.plan
    fifth = view.add_node_at("sae.block", (300, 600))
    view.on_param(fifth, "block", "mid.0")  # a fifth feature on one block: no slot left
    app.step(3)
    assert not app.live.ok and app.live.plan is good
    (culprit,) = app.live.node_problems()  # the sink that found no slot
    assert "carries" in dpg.get_value(view._nodes[culprit].problem_text)
    assert dpg.is_item_shown(view._nodes[culprit].problem_attr)
    t0 = app.transport.time()
    app.step(20)
    assert app.transport.time() > t0  # the music never stopped
    app.screenshot(str(tmp_path / "error_on_node.png"))
    view.on_param(fifth, "block", "up.0.1")
    app.step(3)
    assert app.live.ok and app.live.plan is not good
    assert not dpg.is_item_shown(view._nodes[culprit].problem_attr)


def test_add_menu_search_auto_chain_and_help(make_app, tmp_path):
    app = make_app()
    view, model = app.view, app.model
    app.step(2)
    app.add_menu.open((40.0, 60.0), screen=(300, 200))
    dpg.set_value(app.add_menu.search, "spring")
    app.add_menu._refresh()
    app.add_menu.pick_first()  # Enter in the search box
    app.step(2)
    assert [n.type for n in model.patch.nodes] == ["physics.spring"]
    assert model.patch.nodes[0].pos == (40.0, 60.0)
    assert not app.add_menu.is_open
    ids = app.auto_chain("drums", "up.0.0")
    app.step(3)
    assert len(ids) >= 4 and all(view.node_tag(n) for n in ids)
    assert app.live.ok
    app.undo()
    app.step(2)
    assert len(model.patch.nodes) == 1
    app.dialogs.message("Shortcuts", "test")
    app.step(2)
    assert "Shortcuts" in app.dialogs.pending
    app.screenshot(str(tmp_path / "help.png"))

"""The editor model without a window: every action is a command, refusals
change nothing, undo/redo walk snapshots (more than 50 deep)."""
from __future__ import annotations

import pytest

from graph_runtime.graph.patch import Link, dumps, loads
from graph_runtime.show.commands import EditorModel
from hambajuba_nodes.editor.add_menu import matches
from hambajuba_nodes.registry import default_registry


@pytest.fixture
def model():
    return EditorModel(default_registry())


def test_add_link_delete_undo_redo(model):
    lfo = model.add_node("time.lfo", (0, 0))
    smooth = model.add_node("shape.smooth", (200, 0))
    assert model.link((lfo, "out"), (smooth, "x")) is None
    assert Link((lfo, "out"), (smooth, "x")) in model.patch.links
    before = dumps(model.patch)
    assert model.delete([lfo]) == 1
    assert model.patch.node(lfo) is None and model.patch.links == []  # its links went too
    assert model.undo()
    assert dumps(model.patch) == before
    assert model.redo()
    assert model.patch.node(lfo) is None


def test_link_ends_in_either_order_and_input_takes_one_link(model):
    a = model.add_node("time.lfo")
    b = model.add_node("time.lfo")
    s = model.add_node("shape.smooth")
    assert model.link((s, "x"), (a, "out")) is None  # dragged from the input side
    assert model.link((b, "out"), (s, "x")) is None  # replaces the first
    assert model.patch.links == [Link((b, "out"), (s, "x"))]


def test_refused_links_say_why_and_change_nothing(model):
    lfo = model.add_node("time.lfo")
    thr = model.add_node("logic.threshold")
    smooth = model.add_node("shape.smooth")
    rev = model.revision
    reason = model.link((thr, "fire"), (smooth, "x"))  # trigger -> signal
    assert "kinds must match" in reason
    assert "no input" in model.link((lfo, "out"), (smooth, "nope"))
    model.link((lfo, "out"), (smooth, "x"))
    assert "itself" in model.link((smooth, "out"), (smooth, "x"))
    curve = model.add_node("shape.curve")
    model.link((smooth, "out"), (curve, "x"))
    assert "loop" in model.link((curve, "out"), (smooth, "x"))
    assert model.revision == rev + 3  # only the two good links and the add changed it


def test_feedback_through_delay_is_allowed(model):
    smooth = model.add_node("shape.smooth")
    delay = model.add_node("logic.delay")
    assert model.link((smooth, "out"), (delay, "x")) is None
    assert model.link((delay, "out"), (smooth, "x")) is None


def test_params_are_checked_and_gestures_merge(model):
    lfo = model.add_node("time.lfo")
    assert "above the maximum" in model.set_param(lfo, "rate", 1e9)
    assert "not one of" in model.set_param(lfo, "shape", "wobble")
    steps = len(model._undo)
    for v in (1.0, 2.0, 3.0):  # one slider drag
        assert model.set_param(lfo, "rate", v, merge=("param", lfo, "rate")) is None
    assert len(model._undo) == steps + 1
    model.undo()
    assert model.param_value(lfo, "rate") == 1.0  # the value before the drag (default)


def test_more_than_fifty_undo_steps(model):
    lfo = model.add_node("time.lfo")
    for i in range(60):
        model.set_param(lfo, "rate", 1.0 + i)
    for _ in range(55):
        assert model.undo()
    assert model.param_value(lfo, "rate") == 5.0
    for _ in range(55):
        assert model.redo()
    assert model.param_value(lfo, "rate") == 60.0


def test_copy_paste_duplicate_keep_internal_links(model):
    a = model.add_node("time.lfo", (0, 0))
    b = model.add_node("shape.smooth", (200, 0))
    c = model.add_node("shape.curve", (400, 0))
    model.link((a, "out"), (b, "x"))
    model.link((b, "out"), (c, "x"))
    assert model.copy([a, b]) == 2
    new = model.paste()
    assert len(new) == 2 and set(new).isdisjoint({a, b, c})
    assert Link((new[0], "out"), (new[1], "x")) in model.patch.links
    assert not any(l.dst[0] == c and l.src[0] in new for l in model.patch.links)  # external link not copied
    assert model.patch.node(new[0]).pos == (40.0, 40.0)
    dup = model.duplicate([c])
    assert model.patch.node(dup[0]).type == "shape.curve"
    at = model.paste(at=(1000, 500))
    assert model.patch.node(at[0]).pos == (1000.0, 500.0)


def test_comments_and_positions(model):
    note = model.add_comment("kick drives the floor", (10, 20))
    assert model.patch.node(note).params == {"text": "kick drives the floor"}
    assert model.move_nodes({note: (300, 400)})
    assert not model.move_nodes({note: (300, 400)})  # no change, no undo step
    text = dumps(model.patch)
    assert loads(text).node(note).pos == (300.0, 400.0)


def test_dirty_tracking_and_replace(model):
    assert not model.dirty
    model.add_node("time.lfo")
    assert model.dirty
    model.mark_saved()
    assert not model.dirty
    model.replace(loads(dumps(model.patch)))
    assert not model.dirty and not model.can_undo


def test_unknown_types_take_no_new_links_but_keep_theirs():
    reg = default_registry()
    text = ('{"format": "hambajuba.patch", "version": 1, "nodes": ['
            '{"id": "a", "type": "time.lfo", "params": {}, "pos": [0, 0]},'
            '{"id": "z", "type": "future.thing", "params": {"q": 1}, "pos": [0, 0]}],'
            '"links": [{"from": ["a", "out"], "to": ["z", "in"]}]}')
    model = EditorModel(reg, loads(text))
    assert "unknown node type" in model.link(("a", "out"), ("z", "other"))
    assert len(model.patch.links) == 1


def test_add_menu_search():
    reg = default_registry()
    assert matches(reg, "lfo")[0][2] == "time.lfo"
    assert all(e[0] == "math" or "math" in e[2] or "math" in e[3].lower() for e in matches(reg, "math"))
    assert len(matches(reg, "")) == len(reg)


def test_compound_edit_is_one_undo_step_and_failure_changes_nothing(model):
    from hambajuba_nodes.content.auto_chain import auto_chain

    ids, reason = model.apply("auto chain", lambda p: auto_chain(p, "bass", "mid.0"))
    assert reason is None and len(ids) >= 4
    assert any(l.dst[0] == ids[-1] or l.src[0] in ids for l in model.patch.links)
    before = dumps(model.patch)
    _, reason = model.apply("auto chain", lambda p: auto_chain(p, "bass", "no.such.block"))
    assert "unknown block" in reason and dumps(model.patch) == before
    model.undo()
    assert model.patch.nodes == []

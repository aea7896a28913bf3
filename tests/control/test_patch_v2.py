"""The .patch format v2 (bindings, scenes) and the migration from v1."""
import json
from pathlib import Path

import pytest

from graph_runtime.control.bindings import parse_binding, parse_bindings
from graph_runtime.graph import patch as P

# every patch shipped in version 1, as it was committed before version 2
V1 = sorted((Path(__file__).parent / "v1_patches").glob("*.patch"))
SHIPPED = sorted((Path(__file__).parents[2] / "patches").glob("*.patch"))


def test_the_v1_copies_cover_every_shipped_patch():
    assert len(V1) == 5 and {p.name for p in SHIPPED} <= {p.name for p in V1}


@pytest.mark.parametrize("path", V1, ids=lambda p: p.name)
def test_every_shipped_v1_patch_migrates_unchanged(path):
    raw = json.loads(path.read_text())
    assert raw["version"] == 1
    patch = P.load(path)
    doc = patch.to_json()
    assert doc["version"] == P.VERSION == 2
    assert doc["bindings"] == [] and doc["scenes"] == []
    for key in ("meta", "engine", "nodes", "links"):  # everything v1 said, exactly
        want = raw[key] if key != "engine" else {**P.ENGINE_DEFAULTS, **raw[key]}
        assert doc[key] == want, key
    assert P.loads(P.dumps(patch)).to_json() == doc


def test_v0_still_migrates_through_v1():
    v0 = {"version": 0, "nodes": {"a": {"type": "value.constant", "x": 1, "y": 2}},
          "links": []}
    patch = P.from_json(v0)
    assert patch.nodes[0].pos == (1.0, 2.0) and patch.bindings == [] and patch.scenes == []


@pytest.mark.parametrize("doc,message", [
    ({"bindings": {"a": 1}}, "'bindings' must be a list of objects"),
    ({"scenes": [1, 2]}, "'scenes' must be a list of objects"),
    ({"bindings": [{}] * (P.MAX_BINDINGS + 1)}, "too many bindings"),
])
def test_malformed_sections_are_refused_with_a_reason(doc, message):
    with pytest.raises(P.PatchError, match=message):
        P.from_json({"format": P.FORMAT, "version": 2, **doc})


def test_a_bad_binding_is_kept_in_the_document_and_reported():
    text = json.dumps({"format": P.FORMAT, "version": 2, "bindings": [
        {"source": "cc", "control": 300, "node": "a", "param": "b"},
        {"source": "cc", "control": 3, "node": "a", "param": "b", "curve": "cubic"},
        {"source": "osc", "control": "/x", "node": "@dance", "param": ""}]})
    patch = P.loads(text)
    assert len(patch.bindings) == 3  # saved back exactly as read
    good, problems = parse_bindings(patch.bindings, "show.patch")
    assert good == []
    assert problems == [
        "show.patch: bindings[0]: cc number must be 0..127, got 300",
        "show.patch: bindings[1]: curve must be one of lin, log, exp, got 'cubic'",
        "show.patch: bindings[2]: unknown action '@dance' (actions: @scene, @tap, "
        "@nudge_early, @nudge_late, @play, @pause)"]


def test_binding_describe_for_the_badge():
    b, _ = parse_binding({"source": "note", "channel": 9, "control": 36, "node": "n",
                          "param": "p"}, "x")
    assert b.describe() == "note 36 ch 10"

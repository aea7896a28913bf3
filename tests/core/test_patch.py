"""The .patch document: round trip, migration, and every kind of bad file."""
import json
import os
import stat

import pytest

from graph_runtime.graph import patch as P
from graph_runtime.graph.patch import Link, Patch, PatchError


def sample() -> Patch:
    p = Patch(meta={"title": "sample", "author": "tests"}, engine={**P.ENGINE_DEFAULTS, "seed": 7})
    a = p.add_node("time.lfo", {"rate": 2.0, "shape": "saw"}, (10.0, 20.5))
    b = p.add_node("shape.smooth", {"attack_ms": 3.0}, (230.0, 20.0))
    p.connect((a.id, "out"), (b.id, "x"))
    return p


def test_round_trip_is_lossless(tmp_path):
    p = sample()
    path = tmp_path / "a.patch"
    P.save(p, path)
    q = P.load(path)
    assert q == p
    P.save(q, path)
    assert P.load(path) == p


def test_file_is_diff_friendly(tmp_path):
    path = tmp_path / "a.patch"
    P.save(sample(), path)
    lines = path.read_text().splitlines()
    node_lines = [l for l in lines if '"type"' in l]
    assert len(node_lines) == 2  # one node per line
    doc = json.loads(path.read_text())
    assert doc["format"] == P.FORMAT and doc["version"] == P.VERSION
    assert list(doc) == sorted(doc)


def test_v0_migrates_to_v1():
    v0 = {"nodes": {"l1": {"type": "time.lfo", "params": {"rate": 3.0}, "x": 5, "y": 6}},
          "links": [["l1", "out", "s1", "x"]]}
    p = P.from_json(v0, "old.patch")
    assert p.nodes[0].id == "l1" and p.nodes[0].pos == (5.0, 6.0)
    assert p.links == [Link(("l1", "out"), ("s1", "x"))]
    assert p.engine["size"] == 512


def test_ids_are_stable_and_readable():
    p = sample()
    assert [n.id for n in p.nodes] == ["lfo_1", "smooth_1"]
    p.remove_node("lfo_1")
    assert p.links == []  # links of a removed node go with it
    assert p.add_node("time.lfo").id == "lfo_1"


def test_connect_replaces_the_old_link_into_an_input():
    p = sample()
    c = p.add_node("time.lfo")
    p.connect((c.id, "out"), ("smooth_1", "x"))
    assert [l.src[0] for l in p.links] == [c.id]


@pytest.mark.parametrize("text, expect", [
    ("{", "malformed JSON"),
    ('{"format": "hambajuba.patch", "version": 1, "nodes": [', "malformed JSON"),
    ("[]", "not an object"),
    ('{"format": "something.else", "version": 1}', "not a hambajuba patch"),
    ('{"format": "hambajuba.patch", "version": 99}', "newer"),
    ('{"format": "hambajuba.patch", "version": "1"}', "whole number"),
    ('{"format": "hambajuba.patch", "version": 1, "nodes": [{"id": "a", "type": "x"}, '
     '{"id": "a", "type": "x"}]}', "node a: duplicate id"),
    ('{"format": "hambajuba.patch", "version": 1, "nodes": [{"id": "a", "type": "x", '
     '"params": {"v": NaN}}]}', "node a: param v is NaN"),
    ('{"format": "hambajuba.patch", "version": 1, "nodes": [{"id": "a", "type": "x", '
     '"params": {"v": Infinity}}]}', "node a: param v is NaN or infinite"),
    ('{"format": "hambajuba.patch", "version": 1, "nodes": [{"type": "x"}]}', "nodes[0]"),
    ('{"format": "hambajuba.patch", "version": 1, "links": [{"from": ["a"], "to": []}]}', "links[0]"),
    ('{"format": "hambajuba.patch", "version": 1, "nodes": [{"id": "a", "type": "x", "pos": [1]}]}',
     "node a: 'pos'"),
    # no "version": read as v0 and migrated first; a container of the wrong kind is named
    ('{"format": "hambajuba.patch", "nodes": [], "links": null}', "'links' must be lists"),
    ('{"format": "hambajuba.patch", "nodes": null, "links": []}', "'nodes' and 'links'"),
    ('{"format": "hambajuba.patch", "nodes": [], "links": 5}', "'links' must be lists"),
    ('{"format": "hambajuba.patch", "version": 1, "links": null}', "'links' must be lists"),
])
def test_bad_documents_name_where(text, expect):
    with pytest.raises(PatchError) as e:
        P.loads(text, "bad.patch")
    assert expect in str(e.value)
    assert all(line.startswith("bad.patch") for line in e.value.problems)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin.patch"
    path.write_bytes(b'{"format": "hambajuba.patch", "meta": {"t": "\xe9t\xe9"}}')
    with pytest.raises(PatchError, match="not UTF-8"):
        P.load(path)


def test_truncated_file(tmp_path):
    path = tmp_path / "cut.patch"
    P.save(sample(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(PatchError, match="malformed JSON"):
        P.load(path)


def test_huge_file_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.patch"
    with open(path, "wb") as f:
        f.truncate(50 * 1024 * 1024)
    with pytest.raises(PatchError, match="limited to"):
        P.load(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(PatchError, match="cannot read"):
        P.load(tmp_path / "nope.patch")
    with pytest.raises(PatchError, match="cannot read"):
        P.load(tmp_path)


def test_deep_nesting_is_an_error_not_a_crash():
    with pytest.raises(PatchError):
        P.loads("[" * 100000 + "]" * 100000)


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "keep.patch"
    P.save(sample(), path)
    before = path.read_bytes()
    changed = sample()
    changed.meta["title"] = "changed"

    def disk_full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        P.save(changed, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["keep.patch"]  # no temp file left


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_save_fails_cleanly(tmp_path):
    path = tmp_path / "ro.patch"
    P.save(sample(), path)
    before = path.read_bytes()
    tmp_path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(OSError):
            P.save(sample(), path)
    finally:
        tmp_path.chmod(stat.S_IRWXU)
    assert path.read_bytes() == before


def test_nan_in_a_param_cannot_be_saved(tmp_path):
    path = tmp_path / "nan.patch"
    P.save(sample(), path)
    before = path.read_bytes()
    p = sample()
    p.nodes[0].params["rate"] = float("nan")
    with pytest.raises(ValueError):
        P.save(p, path)
    assert path.read_bytes() == before


def test_saved_patch_is_readable_by_others(tmp_path):
    path = tmp_path / "share.patch"
    old = os.umask(0o022)
    try:
        P.save(sample(), path)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o600)
    P.save(sample(), path)  # an existing file keeps its mode
    assert path.stat().st_mode & 0o777 == 0o600

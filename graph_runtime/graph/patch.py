"""The .patch document: load, save, migrate, structural validation.

A patch is data from strangers: plain JSON, never code. Everything read from
a file is size-bounded and type-checked before it is used. Semantic checks
that need the node registry (unknown ports, kinds, cycles, param ranges) live
in compiler.py; this module only knows the document's shape.

File layout (UTF-8 JSON, keys sorted, one node / link per line):

    {"format": "hambajuba.patch", "version": 2,
     "meta": {...}, "engine": {"model", "seed", "size", "prompt"},
     "nodes": [{"id", "type", "params", "pos": [x, y]}],
     "links": [{"from": [node_id, port], "to": [node_id, port]}],
     "bindings": [{"source", "control", "node", "param", ...}],
     "scenes": [{"name", "values": {node_id: {param: value}}, ...}]}

Version 2 added `bindings` (MIDI/OSC controls -> params) and `scenes`
(stored param sets); a v1 file loads unchanged with both empty. This module
keeps them as plain, size-bounded JSON objects and saves them back exactly
as read; graph_runtime/control/ gives them meaning (and reports a binding
to a missing node instead of dropping it).

Imports neither torch nor dearpygui.
"""
from __future__ import annotations

import copy
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

from graph_runtime.media.atomic import write_atomic

FORMAT = "hambajuba.patch"
VERSION = 2
MAX_BYTES = 4 * 1024 * 1024  # a real patch is a few kB; refuse before parsing
MAX_NODES = 4096
MAX_LINKS = 16384
MAX_ID_LEN = 64
MAX_BINDINGS = 1024
MAX_SCENES = 256
ENGINE_DEFAULTS = {"model": "auto", "seed": 0, "size": 512, "prompt": ""}
ENGINE_MODELS = ("auto", "preview", "sdxl-turbo")


class PatchError(Exception):
    """A patch that cannot be loaded. `problems` are one-line strings."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass
class NodeSpec:
    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    pos: tuple[float, float] = (0.0, 0.0)

    def to_json(self) -> dict:
        return {"id": self.id, "type": self.type, "params": self.params,
                "pos": [self.pos[0], self.pos[1]]}


@dataclass(frozen=True)
class Link:
    src: tuple[str, str]  # (node id, output port)
    dst: tuple[str, str]  # (node id, input port)

    def to_json(self) -> dict:
        return {"from": list(self.src), "to": list(self.dst)}

    def __str__(self) -> str:
        return f"{self.src[0]}.{self.src[1]} -> {self.dst[0]}.{self.dst[1]}"


@dataclass
class Patch:
    nodes: list[NodeSpec] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    engine: dict[str, Any] = field(default_factory=lambda: dict(ENGINE_DEFAULTS))
    meta: dict[str, Any] = field(default_factory=dict)
    bindings: list[dict] = field(default_factory=list)  # control/bindings.py reads them
    scenes: list[dict] = field(default_factory=list)  # control/scenes.py reads them

    # -- queries ---------------------------------------------------------------
    def node(self, node_id: str) -> NodeSpec | None:
        for n in self.nodes:
            if n.id == node_id:
                return n
        return None

    def new_id(self, type_id: str) -> str:
        """A stable, readable, unused id: 'spring_3' for physics.spring."""
        stem = type_id.rsplit(".", 1)[-1]
        taken = {n.id for n in self.nodes}
        i = 1
        while f"{stem}_{i}" in taken:
            i += 1
        return f"{stem}_{i}"

    def copy(self) -> "Patch":
        return copy.deepcopy(self)

    # -- edits (used by the editor and the auto-chain command) ---------------
    def add_node(self, type_id: str, params: dict | None = None,
                 pos: tuple[float, float] = (0.0, 0.0), node_id: str | None = None) -> NodeSpec:
        node_id = node_id or self.new_id(type_id)
        if self.node(node_id) is not None:
            raise ValueError(f"node id {node_id!r} already exists")
        spec = NodeSpec(node_id, type_id, dict(params or {}), (float(pos[0]), float(pos[1])))
        self.nodes.append(spec)
        return spec

    def remove_node(self, node_id: str) -> None:
        """Removes the node and every link touching it."""
        self.nodes = [n for n in self.nodes if n.id != node_id]
        self.links = [l for l in self.links if node_id not in (l.src[0], l.dst[0])]

    def connect(self, src: tuple[str, str], dst: tuple[str, str]) -> Link:
        """An input takes one link: a new link to it replaces the old one."""
        self.links = [l for l in self.links if l.dst != tuple(dst)]
        link = Link(tuple(src), tuple(dst))
        self.links.append(link)
        return link

    def disconnect(self, link: Link) -> None:
        self.links = [l for l in self.links if l != link]

    # -- serialisation ---------------------------------------------------------
    def to_json(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "meta": self.meta,
                "engine": self.engine, "nodes": [n.to_json() for n in self.nodes],
                "links": [l.to_json() for l in self.links],
                "bindings": self.bindings, "scenes": self.scenes}


# -- migrations: version N document -> version N+1 document -------------------

def _v0_to_v1(doc: dict) -> dict:
    """v0 (pre-release) kept nodes as {id: {...}}, x/y fields and links as
    flat [src, out, dst, in] lists, and had no engine section."""
    nodes = doc.get("nodes", {})
    if isinstance(nodes, dict):
        nodes = [dict(v, id=k) for k, v in nodes.items() if isinstance(v, dict)]
    if isinstance(nodes, list):
        for n in nodes:
            if isinstance(n, dict) and "pos" not in n:
                n["pos"] = [n.pop("x", 0.0), n.pop("y", 0.0)]
    links = doc.get("links", [])
    if isinstance(links, list):    # anything else is left for from_json to refuse, by name
        links = [{"from": [l[0], l[1]], "to": [l[2], l[3]]} if isinstance(l, list) and len(l) == 4
                 else l for l in links]
    out = dict(doc, nodes=nodes, links=links, version=1)
    out.setdefault("engine", dict(ENGINE_DEFAULTS))
    out.setdefault("meta", {})
    return out


def _v1_to_v2(doc: dict) -> dict:
    """v2 adds bindings and scenes; every v1 file is a v2 file without them."""
    return dict(doc, version=2, bindings=doc.get("bindings", []), scenes=doc.get("scenes", []))


MIGRATIONS = {0: _v0_to_v1, 1: _v1_to_v2}


def migrate(doc: dict, where: str) -> dict:
    version = doc.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise PatchError([f"{where}: 'version' must be a whole number, got {version!r}"])
    if version > VERSION:
        raise PatchError([f"{where}: patch version {version} is newer than this hambajuba "
                          f"reads ({VERSION}); update hambajuba to open it"])
    while version < VERSION:
        doc = MIGRATIONS[version](doc)
        version = doc["version"]
    return doc


# -- parsing -------------------------------------------------------------------

def _finite_json(value: Any) -> bool:
    """Reject NaN/Infinity anywhere (Python's json accepts them)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite_json(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite_json(v) for v in value)
    return True


def _parse_node(raw: Any, i: int, where: str, problems: list[str]) -> NodeSpec | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: nodes[{i}] is not an object")
        return None
    nid, ntype = raw.get("id"), raw.get("type")
    if not isinstance(nid, str) or not nid or len(nid) > MAX_ID_LEN:
        problems.append(f"{where}: nodes[{i}] has no valid 'id' (text, 1-{MAX_ID_LEN} characters)")
        return None
    if not isinstance(ntype, str) or not ntype:
        problems.append(f"{where}: node {nid}: missing 'type'")
        return None
    params = raw.get("params", {})
    if not isinstance(params, dict):
        problems.append(f"{where}: node {nid}: 'params' must be an object")
        return None
    if not _finite_json(params):
        bad = [k for k, v in params.items() if not _finite_json(v)]
        problems.append(f"{where}: node {nid}: param {', '.join(bad)} is NaN or infinite")
        return None
    pos = raw.get("pos", [0.0, 0.0])
    if (not isinstance(pos, list) or len(pos) != 2
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in pos)):
        problems.append(f"{where}: node {nid}: 'pos' must be [x, y] numbers")
        return None
    return NodeSpec(nid, ntype, params, (float(pos[0]), float(pos[1])))


def _parse_link(raw: Any, i: int, where: str, problems: list[str]) -> Link | None:
    def end(key):
        v = raw.get(key) if isinstance(raw, dict) else None
        if isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v):
            return (v[0], v[1])
        return None

    src, dst = end("from"), end("to")
    if src is None or dst is None:
        problems.append(f"{where}: links[{i}] must be {{\"from\": [node, port], \"to\": [node, port]}}")
        return None
    return Link(src, dst)


def from_json(doc: Any, where: str = "<patch>") -> Patch:
    if not isinstance(doc, dict):
        raise PatchError([f"{where}: not a hambajuba patch (top level is not an object)"])
    fmt = doc.get("format")
    legacy_v0 = fmt is None and doc.get("version", 0) == 0 and "nodes" in doc
    if fmt != FORMAT and not legacy_v0:
        raise PatchError([f"{where}: 'format' is {fmt!r}, expected {FORMAT!r}: not a hambajuba patch"])
    doc = migrate(doc, where)
    problems: list[str] = []
    raw_nodes, raw_links = doc.get("nodes", []), doc.get("links", [])
    if not isinstance(raw_nodes, list) or not isinstance(raw_links, list):
        raise PatchError([f"{where}: 'nodes' and 'links' must be lists"])
    if len(raw_nodes) > MAX_NODES or len(raw_links) > MAX_LINKS:
        raise PatchError([f"{where}: too many nodes or links (limits {MAX_NODES} / {MAX_LINKS})"])
    nodes = [n for i, r in enumerate(raw_nodes) if (n := _parse_node(r, i, where, problems))]
    links = [l for i, r in enumerate(raw_links) if (l := _parse_link(r, i, where, problems))]
    seen: set[str] = set()
    for n in nodes:
        if n.id in seen:
            problems.append(f"{where}: node {n.id}: duplicate id")
        seen.add(n.id)
    engine, meta = doc.get("engine", {}), doc.get("meta", {})
    if not isinstance(engine, dict) or not isinstance(meta, dict):
        problems.append(f"{where}: 'engine' and 'meta' must be objects")
    elif not _finite_json(engine):
        problems.append(f"{where}: engine settings contain NaN or infinity")
    bindings = _parse_objects(doc, "bindings", MAX_BINDINGS, where, problems)
    scenes = _parse_objects(doc, "scenes", MAX_SCENES, where, problems)
    if problems:
        raise PatchError(problems)
    return Patch(nodes, links, {**ENGINE_DEFAULTS, **engine}, meta, bindings, scenes)


def _parse_objects(doc: dict, key: str, limit: int, where: str, problems: list[str]) -> list[dict]:
    """A bounded list of JSON objects, kept verbatim (meaning is checked elsewhere)."""
    raw = doc.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        problems.append(f"{where}: '{key}' must be a list of objects")
        return []
    if len(raw) > limit:
        problems.append(f"{where}: too many {key} ({len(raw)}; the limit is {limit})")
        return []
    if not _finite_json(raw):
        problems.append(f"{where}: {key} contain NaN or infinity")
        return []
    return raw


def loads(text: str | bytes, where: str = "<patch>") -> Patch:
    if len(text) > MAX_BYTES:
        raise PatchError([f"{where}: file is {len(text) // 1024} kB; patches are limited to "
                          f"{MAX_BYTES // 1024} kB"])
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise PatchError([f"{where}: not UTF-8 text (byte {e.start}); is this a .patch file?"]) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise PatchError([f"{where}:{e.lineno}:{e.colno}: malformed JSON: {e.msg}"]) from None
    except RecursionError:
        raise PatchError([f"{where}: JSON nested too deeply"]) from None
    return from_json(doc, where)


def load(path: str | os.PathLike) -> Patch:
    path = os.fspath(path)
    try:
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            raise PatchError([f"{path}: file is {size // 1024} kB; patches are limited to "
                              f"{MAX_BYTES // 1024} kB"])
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except PatchError:
        raise
    except OSError as e:
        raise PatchError([f"{path}: cannot read: {e.strerror or e}"]) from None
    return loads(data, path)


def dumps(patch: Patch) -> str:
    """Diff-friendly JSON: sorted keys, one node and one link per line."""
    doc = patch.to_json()

    def one(v):
        return json.dumps(v, sort_keys=True, ensure_ascii=False, allow_nan=False)

    lines = ["{"]
    _rows(lines, "bindings", doc["bindings"], one)
    lines.append(f'  "engine": {one(doc["engine"])},')
    lines.append(f'  "format": {one(FORMAT)},')
    lines.append('  "links": [' + ("" if doc["links"] else "],"))
    for i, l in enumerate(doc["links"]):
        lines.append("    " + one(l) + ("," if i < len(doc["links"]) - 1 else ""))
    if doc["links"]:
        lines.append("  ],")
    lines.append(f'  "meta": {one(doc["meta"])},')
    lines.append('  "nodes": [' + ("" if doc["nodes"] else "],"))
    for i, n in enumerate(doc["nodes"]):
        lines.append("    " + one(n) + ("," if i < len(doc["nodes"]) - 1 else ""))
    if doc["nodes"]:
        lines.append("  ],")
    _rows(lines, "scenes", doc["scenes"], one)
    lines.append(f'  "version": {VERSION}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _rows(lines: list[str], key: str, rows: list, one) -> None:
    """`"key": [` then one row per line (keys stay in sorted order)."""
    lines.append(f'  "{key}": [' + ("" if rows else "],"))
    for i, r in enumerate(rows):
        lines.append("    " + one(r) + ("," if i < len(rows) - 1 else ""))
    if rows:
        lines.append("  ],")


def save(patch: Patch, path: str | os.PathLike) -> None:
    """Atomic save: temp file in the same folder, fsync, rename.

    A failed save (read-only folder, disk full) leaves the old file intact."""
    text = dumps(patch)  # serialise first: a bad value never touches the disk
    write_atomic(path, text)

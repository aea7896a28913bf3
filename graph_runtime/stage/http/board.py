"""What the web page shows, published by the main thread for the HTTP loop.

`WebBoard.tick(...)` runs on the main thread once a frame and does work ten
times a second: when the patch changed shape (pins, scenes, sinks, node
set) it rebuilds the controls document (JSON bytes, served at
/api/controls) and the names WebInput accepts; every time it takes a status
tuple (fader positions, BPM, beat, fps, recording, problems). Each is one
reference store; the loop thread reads the newest and never blocks the frame.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from graph_runtime.control.mapping import to_position
from graph_runtime.control.web import WebInput, fader_binding

EVERY = 6  # frames between status snapshots (10 Hz at 60 fps)
MAX_PINS = 16
MAX_XY = 256  # params the XY pad may take (each one used takes an inbox slot)


def pins_of(patch) -> list[tuple[str, str]]:
    """The perform panel's params (`meta.perform`: [[node, param], ...])."""
    raw = patch.meta.get("perform", [])
    if not isinstance(raw, list):
        return []
    return [(p[0], p[1]) for p in raw[:MAX_PINS]
            if isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)]


class WebBoard:
    def __init__(self, session, web_input: WebInput, *, views: tuple = ("image",),
                 blocks: tuple = ()) -> None:
        self.session, self.input = session, web_input
        self.views = tuple(views)
        self.blocks = tuple(blocks)
        self.controls: bytes = b"{}"  # the newest controls document
        self.rev = 0
        self.status: tuple | None = None  # (rev, json-ready dict)
        self._shape: Any = None
        self._faders: list[tuple[str, str, Any, Any]] = []  # pins: (node, param, prm, binding)
        self._sinks: list[str] = []
        self._frame = 0

    def tick(self, *, fps: float = 0.0, recording: bool = False, view: str = "image",
             problems: tuple = (), force: bool = False) -> None:
        self._frame += 1
        if not force and self._frame % EVERY:
            return
        patch = self.session.model.patch
        shape = (id(patch), tuple(pins_of(patch)), tuple(self.session.scene_names()),
                 len(patch.nodes), len(patch.bindings), tuple(n.id for n in patch.nodes))
        if shape != self._shape:
            self._shape = shape
            self._rebuild(patch)
        model = self.session.model
        xs = {}
        for node, param, prm, b in self._faders:
            v = model.param_value(node, param)
            if v is not None:
                xs[f"{node}.{param}"] = round(to_position(prm, v, b.min, b.max, b.curve), 4)
        sinks = {n: [model.param_value(n, "block"), model.param_value(n, "feature_id")]
                 for n in self._sinks}
        s = self.session
        self.status = (self.rev, {
            "t": "status", "rev": self.rev, "fps": round(float(fps), 1),
            "bpm": round(float(s.tempo.bpm or s.grid.bpm), 2),
            "beat": round(float(s.grid.position(s.t)), 3), "rec": bool(recording), "view": view,
            "problems": [str(p)[:160] for p in problems[:8]], "x": xs, "sinks": sinks,
            "fade": s.fade.name if s.fade is not None else None})

    def _rebuild(self, patch) -> None:
        reg, s = self.session.registry, self.session
        s.refresh_bindings()
        faders, xy, sinks = [], [], []
        for node, param in pins_of(patch):
            spec = patch.node(node)
            cls = reg.get(spec.type) if spec is not None else None
            prm = cls.param(param) if cls is not None else None
            if prm is not None and prm.kind in ("float", "int", "bool", "choice"):
                faders.append((node, param, prm, fader_binding(s, node, param, prm)))
        for spec in patch.nodes:
            cls = reg.get(spec.type)
            if cls is None:
                continue
            names = {p.name for p in cls.params}
            if {"block", "feature_id"} <= names:
                sinks.append(spec.id)
            for p in cls.params:
                if p.kind in ("float", "int") and len(xy) < MAX_XY:
                    xy.append((spec.id, p.name, p, fader_binding(s, spec.id, p.name, p)))
        self._faders = faders  # their positions go out in the status; the XY pad's do not
        self._sinks = sinks
        self.rev += 1
        doc = {"rev": self.rev, "faders": [_fader_doc(f) for f in faders],
               "xy": [_fader_doc(f) for f in xy], "scenes": s.scene_names(),
               "sinks": sinks, "blocks": list(self.blocks), "views": list(self.views)}
        self.controls = json.dumps(doc).encode()
        inp = self.input  # the names the loop thread accepts: one store each
        inp.faders = frozenset((f[0], f[1]) for f in faders + xy)
        inp.scenes = frozenset(doc["scenes"])
        inp.sinks = frozenset(sinks)
        inp.blocks = self.blocks
        inp.views = self.views


def _fader_doc(f) -> dict:
    node, param, prm, b = f
    return {"node": node, "param": param, "kind": prm.kind, "lo": b.min, "hi": b.max,
            "curve": b.curve, "choices": list(prm.choices or ()), "unit": prm.unit or "",
            "min": prm.min, "max": prm.max}


StatusFn = Callable[[], dict]

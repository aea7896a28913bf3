"""What each agent call does to the show, on the main thread, validated like the editor.

`host` is the show an agent plays: anything with `.model` (the editor model:
validated commands with undo), `.registry`, `.track` (a path or None),
`.engine_info()` (a dict) and `.frame()` (the current image, (H, W, 4) uint8
RGBA, or None). Every call returns a JSON-able dict (a frame: a numpy array
under "rgba", encoded off the main thread) or raises AgentError. Outputs are
bounded: lists are capped and say how many were left out.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from graph_runtime.control.scenes import is_continuous

from .errors import AgentError
from .fade import ParamFade
from .sections import section_at, sections

MAX_NODES_LISTED = 200
MAX_TEXT = 200
MAX_FADE_BEATS = 256.0
WHEN = ("now", "beat", "bar")
FRAME_SIZES = (64, 1024)


class AgentOps:
    def __init__(self, host, session, desk) -> None:
        self.host, self.session, self.desk = host, session, desk
        self.table = {
            "ping": self.ping, "describe_show": self.describe_show,
            "assign_feature": self.assign_feature, "set_param": self.set_param,
            "recall_scene": self.recall_scene, "store_scene": self.store_scene,
            "add_node": self.add_node, "link": self.link, "undo": self.undo,
            "get_frame": self.get_frame, "analysis_summary": self.analysis_summary,
            "patch_document": self.patch_document, "release_agent": self.release_agent,
        }

    def run(self, op: str, args: dict) -> Any:
        fn = self.table.get(op)
        if fn is None:
            raise AgentError("not_found", f"no agent call {op!r}")
        if not isinstance(args, dict):
            raise AgentError("bad_argument", "arguments must be an object")
        try:
            return fn(**args)
        except TypeError as e:  # wrong or missing argument names
            raise AgentError("bad_argument", f"{op}: {e}") from None

    @property
    def model(self):
        return self.host.model

    def _say(self, text: str) -> None:
        self.session.report(f"agent: {text}")

    # -- reading ------------------------------------------------------------------------
    def ping(self) -> dict:
        return {"ok": True, "frozen": self.desk.frozen}

    def describe_show(self) -> dict:
        patch, reg = self.model.patch, self.host.registry
        nodes = []
        for spec in patch.nodes[:MAX_NODES_LISTED]:
            cls = reg.get(spec.type)
            nodes.append({"id": spec.id, "type": spec.type,
                          "title": getattr(cls, "title", "") if cls else "(unknown type)",
                          "params": {k: _short(v) for k, v in spec.params.items()}})
        types = {}
        for spec in patch.nodes[:MAX_NODES_LISTED]:
            cls = reg.get(spec.type)
            if cls is not None and spec.type not in types:
                types[spec.type] = {p.name: _param_spec(p) for p in cls.params}
        pins = patch.meta.get("perform", [])
        exposed = [f"{p[0]}.{p[1]}" for p in (pins if isinstance(pins, list) else [])[:64]
                   if isinstance(p, list) and len(p) == 2]
        s = self.session
        analysis = s.analysis
        secs = sections(analysis) if analysis is not None else []
        return {
            "patch": {"title": str(patch.meta.get("title", ""))[:MAX_TEXT],
                      "path": getattr(self.host, "patch_path", None),
                      "nodes": len(patch.nodes), "links": len(patch.links)},
            "nodes": nodes, "nodes_left_out": max(0, len(patch.nodes) - MAX_NODES_LISTED),
            "param_specs": types, "exposed": exposed,
            "links": [{"from": f"{l.src[0]}.{l.src[1]}", "to": f"{l.dst[0]}.{l.dst[1]}"}
                      for l in patch.links[:4 * MAX_NODES_LISTED]],
            "scenes": s.scene_names(),
            "bindings": [b.describe() + f" -> {b.node}.{b.param}" for b in s.bindings[:100]],
            "track": getattr(self.host, "track", None),
            "analysed": analysis is not None,
            "bpm": round(float(s.grid.bpm), 2),
            "time": round(float(s.t), 3),
            "beat": round(float(s.grid.position(s.t)), 3),
            "section": section_at(secs, s.t),
            "engine": self.host.engine_info(),
            "agent": {"frozen": self.desk.frozen, "fades": len(self.desk.fades)},
            "undo": self.model.undo_label,
        }

    def patch_document(self) -> dict:
        from graph_runtime.graph.patch import dumps

        return {"text": dumps(self.model.patch)}

    def analysis_summary(self, start: float = 0.0, end: float | None = None) -> dict:
        a = self.session.analysis
        if a is None:
            raise AgentError("no_track", "no analysed track in this show (give one with --track, "
                             "or open one in the window)")
        start = _number("start", start, 0.0, 1e6)
        end = a.duration if end is None else _number("end", end, 0.0, 1e6)
        if end <= start:
            raise AgentError("bad_argument", f"end ({end:g}) must be after start ({start:g})")
        i0, i1 = int(start * a.fps), max(int(start * a.fps) + 1, int(min(end, a.duration) * a.fps))
        energy = {}
        for stem in ("drums", "bass", "vocals", "other", "mix"):
            ch = a.data.get(f"{stem}/energy_smooth")
            if ch is not None and i0 < len(ch):
                energy[stem] = round(float(np.mean(ch[i0:i1])), 3)
        tension = a.data.get("global/tension")
        beats = [float(b) for b in a.beats if start <= b < end]
        downs = [round(float(b), 3) for b in a.downbeats if start <= b < end]
        out = {"start": start, "end": min(end, a.duration), "duration": round(a.duration, 3),
               "bpm": round(float(a.bpm), 2),
               "sections": [s for s in sections(a) if s["end"] > start and s["start"] < end],
               "energy": energy, "beats": len(beats), "downbeats": downs[:64],
               "downbeats_left_out": max(0, len(downs) - 64)}
        if tension is not None and i0 < len(tension):
            seg = tension[i0:i1]
            out["tension"] = {"mean": round(float(np.mean(seg)), 3),
                              "max": round(float(np.max(seg)), 3)}
        return out

    def get_frame(self, size: int | None = None) -> dict:
        if size is not None:
            size = int(_number("size", size, *FRAME_SIZES))
        rgba = self.host.frame()
        if rgba is None:
            state = self.host.engine_info().get("state", "off")
            raise AgentError("no_engine", "the engine is loading; ask again in a few seconds"
                             if state == "loading" else f"no image: the engine is {state}")
        return {"rgba": np.array(rgba, copy=True), "size": size, "time": round(self.session.t, 3)}

    # -- playing ------------------------------------------------------------------------
    def _param(self, node: str, param: str):
        spec = self.model.spec(str(node))
        if spec is None:
            raise AgentError("not_found", f"no node {node!r} (describe_show lists them)")
        cls = self.host.registry.get(spec.type)
        if cls is None:
            raise AgentError("refused", f"{node} is an unknown node type ({spec.type})")
        prm = cls.param(str(param))
        if prm is None:
            raise AgentError("not_found", f"{node} ({spec.type}) has no param {param!r}; it has "
                             + ", ".join(p.name for p in cls.params))
        return spec, prm

    def _start(self, quantise: str) -> float:
        if quantise not in WHEN:
            raise AgentError("bad_argument", f"quantise must be one of {', '.join(WHEN)}, "
                             f"not {quantise!r}")
        return self.session.grid.start_of(quantise, self.session.t)

    def set_param(self, node: str, param: str, value: Any, fade_beats: float = 0.0,
                  quantise: str = "now") -> dict:
        spec, prm = self._param(node, param)
        checked, reason = prm.check(value)
        if reason:
            raise AgentError("bad_argument", f"{node}.{param}: {reason}")
        beats = _number("fade_beats", fade_beats, 0.0, MAX_FADE_BEATS)
        start = self._start(quantise)
        fade = ParamFade(spec.id, prm.name, checked, start, beats,
                         lerp=is_continuous(prm) and beats > 0, whole=prm.kind == "int")
        if quantise == "now" and beats == 0:
            reason = self.session.write(spec.id, prm.name, checked, merge=None, checked=True)
            if reason:
                raise AgentError("refused", reason)
        else:
            self.desk.schedule(fade)
        self._say(f"set {spec.id}.{prm.name} -> {_short(checked)}"
                  + (f" on the next {quantise} (t {start:.2f} s)" if quantise != "now" else "")
                  + (f", fading over {beats:g} beats" if beats else ""))
        return {"node": spec.id, "param": prm.name, "value": _short(checked),
                "starts_at": round(start, 4), "now": round(self.session.t, 4),
                "fade_beats": beats, "faded": fade.lerp}

    def assign_feature(self, sink: str, feature_id: int, slot: str | None = None) -> dict:
        spec, _ = self._param(sink, "feature_id")
        values = {"feature_id": feature_id}
        if slot is not None:
            self._param(sink, "block")
            values["block"] = slot
        for name, v in values.items():
            _, reason = self.host.registry.get(spec.type).param(name).check(v)
            if reason:
                raise AgentError("bad_argument", f"{sink}.{name}: {reason}")
        reason = self.session.write_many(spec.id, values, merge=None)
        if reason:
            raise AgentError("refused", reason)
        block = spec.params.get("block")
        self._say(f"assigned feature {feature_id} of {block} to {spec.id}")
        return {"sink": spec.id, "block": block, "feature_id": spec.params.get("feature_id")}

    def recall_scene(self, name: str, fade: float = 0.0, quantise: str = "bar") -> dict:
        beats = _number("fade", fade, 0.0, MAX_FADE_BEATS)
        self._start(quantise)
        reason = self.session.recall(str(name), quantise, beats=beats)
        if reason:
            code = "not_found" if reason.startswith("no scene") else "bad_argument"
            raise AgentError(code, reason)
        self.desk.scene_fade = self.session.fade
        self._say(f"recall scene {name!r} on the next {quantise}, fade {beats:g} beats")
        return {"scene": name, "starts_at": round(self.session.fade.start_t, 4),
                "now": round(self.session.t, 4)}

    def store_scene(self, name: str) -> dict:
        name = str(name).strip()
        if not name or len(name) > 64:
            raise AgentError("bad_argument", "a scene name is 1 to 64 characters")
        reason = self.session.store_scene(name)
        if reason:
            raise AgentError("refused", reason)
        self._say(f"stored scene {name!r}")
        return {"scene": name, "scenes": self.session.scene_names()}

    def add_node(self, type: str, params: dict | None = None,
                 pos: list[float] | None = None) -> dict:
        if params is not None and not isinstance(params, dict):
            raise AgentError("bad_argument", "params must be an object of param: value")
        where = (0.0, 0.0) if pos is None else pos
        try:
            node_id = self.model.add_node(str(type), tuple(where)[:2], params)
        except (ValueError, TypeError, IndexError) as e:
            raise AgentError("bad_argument", str(e)) from None
        self._say(f"added {type} as {node_id}")
        return {"node": node_id, "type": type}

    def link(self, src: str, dst: str) -> dict:
        a, b = _end("from", src), _end("to", dst)
        reason = self.model.link(a, b)
        if reason:
            raise AgentError("refused", reason)
        self._say(f"linked {src} -> {dst}")
        return {"from": src, "to": dst}

    def undo(self) -> dict:
        label = self.model.undo_label
        if not self.model.undo():
            raise AgentError("refused", "nothing to undo")
        self._say(f"undo {label}")
        return {"undone": label}

    def release_agent(self) -> dict:
        self.desk.freeze("the agent released control")
        return {"frozen": True}


def _end(which: str, text: Any) -> tuple[str, str]:
    if not isinstance(text, str) or text.count(".") < 1:
        raise AgentError("bad_argument", f"{which} must be 'node.port', got {str(text)[:60]!r}")
    node, port = text.rsplit(".", 1)
    return node, port


def _number(name: str, v: Any, lo: float, hi: float) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
            or not lo <= v <= hi:
        raise AgentError("bad_argument", f"{name} must be a number in {lo:g}..{hi:g}, "
                         f"got {str(v)[:40]}")
    return float(v)


def _param_spec(p) -> dict:
    """What an agent needs to set a param: kind, range or choices, unit, meaning."""
    out: dict = {"kind": p.kind}
    if p.min is not None:
        out["min"] = p.min
    if p.max is not None:
        out["max"] = p.max
    if p.choices:
        out["choices"] = list(p.choices)
    if p.unit:
        out["unit"] = p.unit
    if p.doc:
        out["doc"] = p.doc[:MAX_TEXT]
    return out


def _short(v: Any) -> Any:
    if isinstance(v, str):
        return v[:MAX_TEXT]
    if isinstance(v, list):
        return f"[{len(v)} values]" if len(v) > 16 else v
    return v

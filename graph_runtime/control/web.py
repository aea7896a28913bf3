"""The web control surface's messages: checked on the HTTP loop, played on the main thread.

A phone's WebSocket carries small JSON messages (one each):

    {"op": "set", "node": N, "param": P, "x": 0..1}    a fader, knob or XY axis
    {"op": "scene", "name": S, "when": "now|beat|bar", "beats": F}
    {"op": "tap"}  {"op": "nudge", "dir": -1|1}  {"op": "tempo", "factor": 2|0.5}
    {"op": "downbeat", "dir": -1|1}                    the one is a beat earlier/later
    {"op": "assign", "node": SINK, "block": B, "feature": ID}
    {"op": "record", "on": true|false}  {"op": "view", "name": V}
    {"op": "transport", "what": "play|pause"}

`WebInput.take` runs on the HTTP loop thread (the one writer of every "web"
slot): it parses, checks each name against what the patch has (published
by the main thread as frozensets, one reference store each) and posts into
the SAME Inbox as MIDI and OSC. Unknown names take no slot, so a stranger
cannot fill the table. Sizes and rates are capped by the server before a
message is parsed (web.py in stage/http). The main thread sees one
coalesced value per control per frame and plays it here (`route_web`):
faders go through the binding's range and curve (or the param's own range,
linear, as a learned binding gets) and its takeover, then
`ControlSession.write`, so undo, save, scenes and recordings see them like
any other move.
"""
from __future__ import annotations

import json
import math
from typing import Any

from .bindings import Binding
from .mapping import default_range

WHEN = ("now", "beat", "bar")
MAX_FADE_BEATS = 64.0
MAX_FEATURE = 1 << 20


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return float(v)


class WebInput:
    """Server-thread side: JSON text -> one inbox post, or a count of why not."""

    def __init__(self, inbox) -> None:
        self.inbox = inbox
        # published by the main thread (WebBoard) when the patch changes shape
        self.faders: frozenset = frozenset()  # (node, param) a fader or the XY pad may move
        self.scenes: frozenset = frozenset()
        self.sinks: frozenset = frozenset()
        self.blocks: tuple = ()
        self.views: tuple = ("image",)
        self.taken = 0
        self.malformed = 0
        self.unknown = 0

    def take(self, text: str) -> bool:
        try:
            msg = json.loads(text)
        except (ValueError, RecursionError):  # 2 KB of "[[[[..." nests past the parser's limit
            self.malformed += 1
            return False
        if not isinstance(msg, dict) or not isinstance(msg.get("op"), str):
            self.malformed += 1
            return False
        try:
            ok = self._post(msg["op"], msg)
        except TypeError:  # a list or an object where a name belongs (unhashable)
            self.malformed += 1
            return False
        if ok:
            self.taken += 1
        else:
            self.unknown += 1
        return ok

    def _post(self, op: str, m: dict) -> bool:
        post = self.inbox.post
        if op == "set":
            key = (m.get("node"), m.get("param"))
            x = _number(m.get("x"))
            if x is None or key not in self.faders:
                return False
            return post(("web", "set", *key), min(max(x, 0.0), 1.0))
        if op == "scene":
            when, beats = m.get("when", "now"), _number(m.get("beats", 0.0))
            if m.get("name") not in self.scenes or when not in WHEN or beats is None:
                return False
            return post(("web", "scene"), (m["name"], when, min(max(beats, 0.0), MAX_FADE_BEATS)))
        if op == "tap":
            return post(("web", "tap"), 1)
        if op in ("nudge", "downbeat"):
            d = m.get("dir")
            if d not in (-1, 1) or isinstance(d, bool):
                return False
            return post(("web", op), d, delta=float(d))
        if op == "tempo":
            if m.get("factor") not in (2, 0.5):
                return False
            return post(("web", "tempo"), float(m["factor"]))
        if op == "assign":
            fid = m.get("feature")
            if m.get("node") not in self.sinks or m.get("block") not in self.blocks or \
                    not isinstance(fid, int) or isinstance(fid, bool) or not 0 <= fid < MAX_FEATURE:
                return False
            return post(("web", "assign"), (m["node"], m["block"], fid))
        if op == "record":
            if not isinstance(m.get("on"), bool):
                return False
            return post(("web", "record"), m["on"])
        if op == "view":
            if m.get("name") not in self.views:
                return False
            return post(("web", "view"), m["name"])
        if op == "transport":
            if m.get("what") not in ("play", "pause"):
                return False
            return post(("web", "transport"), m["what"])
        return False


def fader_binding(session, node: str, param: str, prm) -> Binding:
    """The range, curve and takeover a web fader plays with: the param's first
    absolute binding (as hardware would), else the param's own range, linear."""
    for b in session.bindings_for(node, param):
        if b.source in ("cc", "osc", "pitchbend") and b.takeover != "relative":
            return Binding("osc", f"web:{node}.{param}", node, param, -1, b.min, b.max,
                           b.curve, b.takeover)
    lo, hi = default_range(prm)
    return Binding("osc", f"web:{node}.{param}", node, param, -1, lo, hi, "lin", "jump")


def route_web(session, key: tuple, value: Any, count: int, delta: float) -> None:
    """Main thread, inside ControlSession.drain: play one coalesced web control."""
    what = key[1]
    if what == "set":
        _fader(session, key[2], key[3], value)
    elif what == "scene":
        name, when, beats = value
        reason = session.recall(name, when, beats=beats)
        if reason:
            session.report_once(("web-scene", name, reason), f"web: {reason}")
    elif what == "tap":
        session.tap()
    elif what == "nudge":
        steps = int(round(delta)) or int(value)
        for _ in range(min(abs(steps), 8)):
            session.nudge(1 if steps > 0 else -1)
    elif what == "assign":
        node, block, fid = value
        fn = session.commands.get("assign")
        reason = fn(node, block, fid) if fn else session.model.set_params(
            node, {"block": block, "feature_id": fid}, merge=("web", "assign", node))
        if reason:
            session.report_once(("web-assign", node, reason), f"web: {reason}")
    elif what == "transport":
        fn = session.transport.get(value)
        if fn is not None:
            fn()
    else:  # tempo, downbeat, record, view: the window's own handlers
        fn = session.commands.get(what)
        if fn is None:
            session.report_once(("web-none", what), f"web: {what} is not available here; ignored")
        elif what == "downbeat":
            fn(int(round(delta)) or int(value))
        else:
            fn(value)


def _fader(session, node: str, param: str, x: float) -> None:
    spec = session.model.patch.node(node)
    cls = session.registry.get(spec.type) if spec is not None else None
    prm = cls.param(param) if cls is not None else None
    if prm is None:
        return  # the node went away since the page loaded
    b = fader_binding(session, node, param, prm)
    new = session.takeover.position_value(b, prm, session.model.param_value(node, param), x)
    if new is not None:
        session.write(node, param, new, merge=("web", node, param))

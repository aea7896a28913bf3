"""A binding: one hardware control (or OSC address) driving one param or action.

Stored in the .patch (`"bindings": [...]`, one per line) as plain JSON:

    {"source": "cc", "channel": 0, "control": 21,          # CC 21 on MIDI channel 1
     "node": "spring_1", "param": "stiffness",
     "min": 0.0, "max": 10.0, "curve": "lin", "takeover": "pickup",
     "relative": "twos"}

source   cc | note | pitchbend | osc   (osc: control is the address text)
channel  0..15 (MIDI channel 1..16), -1 = any channel
node     a node id, or one of the actions:
           "@scene" (param = scene name: recall it), "@tap", "@nudge_early",
           "@nudge_late", "@play", "@pause"
A binding whose node or param is missing is kept as it is (saved back
unchanged) and reported; it simply drives nothing until the node returns.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from .mapping import CURVES, RELATIVE_STYLES, TAKEOVERS

SOURCES = ("cc", "note", "pitchbend", "osc")
ACTIONS = ("@scene", "@tap", "@nudge_early", "@nudge_late", "@play", "@pause")
MAX_BINDINGS = 1024
MAX_ADDRESS = 200


@dataclass(frozen=True)
class Binding:
    source: str
    control: int | str | None  # CC or note number, OSC address, None for pitch bend
    node: str
    param: str = ""
    channel: int = -1
    min: float = 0.0
    max: float = 1.0
    curve: str = "lin"
    takeover: str = "jump"
    relative: str = "twos"

    @property
    def is_action(self) -> bool:
        return self.node.startswith("@")

    @property
    def source_key(self) -> tuple:
        """What the inbox's MIDI keys are matched on (the port is not part of it)."""
        return (self.source, self.channel, self.control)

    def describe(self) -> str:
        """'CC 21 ch 1', 'note 36 ch 10', 'pitch bend', 'OSC /fader/1' for the badge."""
        ch = "" if self.channel < 0 else f" ch {self.channel + 1}"
        if self.source == "cc":
            return f"CC {self.control}{ch}"
        if self.source == "note":
            return f"note {self.control}{ch}"
        if self.source == "pitchbend":
            return f"pitch bend{ch}"
        return f"OSC {self.control}"

    def to_json(self) -> dict:
        return asdict(self)


def _whole(v: Any, lo: int, hi: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def parse_binding(raw: Any, where: str) -> tuple[Binding | None, str | None]:
    """A JSON object -> (Binding, None) or (None, one-line reason)."""
    if not isinstance(raw, dict):
        return None, f"{where}: not an object"
    src = raw.get("source")
    if src not in SOURCES:
        return None, f"{where}: source must be one of {', '.join(SOURCES)}, got {src!r}"
    control = raw.get("control")
    if src in ("cc", "note") and not _whole(control, 0, 127):
        return None, f"{where}: {src} number must be 0..127, got {control!r}"
    if src == "osc" and not (isinstance(control, str) and control.startswith("/")
                             and len(control) <= MAX_ADDRESS):
        return None, f"{where}: an OSC binding needs an address starting with '/'"
    if src == "pitchbend":
        control = None
    channel = raw.get("channel", -1)
    if not _whole(channel, -1, 15):
        return None, f"{where}: channel must be 0..15 (or -1 for any), got {channel!r}"
    node, param = raw.get("node"), raw.get("param", "")
    if not isinstance(node, str) or not node or len(node) > 64 or not isinstance(param, str) \
            or len(param) > 64:
        return None, f"{where}: needs a 'node' id (or an action) and a 'param' name"
    if node.startswith("@") and node not in ACTIONS:
        return None, f"{where}: unknown action {node!r} (actions: {', '.join(ACTIONS)})"
    lo, hi = raw.get("min", 0.0), raw.get("max", 1.0)
    for v in (lo, hi):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return None, f"{where}: min and max must be finite numbers"
    choice = {"curve": CURVES, "takeover": TAKEOVERS, "relative": RELATIVE_STYLES}
    picked = {}
    for key, options in choice.items():
        v = raw.get(key, options[0])
        if v not in options:
            return None, f"{where}: {key} must be one of {', '.join(options)}, got {v!r}"
        picked[key] = v
    return Binding(src, control, node, param, channel, float(lo), float(hi), **picked), None


def parse_bindings(raws: list, where: str) -> tuple[list[Binding], list[str]]:
    out, problems = [], []
    for i, raw in enumerate(raws[:MAX_BINDINGS]):
        b, reason = parse_binding(raw, f"{where}: bindings[{i}]")
        if reason:
            problems.append(reason)
        else:
            out.append(b)
    if len(raws) > MAX_BINDINGS:
        problems.append(f"{where}: more than {MAX_BINDINGS} bindings; the rest are ignored")
    return out, problems


def dangling(bindings: list[Binding], patch, registry) -> list[str]:
    """One line per binding that points at a node or param this patch lacks."""
    lines = []
    for b in bindings:
        if b.is_action:
            if b.node == "@scene" and not any(s.get("name") == b.param for s in patch.scenes):
                lines.append(f"binding {b.describe()} -> scene {b.param!r}: no such scene (kept)")
            continue
        spec = patch.node(b.node)
        if spec is None:
            lines.append(f"binding {b.describe()} -> {b.node}.{b.param}: no node {b.node!r} "
                         "(kept; it drives nothing until the node is back)")
            continue
        cls = registry.get(spec.type)
        if cls is not None and cls.param(b.param) is None:
            lines.append(f"binding {b.describe()} -> {b.node}.{b.param}: {spec.type} has no "
                         f"param {b.param!r} (kept)")
    return lines

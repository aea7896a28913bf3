"""Scenes: named sets of param values, recalled now, on the next beat or bar, with a fade.

Stored in the .patch as `{"name": "drop", "values": {node_id: {param: value}}}`.

A recall is scheduled at a track time (now, the next beat, the next bar:
see beatgrid.py). From that time on, over the fade (N beats along the beat
grid, or N seconds):
  * float and int params interpolate, v = (1 - p) * from + p * to, so the
    values are exactly `from` at p = 0 and exactly `to` at p = 1 (ints round);
  * everything else (bools, choices, text, masks) and every feature id or
    seed switches at the START of the fade, so a look's features are in
    place while its strengths rise. A feature id change is an ordinary param
    edit: the running plan writes the new id into FrameParams.scene and bumps
    its version (the engine copies one decoder column), never a recompile.
`from` is read when the fade starts, so a fade begins wherever the show is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

MAX_NAME = 64
SWITCHED_INTS = ("feature_id", "seed")  # ints that are identities, not amounts


def is_continuous(prm) -> bool:
    if prm.kind == "float":
        return True
    return prm.kind == "int" and not any(s in prm.name for s in SWITCHED_INTS)


def capture(patch, registry, node_ids=None, name: str = "scene") -> dict:
    """Every param of every node (or of node_ids) as a scene document."""
    wanted = None if node_ids is None else set(node_ids)
    values: dict[str, dict[str, Any]] = {}
    for spec in patch.nodes:
        cls = registry.get(spec.type)
        if cls is None or (wanted is not None and spec.id not in wanted) or not cls.params:
            continue
        values[spec.id] = {p.name: spec.params.get(p.name, p.default) for p in cls.params}
    return {"name": str(name)[:MAX_NAME], "values": values}


def scene_named(patch, name: str) -> dict | None:
    for s in patch.scenes:
        if s.get("name") == name:
            return s
    return None


@dataclass
class Fade:
    """One recall in flight. Times are track seconds; positions are beat indices."""

    name: str
    start_t: float
    beats: float = 0.0  # fade length in beats (used when > 0)
    seconds: float = 0.0  # else fade length in seconds (0: a cut)
    started: bool = False
    start_pos: float = 0.0
    lerp: dict[tuple[str, str], tuple[float, float, bool]] = field(default_factory=dict)
    switch: dict[str, dict[str, Any]] = field(default_factory=dict)

    def progress(self, t: float, grid) -> float:
        if self.beats > 0.0:
            p = (grid.position(t) - self.start_pos) / self.beats
        elif self.seconds > 0.0:
            p = (t - self.start_t) / self.seconds
        else:
            p = 1.0
        return 0.0 if p < 0.0 else 1.0 if p > 1.0 else p


def plan_fade(fade: Fade, scene: dict, patch, registry, report: Callable[[str], None]) -> None:
    """At the start of a fade: split the scene's values into lerped and switched."""
    values = scene.get("values", {})
    if not isinstance(values, dict):
        report(f"scene {fade.name!r}: 'values' is not an object; nothing recalled")
        return
    for node_id, params in values.items():
        spec = patch.node(node_id)
        cls = registry.get(spec.type) if spec is not None else None
        if cls is None or not isinstance(params, dict):
            report(f"scene {fade.name!r}: node {node_id} is not in this patch; skipped")
            continue
        for name, target in params.items():
            prm = cls.param(name)
            if prm is None:
                report(f"scene {fade.name!r}: {node_id} has no param {name!r}; skipped")
                continue
            value, reason = prm.check(target)
            if reason:
                report(f"scene {fade.name!r}: {node_id}.{name}: {reason}; skipped")
                continue
            now = spec.params.get(name, prm.default)
            if is_continuous(prm) and isinstance(now, (int, float)) and math.isfinite(now):
                fade.lerp[(node_id, name)] = (float(now), float(value), prm.kind == "int")
            else:
                fade.switch.setdefault(node_id, {})[name] = value


def fade_values(fade: Fade, p: float) -> dict[str, dict[str, Any]]:
    """node -> {param: value} at progress p in [0, 1]."""
    out: dict[str, dict[str, Any]] = {}
    q = 1.0 - p
    for (node_id, name), (a, b, whole) in fade.lerp.items():
        v = q * a + p * b
        out.setdefault(node_id, {})[name] = round(v) if whole else v
    return out


def cue_text(countdown: tuple[str, float] | None) -> str:
    """'next: drop in 3 beats' for ControlSession.countdown(heard); '' when none waits.
    Beats to go count down like a drummer's count-in: 4, 3, 2, 1 (rounded up)."""
    if countdown is None:
        return ""
    name, beats = countdown
    n = max(1, math.ceil(beats - 1e-6))
    return f"next: {name} in {n} beat{'s' if n != 1 else ''}"

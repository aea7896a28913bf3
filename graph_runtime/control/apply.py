"""Applying one binding's input to its param: curve, range and takeover.

Runs on the main thread inside the drain. `Takeover` keeps, per binding,
where the control was last seen, whether pickup has caught the param, and
the value it last wrote (a different value there later means someone else
moved the param, so pickup must catch it again).
"""
from __future__ import annotations

from typing import Any

from .bindings import Binding
from .mapping import PICKUP_SLACK, STEP, clamp01, to_position, to_value


class Takeover:
    def __init__(self) -> None:
        self.last_x: dict[Binding, float] = {}
        self.picked: dict[Binding, bool] = {}
        self.wrote: dict[Binding, Any] = {}

    def forget(self) -> None:
        self.last_x.clear()
        self.picked.clear()
        self.wrote.clear()

    def position_value(self, b: Binding, prm, current: Any, x: float) -> Any | None:
        """An absolute position x in [0, 1] -> value to write, or None (pickup waiting)."""
        x = clamp01(x)
        if b.takeover == "pickup":
            if b in self.wrote and self.wrote[b] != current:
                self.picked[b] = False  # moved elsewhere (mouse, scene): catch it again
            if not self.picked.get(b, False):
                at = to_position(prm, current, b.min, b.max, b.curve)
                last = self.last_x.get(b)
                crossed = last is not None and (last - at) * (x - at) <= 0.0
                self.last_x[b] = x
                if not (crossed or abs(x - at) <= PICKUP_SLACK):
                    return None
                self.picked[b] = True
        self.last_x[b] = x
        value = to_value(prm, x, b.min, b.max, b.curve)
        self.wrote[b] = value
        return value

    def relative_value(self, b: Binding, prm, current: Any, clicks: float) -> Any | None:
        """Encoder clicks (already summed over the frame) -> value to write."""
        if not clicks:
            return None
        if prm.kind == "bool":  # up turns it on, down turns it off
            return clicks > 0
        at = to_position(prm, current, b.min, b.max, b.curve)
        if prm.kind == "choice":  # one click = one choice, whatever the range
            i = prm.choices.index(current) if current in prm.choices else 0
            i = min(max(i + (1 if clicks > 0 else -1) * max(1, int(abs(clicks))), 0),
                    len(prm.choices) - 1)
            return prm.choices[i]
        value = to_value(prm, at + clicks * STEP, b.min, b.max, b.curve)
        if prm.kind == "int" and value == current:  # a click always moves an int by one
            value = to_value(prm, at + (1 if clicks > 0 else -1) * STEP, b.min, b.max, b.curve)
            if value == current and prm.max is not None and prm.min is not None:
                value = min(max(current + (1 if clicks > 0 else -1), prm.min), prm.max)
        self.wrote[b] = value
        return value


def note_value(prm, current: Any, velocity: int, presses: int, b: Binding) -> Any | None:
    """A note on a param: bools toggle (once per press), choices step, numbers take
    the velocity through the binding's curve and range."""
    if prm.kind == "bool":
        return (not current) if presses % 2 else None
    if prm.kind == "choice":
        i = prm.choices.index(current) if current in prm.choices else 0
        return prm.choices[(i + presses) % len(prm.choices)]
    return to_value(prm, velocity / 127.0, b.min, b.max, b.curve)

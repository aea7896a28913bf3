"""Signal to trigger, and the one-frame delay that makes feedback legal."""
from __future__ import annotations

from graph_runtime.graph.node import Node, Param, signal, trigger


class Threshold(Node):
    """Schmitt trigger: fires once when x rises above `threshold`, re-arms
    when it falls below threshold - hysteresis (no chatter on a noisy edge)."""

    type_id = "logic.threshold"
    family = "logic"
    title = "Threshold -> trigger"
    doc = "Signal to trigger. `fire` is true on the rising frame, `gate` while above."
    inputs = (signal("x"),)
    outputs = (trigger("fire"), trigger("gate"))
    params = (Param("threshold", "float", 0.5, -1.0e6, 1.0e6),
              Param("hysteresis", "float", 0.05, 0.0, 1.0e6))
    reprepare = ("threshold", "hysteresis")
    state = ("_high",)

    def prepare(self, ctx) -> None:
        self._on = float(self.p["threshold"])
        self._off = self._on - float(self.p["hysteresis"])
        self._high = False

    def process(self, t: float, dt: float) -> None:
        x = self.x.v
        was = self._high
        if x > self._on:
            self._high = True
        elif x < self._off:
            self._high = False
        self.fire.v = self._high and not was
        self.gate.v = self._high

    def reset(self) -> None:
        self._high = False


class Delay(Node):
    """Outputs last frame's input. The only way to close a loop: links into a
    Delay do not count when the compiler sorts the graph."""

    type_id = "logic.delay"
    family = "logic"
    title = "Delay (1 frame)"
    doc = "One-frame delay; use it to feed a signal back."
    inputs = (signal("x"),)
    outputs = (signal("out"),)
    params = (Param("initial", "float", 0.0, -1.0e6, 1.0e6, doc="output on the first frame"),)
    state = ("_held",)
    reprepare = ("initial",)
    feedback = True

    def prepare(self, ctx) -> None:
        self._held = float(self.p["initial"])
        self.out.v = self._held

    def process(self, t: float, dt: float) -> None:
        self.out.v = self._held

    def latch(self) -> None:
        """After every node ran: remember this frame's input for the next."""
        self._held = self.finite(self.x.v)

    def reset(self) -> None:
        self._held = float(self.p["initial"])


NODES = (Threshold, Delay)

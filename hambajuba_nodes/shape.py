"""Shaping a signal over value and time: response curve, attack/release smoother."""
from __future__ import annotations

import math

from graph_runtime.graph.node import Node, Param, signal


def curve_linear(x: float, gamma: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def curve_gamma(x: float, gamma: float) -> float:
    """gamma < 1 lifts quiet passages, gamma > 1 keeps only the peaks."""
    return 0.0 if x <= 0.0 else 1.0 if x >= 1.0 else x ** gamma


def curve_clip(x: float, gamma: float) -> float:
    """1.5x boost, then clip: loud passages saturate."""
    x *= 1.5
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


CURVES = {"linear": curve_linear, "gamma": curve_gamma, "clip": curve_clip}


class Curve(Node):
    type_id = "shape.curve"
    family = "shaping"
    title = "Curve"
    doc = "Intensity response on [0, 1]: linear, gamma (power) or clip (1.5x, saturating)."
    inputs = (signal("x"),)
    outputs = (signal("out"),)
    params = (Param("mode", "choice", "linear", choices=tuple(CURVES)),
              Param("gamma", "float", 1.0, 0.1, 10.0, doc="exponent for mode gamma"))
    reprepare = ()  # live: on_param derives what prepare does

    def prepare(self, ctx) -> None:
        self.on_param("")

    def on_param(self, name: str) -> None:
        self._f = CURVES[self.p["mode"]]
        self._gamma = float(self.p["gamma"])

    def process(self, t: float, dt: float) -> None:
        self.out.v = self._f(self.finite(self.x.v), self._gamma)


class Smooth(Node):
    """One-pole follower whose time constant depends on direction: rising
    uses attack, falling uses release (we hear attacks at once, decays slowly).
    Coefficient per frame: 1 - exp(-dt / tau), so it is frame-rate independent."""

    type_id = "shape.smooth"
    family = "shaping"
    title = "Smooth (attack/release)"
    doc = "Asymmetric smoothing; times are the 63% rise/fall times."
    inputs = (signal("x"),)
    outputs = (signal("out"),)
    params = (Param("attack_ms", "float", 5.0, 0.0, 10000.0, unit="ms"),
              Param("release_ms", "float", 150.0, 0.0, 10000.0, unit="ms"))
    state = ("y",)
    reprepare = ()  # live: on_param derives what prepare does (y is kept)

    def prepare(self, ctx) -> None:
        self.y = 0.0
        self.on_param("")

    def on_param(self, name: str) -> None:
        self._tau_a = self.p["attack_ms"] / 1000.0
        self._tau_r = self.p["release_ms"] / 1000.0
        self._dt = -1.0  # coefficients recomputed on the next frame
        self._ka = self._kr = 1.0

    def _coeffs(self, dt: float) -> None:
        self._dt = dt
        self._ka = 1.0 - math.exp(-dt / self._tau_a) if self._tau_a > 0 else 1.0
        self._kr = 1.0 - math.exp(-dt / self._tau_r) if self._tau_r > 0 else 1.0

    def process(self, t: float, dt: float) -> None:
        if dt != self._dt:  # recomputed only when the frame period changes
            self._coeffs(dt)
        x = self.finite(self.x.v, self.y)
        k = self._ka if x > self.y else self._kr
        self.y += k * (x - self.y)
        self.out.v = self.y

    def reset(self) -> None:
        self.y = 0.0


NODES = (Curve, Smooth)

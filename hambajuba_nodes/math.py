"""math.*: binary arithmetic, clamp, map range."""
from __future__ import annotations

import operator

from graph_runtime.graph.node import Node, Param, signal

from .value import BIG


def _safe_div(a: float, b: float) -> float:
    return a / b if b != 0.0 else 0.0


_OPS = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "divide": _safe_div,  # x / 0 reads 0, never inf
    "min": min,
    "max": max,
}


class Math(Node):
    type_id = "math.binary"
    family = "math"
    title = "Math"
    doc = "a (op) b. An unconnected b reads the param b."
    inputs = (signal("a"), signal("b"))
    outputs = (signal("out"),)
    params = (Param("op", "choice", "add", choices=tuple(_OPS), doc="operation"),
              Param("b", "float", 0.0, -BIG, BIG, doc="b when its input is unconnected"))
    reprepare = ("op",)  # b: the constant wire of the unconnected input

    def prepare(self, ctx) -> None:
        self._op = _OPS[self.p["op"]]  # decided once, not per frame

    def process(self, t: float, dt: float) -> None:
        self.out.v = self.finite(self._op(self.a.v, self.b.v))


class Clamp(Node):
    type_id = "math.clamp"
    family = "math"
    title = "Clamp"
    doc = "Limit x to [lo, hi]."
    inputs = (signal("x"), signal("lo"), signal("hi"))
    outputs = (signal("out"),)
    params = (Param("lo", "float", 0.0, -BIG, BIG), Param("hi", "float", 1.0, -BIG, BIG))
    reprepare = ()  # lo, hi: constant wires of the unconnected inputs

    def process(self, t: float, dt: float) -> None:
        x, lo, hi = self.x.v, self.lo.v, self.hi.v
        self.out.v = lo if x < lo else hi if x > hi else x


class MapRange(Node):
    type_id = "math.map_range"
    family = "math"
    title = "Map range"
    doc = "Linear map [in_lo, in_hi] -> [out_lo, out_hi], optionally clamped."
    inputs = (signal("x"),)
    outputs = (signal("out"),)
    params = (Param("in_lo", "float", 0.0, -BIG, BIG), Param("in_hi", "float", 1.0, -BIG, BIG),
              Param("out_lo", "float", 0.0, -BIG, BIG), Param("out_hi", "float", 1.0, -BIG, BIG),
              Param("clamp", "bool", True, doc="keep the output inside [out_lo, out_hi]"))
    reprepare = ("in_lo", "in_hi", "out_lo", "out_hi", "clamp")  # gain and bounds precomputed

    def prepare(self, ctx) -> None:
        p = self.p
        span = p["in_hi"] - p["in_lo"]
        self._gain = (p["out_hi"] - p["out_lo"]) / span if span else 0.0
        self._lo, self._hi = sorted((p["out_lo"], p["out_hi"]))
        self._clamp = p["clamp"]

    def process(self, t: float, dt: float) -> None:
        y = self.p["out_lo"] + (self.x.v - self.p["in_lo"]) * self._gain
        if self._clamp:
            y = self._lo if y < self._lo else self._hi if y > self._hi else y
        self.out.v = self.finite(y)


NODES = (Math, Clamp, MapRange)

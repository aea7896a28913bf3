"""value.*: a number you set by hand (the editor shows a slider)."""
from __future__ import annotations

from graph_runtime.graph.node import Node, Param, signal

BIG = 1.0e6  # param bound for free-form numbers


class Constant(Node):
    type_id = "value.constant"
    family = "values"
    title = "Constant / Slider"
    doc = "A number you set by hand (a slider in the editor)."
    outputs = (signal("out"),)
    params = (Param("value", "float", 0.0, -BIG, BIG, doc="the output value"),
              Param("min", "float", 0.0, -BIG, BIG, doc="slider minimum (editor only)"),
              Param("max", "float", 1.0, -BIG, BIG, doc="slider maximum (editor only)"))
    reprepare = ("value",)  # min, max: the editor's slider only

    def prepare(self, ctx) -> None:
        self.out.v = float(self.p["value"])


NODES = (Constant,)

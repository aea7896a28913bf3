"""Wires between nodes: each output gets a Wire, each input shares its
producer's Wire or reads a constant one; a replacement node takes over the
declared state of the node it replaces. Shared by the compiler and by
in-place param edits (edit.py). Imports neither torch nor dearpygui.
"""
from __future__ import annotations

import copy

import numpy as np

from .node import MASK_SHAPE, Node, Wire

_ONES_MASK = np.ones(MASK_SHAPE, dtype=np.float32)
_ONES_MASK.flags.writeable = False  # the shared default for unconnected mask inputs


def make_wire(kind: str) -> Wire:
    if kind == "mask":
        return Wire(np.zeros(MASK_SHAPE, dtype=np.float32))
    return Wire({"signal": 0.0, "trigger": False}.get(kind))


def _bind(node: Node, cls: type[Node], producers: dict[tuple[str, str], Wire]) -> None:
    for port in cls.outputs:
        wire = make_wire(port.kind)
        producers[(node.id, port.name)] = wire
        setattr(node, port.name, wire)


def bind_inputs(node: Node, cls: type[Node], links_to: dict[tuple[str, str], tuple[str, str]],
                producer) -> None:
    """Linked inputs share the producer's Wire (producer(node id, port) -> Wire).
    An unconnected input reads a constant: the param of the same name when
    the node has one (a knob that a cable overrides, as in Max), else the
    port's declared default."""
    for port in cls.inputs:
        src = links_to.get((node.id, port.name))
        if src is not None:
            wire = producer(*src)
        elif port.kind == "mask":
            wire = Wire(_ONES_MASK)
        elif port.kind == "signal" and cls.param(port.name) is not None:
            wire = Wire(float(node.p[port.name]))
        else:
            wire = Wire(port.default)
        setattr(node, port.name, wire)


def carry_state(node: Node, old: Node | None) -> None:
    """Give `node` the declared state of the node it replaces (same id and type)."""
    if old is None or type(old) is not type(node):
        return
    for name in type(node).state:
        if hasattr(old, name):
            setattr(node, name, copy.deepcopy(getattr(old, name)))

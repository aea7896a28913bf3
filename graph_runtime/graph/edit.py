"""Param edits on a running Plan, without recompiling (set_param(plan, ...)).

A slider drag, a typed value, a MIDI fader or an OSC stream changes one
param of one node. Recompiling the whole patch for that (twice: the plan and
its meter twin) costs milliseconds to hundreds of milliseconds on a long
track; this costs microseconds, and the new value is seen by the very next
Plan.run.

Two ways, chosen by the node class:

    live        the param is not in the class's `reprepare`: it is written
                into node.p, into the constant Wire of the unconnected input
                of the same name (a knob a cable overrides), and the node's
                on_param(name) hook runs. Nothing else happens.
    reprepare   the param is in `reprepare` (or the class declares none):
                a new instance of the node is built with the new params,
                bound to the same wires, prepared with the plan's own
                PrepareContext (its SlotTable gives a sink its slot back, its
                bank adds any new channel) and takes over the old one's
                declared state, exactly as a recompile would. Nodes that
                read this one's outputs at prepare time (mask and stem
                links: a sink copies a constant mask once, a dance node binds
                a stem's channels) are re-prepared with it, in plan order.

Values are checked once, where the edit enters (the document's
EditorModel, an OSC route); this layer trusts them. A prepare that raises
changes nothing: the old nodes, wire values, slots and Scene are put back,
and the reason comes back as one line. The test that keeps the two paths honest (tests/core/
test_param_edits.py) checks, for every registered node type and every
param, that set_param gives the same next frames as a recompile.

Imports neither torch nor dearpygui.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .node import Node
from .plan import Plan
from .prepare_cache import AnalysisCache, CacheMiss
from .problems import ctx_problems
from .wiring import bind_inputs, carry_state, make_wire

PREPARE_TIME_KINDS = ("mask", "stem")  # links whose consumer reads the wire in prepare


def set_param(plan: Plan, node_id: str, name: str, value: Any, *,
              cached_only: bool = False) -> str | None:
    """Change one param of the running node, visible in the next plan.run();
    None, or a one-line reason it was refused (then nothing changed).

    value: already checked where the edit entered (EditorModel.set_params, an
    OSC route, an agent call: Param.check once there); it is trusted here.
    cached_only: a re-prepare that needs per-track work nobody has cached
    yet raises prepare_cache.CacheMiss (nothing changed), so
    the window can build it off its main thread instead."""
    node = plan.nodes.get(node_id)
    if node is None:
        return f"no node {node_id!r} in the running plan"
    cls = type(node)
    if name not in node.p:  # the compiler filled every declared param: this one is not
        return f"{cls.type_id} has no param {name!r}"
    if type(value) is list:  # a mask: the node keeps its own copy, apart from the document's
        value = list(value)
    if node.p.get(name) == value:
        return None
    plan.edits += 1
    if cls.reprepare is None or name in cls.reprepare:
        return reprepare(plan, node_id, {**node.p, name: value}, cached_only=cached_only)
    node.p[name] = value
    if (node_id, name) not in plan.links_to:
        port = cls.port(name)
        if port is not None and port[0] == "in" and port[1].kind == "signal":
            getattr(node, name).v = float(value)  # the constant wire of an unconnected knob
    node.on_param(name)
    return None


def reprepare(plan: Plan, node_id: str, params: dict[str, Any], *,
              cached_only: bool = False) -> str | None:
    """Rebuild one node (and its prepare-time readers) with `params`."""
    ids = _with_readers(plan, node_id)
    ctx = plan.ctx
    saved = _Saved(plan, ids)
    fresh: dict[str, Node] = {}
    ctx.warnings = []
    cache = ctx.cache
    if cached_only:  # without a track there is no cache: then every entry misses
        ctx.cache = (cache if cache is not None else AnalysisCache(None)).cached_only()
    try:
        for nid in ids:
            old = plan.nodes[nid]
            new = type(old)(nid, dict(params) if nid == node_id else dict(old.p))
            for port in type(old).outputs:  # same Wire objects: readers keep their references
                wire = getattr(old, port.name)
                wire.v = make_wire(port.kind).v
                setattr(new, port.name, wire)
            bind_inputs(new, type(new), plan.links_to, lambda n, p: _producer(plan, fresh, n, p))
            ctx.node_id = nid
            new.prepare(ctx)
            fresh[nid] = new
        if cached_only and getattr(plan.bank, "uncached", lambda: [])():
            raise CacheMiss("channel tables")
    except (ValueError, KeyError) as e:
        saved.restore()
        return f"{node_id}: {str(e).strip(chr(39) + chr(34))}"
    except CacheMiss:
        saved.restore()
        raise
    finally:
        ctx.node_id = None
        ctx.cache = cache
    filed = ctx_problems(ctx) if ctx.warnings else {}
    ctx.warnings = []
    warned = False
    for nid, new in fresh.items():
        carry_state(new, plan.nodes[nid])
        plan.replace_node(new)
        if plan.node_warnings.get(nid, []) != filed.get(nid, []):
            plan.node_warnings[nid] = filed.get(nid, [])
            warned = True
    saved.clear_freed()
    if getattr(plan.bank, "channel_count", None) != saved.bank_channels or saved.bank_channels is None:
        plan.bank.freeze()  # a new channel was asked for (a source now reads another stem)
    if warned:
        plan.rebuild_warnings()
    return None


def _producer(plan: Plan, fresh: dict[str, Node], nid: str, port: str):
    return getattr(fresh.get(nid) or plan.nodes[nid], port)


def _with_readers(plan: Plan, node_id: str) -> list[str]:
    """node_id and every node reading its outputs at prepare time, transitively, in plan order."""
    found, todo = {node_id}, [node_id]
    while todo:
        for dst in plan.readers(todo.pop(), PREPARE_TIME_KINDS):
            if dst not in found:
                found.add(dst)
                todo.append(dst)
    if len(found) == 1:
        return [node_id]
    return [n for n in plan.order if n in found]


class _Saved:
    """What a re-prepare may touch, so a failed one changes nothing."""

    def __init__(self, plan: Plan, ids: list[str]) -> None:
        self.plan = plan
        self.slots = plan.ctx.slots.release(ids)
        self.wires = [(w, w.v) for nid in ids for w in _outputs(plan.nodes[nid])]
        frame = plan.frame
        self.vec = frame.vec.copy()
        self.scene = dict(vars(frame.scene), feature_ids=frame.scene.feature_ids.copy())
        self.bank_channels = getattr(plan.bank, "channel_count", None)
        self.bank_mark = plan.bank.mark() if hasattr(plan.bank, "mark") else None

    def restore(self) -> None:
        plan = self.plan
        plan.ctx.slots.restore(self.slots)
        for wire, v in self.wires:
            wire.v = v
        np.copyto(plan.frame.vec, self.vec)
        vars(plan.frame.scene).update(self.scene)
        plan.ctx.warnings = []
        if self.bank_mark is not None:
            plan.bank.rewind(self.bank_mark)

    def clear_freed(self) -> None:
        """Slots a re-prepared sink left (it moved block) go back to 'no feature'."""
        frame = self.plan.frame
        freed = self.plan.ctx.slots.freed_since(self.slots)
        for b, s in freed:
            frame.scene.feature_ids[b, s] = -1
            frame.strength[b, s] = 0.0
            frame.masks[b, s] = 1.0
        if freed:
            frame.scene.touch()


def _outputs(node: Node):
    return [getattr(node, p.name) for p in type(node).outputs]

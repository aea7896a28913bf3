"""Compile a Patch into a Plan: a flat, typed, preallocated list of calls.

compile_patch(patch, registry) checks everything once (node types, params
against their declared ranges, links against port kinds, one link per input,
cycles), sorts the graph, binds every input to its producer's Wire (or to a
constant Wire holding the port's default), calls each node's `prepare` in
order and freezes the channel lookups. Plan.run(t, dt) is then a loop down a
list of bound methods that allocates nothing of its own.

A recompiled Plan can take over the state of the previous one: nodes with the
same id and type keep the attributes they declare in `state`, so a spring
keeps its position while you edit something else.

Imports neither torch nor dearpygui.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .channels import ChannelBank
from .frame_params import BLOCKS, SLOTS, FrameParams
from .node import MASK_SHAPE, Node, PrepareContext, Registry, Wire
from .patch import Link, NodeSpec, Patch

_ONES_MASK = np.ones(MASK_SHAPE, dtype=np.float32)
_ONES_MASK.flags.writeable = False  # the shared default for unconnected mask inputs


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a patch, pointing at the node and port or param."""

    node: str | None
    what: str | None  # "port 'x'", "param 'y'", "link a.out -> b.in"
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = " ".join(x for x in (f"node {self.node}" if self.node else None, self.what) if x)
        kind = "warning: " if self.warning else ""
        return f"{kind}{where}: {self.message}" if where else f"{kind}{self.message}"


class CompileError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


# -- checking -----------------------------------------------------------------

def _check_params(spec: NodeSpec, cls: type[Node], out: list[Problem]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for prm in cls.params:
        raw = spec.params.get(prm.name, prm.default)
        value, reason = prm.check(raw)
        if reason:
            out.append(Problem(spec.id, f"param '{prm.name}'", reason))
        values[prm.name] = value
    for name in spec.params:
        if cls.param(name) is None:
            out.append(Problem(spec.id, f"param '{name}'",
                               f"{cls.type_id} has no such param; it is kept but ignored", True))
    return values


def _check_link(link: Link, classes: dict[str, type[Node] | None], out: list[Problem]) -> bool:
    """True when the link is usable. Links to placeholders are kept, not used."""
    (src, sport), (dst, dport) = link.src, link.dst
    for nid in (src, dst):
        if nid not in classes:
            out.append(Problem(nid, f"link {link}", "no node with this id"))
            return False
    if classes[src] is None or classes[dst] is None:
        return False  # placeholder end: already reported, link preserved on save
    s, d = classes[src].port(sport), classes[dst].port(dport)
    if s is None or s[0] != "out":
        out.append(Problem(src, f"port '{sport}'", f"{classes[src].type_id} has no output '{sport}' "
                           f"(link {link})"))
        return False
    if d is None or d[0] != "in":
        out.append(Problem(dst, f"port '{dport}'", f"{classes[dst].type_id} has no input '{dport}' "
                           f"(link {link})"))
        return False
    if s[1].kind != d[1].kind:
        out.append(Problem(dst, f"port '{dport}'", f"cannot link {s[1].kind} output {src}.{sport} "
                           f"to {d[1].kind} input (kinds must match)"))
        return False
    return True


def _find_cycle(ids: list[str], edges: dict[str, list[str]]) -> list[str]:
    """Return one cycle (as node ids, in order) among `ids`, by DFS."""
    colour = dict.fromkeys(ids, 0)
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        colour[n] = 1
        stack.append(n)
        for m in edges.get(n, []):
            if colour.get(m) == 1:
                return stack[stack.index(m):]
            if colour.get(m) == 0:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        colour[n] = 2
        return None

    for n in ids:
        if colour[n] == 0:
            found = visit(n)
            if found:
                return found
    return ids


def _topo_order(ids: list[str], links: list[Link], classes, out: list[Problem]) -> list[str]:
    """Kahn's sort, stable in file order. Links into feedback nodes (Delay)
    do not constrain the order: that is what makes feedback legal there."""
    edges: dict[str, list[str]] = {n: [] for n in ids}
    indeg = dict.fromkeys(ids, 0)
    for l in links:
        if getattr(classes[l.dst[0]], "feedback", False):
            continue
        edges[l.src[0]].append(l.dst[0])
        indeg[l.dst[0]] += 1
    ready = [n for n in ids if indeg[n] == 0]
    order: list[str] = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for m in edges[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    if len(order) < len(ids):
        left = [n for n in ids if n not in set(order)]
        cycle = _find_cycle(left, edges)
        out.append(Problem(cycle[0], None, "cycle through " + " -> ".join(cycle + cycle[:1])
                           + "; break it with a Delay node"))
    return order


@dataclass
class Checked:
    classes: dict[str, type[Node] | None]
    params: dict[str, dict[str, Any]]
    links: list[Link]
    order: list[str]
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]


def check(patch: Patch, registry: Registry) -> Checked:
    """All static checks, without building anything. Never raises."""
    problems: list[Problem] = []
    classes: dict[str, type[Node] | None] = {}
    params: dict[str, dict[str, Any]] = {}
    for spec in patch.nodes:
        if spec.id in classes:
            problems.append(Problem(spec.id, None, "duplicate id"))
            continue
        cls = registry.get(spec.type)
        classes[spec.id] = cls
        if cls is None:
            problems.append(Problem(spec.id, None, f"unknown node type {spec.type!r}: kept as a "
                                    "placeholder (its params and links are saved unchanged)", True))
            continue
        params[spec.id] = _check_params(spec, cls, problems)
    usable: list[Link] = []
    taken: dict[tuple[str, str], Link] = {}
    for link in patch.links:
        if not _check_link(link, classes, problems):
            continue
        if link.dst in taken:
            problems.append(Problem(link.dst[0], f"port '{link.dst[1]}'",
                                    f"input has two links ({taken[link.dst]} and {link})"))
            continue
        taken[link.dst] = link
        usable.append(link)
    live = [n for n, c in classes.items() if c is not None]
    order = _topo_order(live, usable, classes, problems)
    return Checked(classes, params, usable, order, problems)


# -- building -------------------------------------------------------------------

class SlotTable:
    """Hands out the (block, slot) pairs of FrameParams to the block sinks,
    and exclusive FrameParams fields (prompt, noise, latent) to one node each."""

    def __init__(self) -> None:
        self._used = {b: 0 for b in BLOCKS}
        self._owners: dict[str, str] = {}

    def slot(self, block: str, node_id: str) -> tuple[int, int]:
        if block not in self._used:
            raise ValueError(f"unknown block {block!r} (blocks: {', '.join(BLOCKS)})")
        if self._used[block] >= SLOTS:
            raise ValueError(f"block {block} already carries {SLOTS} features; "
                             f"remove a sink or move it to another block")
        self._used[block] += 1
        return BLOCKS.index(block), self._used[block] - 1

    def own(self, field_name: str, node_id: str) -> None:
        owner = self._owners.setdefault(field_name, node_id)
        if owner != node_id:
            raise ValueError(f"{field_name} is already driven by node {owner}; "
                             f"a patch has one {field_name} node")


@dataclass
class Plan:
    nodes: dict[str, Node]
    order: list[str]
    frame: FrameParams
    bank: ChannelBank
    warnings: list[Problem]
    steps: list[Callable[[float, float], None]]
    latches: list[Callable[[], None]]

    def run(self, t: float, dt: float) -> FrameParams:
        """Evaluate every node once for time t (seconds); dt = frame period."""
        self.bank.update(t)
        for step in self.steps:
            step(t, dt)
        for latch in self.latches:
            latch()
        return self.frame

    def wire(self, node_id: str, port: str) -> Wire:
        return getattr(self.nodes[node_id], port)

    def values(self, node_id: str) -> dict[str, Any]:
        """Live output values of a node (for meters)."""
        node = self.nodes[node_id]
        return {p.name: getattr(node, p.name).v for p in node.outputs}

    def nan_count(self) -> int:
        return sum(n.nan_count for n in self.nodes.values()) + self.frame.clamped

    def reset(self) -> None:
        """Transport jump: forget dynamics, no pulse for the skipped span."""
        self.bank.seek()
        for n in self.nodes.values():
            n.reset()


def _make_wire(kind: str) -> Wire:
    if kind == "mask":
        return Wire(np.zeros(MASK_SHAPE, dtype=np.float32))
    return Wire({"signal": 0.0, "trigger": False}.get(kind))


def _bind(node: Node, cls: type[Node], producers: dict[tuple[str, str], Wire]) -> None:
    for port in cls.outputs:
        wire = _make_wire(port.kind)
        producers[(node.id, port.name)] = wire
        setattr(node, port.name, wire)


def _bind_inputs(node: Node, cls: type[Node], links_to: dict[tuple[str, str], tuple[str, str]],
                 producers: dict[tuple[str, str], Wire]) -> None:
    """Linked inputs share the producer's Wire. An unconnected input reads a
    constant: the param of the same name when the node has one (a knob that a
    cable overrides, as in Max), else the port's declared default."""
    for port in cls.inputs:
        src = links_to.get((node.id, port.name))
        if src is not None:
            wire = producers[src]
        elif port.kind == "mask":
            wire = Wire(_ONES_MASK)
        elif port.kind == "signal" and cls.param(port.name) is not None:
            wire = Wire(float(node.p[port.name]))
        else:
            wire = Wire(port.default)
        setattr(node, port.name, wire)


def _carry_state(node: Node, old: Node | None) -> None:
    if old is None or type(old) is not type(node):
        return
    for name in type(node).state:
        if hasattr(old, name):
            setattr(node, name, copy.deepcopy(getattr(old, name)))


def _make_bank(source) -> ChannelBank:
    """A source is anything channels are read from: an offline Analysis (the
    default bank samples its arrays) or a live source that brings its own bank
    with the same interface (`make_bank()`), e.g. the causal live analyser."""
    make = getattr(source, "make_bank", None)
    return make() if make is not None else ChannelBank(source)


def compile_patch(patch: Patch, registry: Registry, *, analysis=None,
                  feature_mean: Callable[[str, int], float] | None = None,
                  fps: float = 50.0, previous: Plan | None = None) -> Plan:
    """Build a Plan, or raise CompileError listing every problem found."""
    checked = check(patch, registry)
    if checked.errors:
        raise CompileError(checked.errors)
    frame = FrameParams()
    if previous is not None:
        frame.scene.version = previous.frame.scene.version + 1
    bank = _make_bank(analysis)
    ctx = PrepareContext(analysis=analysis, bank=bank, frame=frame,
                         feature_mean=feature_mean or (lambda block, fid: 1.0), fps=fps)
    ctx.slots = SlotTable()
    links_to = {l.dst: l.src for l in checked.links}
    producers: dict[tuple[str, str], Wire] = {}
    nodes: dict[str, Node] = {}
    problems: list[Problem] = []
    for nid in checked.order:  # outputs first, so producers exist before consumers bind
        cls = checked.classes[nid]
        nodes[nid] = cls(nid, checked.params[nid])
        _bind(nodes[nid], cls, producers)
    for nid in checked.order:
        _bind_inputs(nodes[nid], checked.classes[nid], links_to, producers)
    for nid in checked.order:
        node = nodes[nid]
        try:
            node.prepare(ctx)
        except (ValueError, KeyError) as e:
            problems.append(Problem(nid, None, str(e).strip("'\"")))
            continue
        _carry_state(node, previous.nodes.get(nid) if previous else None)
    if problems:
        raise CompileError(problems)
    bank.freeze()
    warnings = [p for p in checked.problems if p.warning]
    warnings += [Problem(None, None, w, True) for w in ctx.warnings]
    steps = [nodes[n].process for n in checked.order if type(nodes[n]).process is not Node.process]
    latches = [nodes[n].latch for n in checked.order if hasattr(nodes[n], "latch")]
    return Plan(nodes, checked.order, frame, bank, warnings, steps, latches)

"""Plan: what compile_patch builds, and the SlotTable its sinks share.

A Plan is the flat list of bound `process` calls the patch sorted into,
the FrameParams they write, the ChannelBank they read, and what an
in-place edit needs to rebuild one node (the PrepareContext it was
prepared with, the links). Plan.run(t, dt) allocates nothing of its own.

Imports neither torch nor dearpygui.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .channels import ChannelBank
from .frame import BLOCKS, SLOTS, FrameParams
from .node import Node, PrepareContext, Wire
from .problems import Problem


class SlotTable:
    """Hands out the (block, slot) pairs of FrameParams to the block sinks,
    and exclusive FrameParams fields (prompt, noise, latent) to one node each.

    It lives as long as its Plan: a node re-prepared in place releases what
    it held and takes it again (the same slot when it stays on its block)."""

    def __init__(self) -> None:
        self._slots: dict[tuple[int, int], str] = {}  # (block, slot) -> node id
        self._owners: dict[str, str] = {}  # field -> node id
        self._prefer: dict[str, list[tuple[int, int]]] = {}

    def slot(self, block: str, node_id: str) -> tuple[int, int]:
        if block not in BLOCKS:
            raise ValueError(f"unknown block {block!r} (blocks: {', '.join(BLOCKS)})")
        b = BLOCKS.index(block)
        free = [(b, s) for s in range(SLOTS) if (b, s) not in self._slots]
        if not free:
            raise ValueError(f"block {block} already carries {SLOTS} features; "
                             f"remove a sink or move it to another block")
        held = [x for x in self._prefer.get(node_id, ()) if x in free]
        pick = held[0] if held else free[0]
        self._slots[pick] = node_id
        return pick

    def own(self, field_name: str, node_id: str) -> None:
        owner = self._owners.setdefault(field_name, node_id)
        if owner != node_id:
            raise ValueError(f"{field_name} is already driven by node {owner}; "
                             f"a patch has one {field_name} node")

    # -- in-place re-prepare --------------------------------------------------------
    def release(self, node_ids) -> tuple:
        """Free what these nodes hold; returns what restore() puts back."""
        saved = (dict(self._slots), dict(self._owners))
        ids = set(node_ids)
        self._prefer = {n: [x for x, o in self._slots.items() if o == n] for n in ids}
        self._slots = {x: o for x, o in self._slots.items() if o not in ids}
        self._owners = {f: o for f, o in self._owners.items() if o not in ids}
        return saved

    def restore(self, saved: tuple) -> None:
        self._slots, self._owners = dict(saved[0]), dict(saved[1])
        self._prefer = {}

    def freed_since(self, saved: tuple) -> list[tuple[int, int]]:
        """Slots held at release() that nobody holds now."""
        self._prefer = {}
        return [x for x in saved[0] if x not in self._slots]


@dataclass
class Plan:
    nodes: dict[str, Node]
    order: list[str]
    frame: FrameParams
    bank: ChannelBank
    warnings: list[Problem]
    steps: list[Callable[[float, float], None]]
    latches: list[Callable[[], None]]
    # what an in-place edit needs (edit.py): the context nodes were
    # prepared with (slots, bank, analysis), and who reads whose outputs
    ctx: PrepareContext | None = None
    links_to: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    static_warnings: list[Problem] = field(default_factory=list)
    node_warnings: dict[str, list[Problem]] = field(default_factory=dict)
    edits: int = 0  # params changed in place since the compile
    _step_at: dict = field(default_factory=dict, repr=False)
    _latch_at: dict = field(default_factory=dict, repr=False)
    _readers: dict | None = field(default=None, repr=False)

    def run(self, t: float, dt: float, *, paused: bool = False, idle_dt: float = 0.0) -> FrameParams:
        """Evaluate every node once for time t (seconds); dt = frame period.
        paused: the transport stands (the caller passes dt = 0); nodes that run
        while paused advance by idle_dt (the window's frame period) instead."""
        if self.ctx is not None:
            clock = self.ctx.clock
            clock.paused, clock.idle_dt = paused, idle_dt
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

    def rebuild_steps(self) -> None:
        """The per-frame call lists, from the nodes as they are now."""
        nodes = self.nodes
        stepped = [n for n in self.order if type(nodes[n]).process is not Node.process]
        latched = [n for n in self.order if hasattr(nodes[n], "latch")]
        self.steps = [nodes[n].process for n in stepped]
        self.latches = [nodes[n].latch for n in latched]
        self._step_at = {n: i for i, n in enumerate(stepped)}
        self._latch_at = {n: i for i, n in enumerate(latched)}

    def replace_node(self, new: Node) -> None:
        """Put a re-prepared node in its predecessor's place in the call lists
        (same class, so the same lists; its process may be another method)."""
        nid = new.id
        self.nodes[nid] = new
        if nid in self._step_at:
            self.steps[self._step_at[nid]] = new.process
        if nid in self._latch_at:
            self.latches[self._latch_at[nid]] = new.latch

    def readers(self, node_id: str, kinds: tuple[str, ...]) -> list[str]:
        """Nodes linked to this node's outputs of these port kinds."""
        if self._readers is None:
            self._readers = {}
            for (dst, _), (src, port) in self.links_to.items():
                kind = type(self.nodes[src]).port(port)[1].kind
                self._readers.setdefault(src, []).append((dst, kind))
        return [d for d, k in self._readers.get(node_id, ()) if k in kinds]

    def rebuild_warnings(self) -> None:
        self.warnings = list(self.static_warnings)
        for nid in self.order:
            self.warnings += self.node_warnings.get(nid, ())
        self.warnings += self.node_warnings.get("", ())

"""The Node API: typed ports, declared params, prepare once, process per frame.

A node type is one small class. Its ports and params are declared as class
attributes; the same schema drives the editor's widgets, the validator and the
.patch format. The runtime wires nodes together through `Wire` objects: every
output port owns one Wire, every input port is bound at compile time to the
Wire of the output it is linked to (or to a constant Wire holding its
default). Per frame a node reads `self.<input>.v` and writes
`self.<output>.v`; the plan is a flat list of bound `process` methods
(Pure Data's d_ugen.c: sort once, then call down a list).

This module imports neither torch nor dearpygui.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

PORT_KINDS = ("signal", "trigger", "mask", "stem")
PARAM_KINDS = ("float", "int", "bool", "choice", "text", "mask", "path")
MASK_SHAPE = (16, 16)  # steered blocks run at 16x16 for 512 px output


class Wire:
    """One output port's value for the current frame.

    signal: float; trigger: bool; mask: float32 (16, 16) array written in
    place by its producer; stem: a handle set once in prepare.
    """

    __slots__ = ("v",)

    def __init__(self, v: Any) -> None:
        self.v = v


@dataclass(frozen=True)
class Port:
    name: str
    kind: str = "signal"
    default: Any = 0.0  # used when an input is left unconnected
    doc: str = ""
    unit: str = ""

    def __post_init__(self) -> None:
        if self.kind not in PORT_KINDS:
            raise ValueError(f"port {self.name!r}: unknown kind {self.kind!r}")


def signal(name: str, default: float = 0.0, doc: str = "", unit: str = "") -> Port:
    return Port(name, "signal", float(default), doc, unit)


def trigger(name: str, doc: str = "") -> Port:
    return Port(name, "trigger", False, doc)


def mask(name: str, doc: str = "") -> Port:
    """Unconnected mask inputs read an all-ones mask (steer everywhere)."""
    return Port(name, "mask", None, doc)


def stem(name: str, doc: str = "") -> Port:
    return Port(name, "stem", None, doc)


@dataclass(frozen=True)
class Param:
    """A node setting stored in the patch. Ranges are hard: out of range is refused."""

    name: str
    kind: str
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    doc: str = ""
    max_len: int = 4096  # text/path params: bounded before use

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"param {self.name!r}: unknown kind {self.kind!r}")
        if self.kind == "choice" and self.default not in self.choices:
            raise ValueError(f"param {self.name!r}: default not among choices")

    def check(self, value: Any) -> tuple[Any, str | None]:
        """Return (normalised value, None) or (None, reason it is refused)."""
        checker = _CHECKERS[self.kind]
        return checker(self, value)


def _check_number(p: Param, value: Any, cast) -> tuple[Any, str | None]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, f"expected a number, got {type(value).__name__}"
    if not math.isfinite(value):
        return None, f"{value} is not a finite number"
    if cast is int and float(value) != int(value):
        return None, f"expected a whole number, got {value}"
    value = cast(value)
    if p.min is not None and value < p.min:
        return None, f"{value} is below the minimum {p.min}"
    if p.max is not None and value > p.max:
        return None, f"{value} is above the maximum {p.max}"
    return value, None


def _check_bool(p: Param, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, bool):
        return None, f"expected true or false, got {value!r}"
    return value, None


def _check_choice(p: Param, value: Any) -> tuple[Any, str | None]:
    if value not in p.choices:
        return None, f"{value!r} is not one of {', '.join(p.choices)}"
    return value, None


def _check_text(p: Param, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, str):
        return None, f"expected text, got {type(value).__name__}"
    if len(value) > p.max_len:
        return None, f"text longer than {p.max_len} characters"
    return value, None


def _check_mask(p: Param, value: Any) -> tuple[Any, str | None]:
    """A stored 16x16 grid: a flat list of 256 numbers in [0, 1]."""
    n = MASK_SHAPE[0] * MASK_SHAPE[1]
    if not isinstance(value, list) or len(value) != n:
        return None, f"expected a list of {n} numbers (16x16 mask)"
    for x in value:
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not (0.0 <= x <= 1.0):
            return None, "mask cells must be numbers in [0, 1]"
    return [float(x) for x in value], None


_CHECKERS = {
    "float": lambda p, v: _check_number(p, v, float),
    "int": lambda p, v: _check_number(p, v, int),
    "bool": _check_bool,
    "choice": _check_choice,
    "text": _check_text,
    "path": _check_text,
    "mask": _check_mask,
}


class FrameClock:
    """How the show's clock moves this frame, for the few nodes that care.

    paused: the transport stands; the plan is run with dt = 0, so springs,
    walks and LFOs hold still and the picture holds. idle_dt: the window's
    frame period (s), which a node explicitly set to run while paused (an
    LFO's `run_while_paused`) advances by instead. Written by Plan.run once a
    frame; a node keeps the reference it got at prepare (ctx.clock)."""

    __slots__ = ("paused", "idle_dt")

    def __init__(self) -> None:
        self.paused = False
        self.idle_dt = 0.0


@dataclass
class PrepareContext:
    """What a node may look at once per compile (never per frame).

    analysis: the track's Analysis (graph_runtime.analysis.store) or None.
    bank: the ChannelBank that samples analysis channels once per frame.
    frame: the FrameParams the sinks write into.
    feature_mean: callable (block, feature_id) -> float, mean activation of
        that SAE feature (1.0 when no SAE is loaded).
    fps: the frame rate the plan will be run at (frames per second).
    """

    analysis: Any = None
    bank: Any = None
    frame: Any = None
    feature_mean: Any = None
    fps: float = 50.0
    warnings: list = field(default_factory=list)  # (node id or None, message)
    slots: Any = None  # compiler.SlotTable: FrameParams slots and exclusive fields
    base_dir: str | None = None  # the patch file's folder: relative paths (album art) start here
    cache: Any = None  # plan_cache.AnalysisCache: prepare work shared across compiles
    node_id: str | None = None  # whose prepare is running (warnings are filed under it)
    clock: FrameClock = field(default_factory=FrameClock)  # paused or not, this frame
    control_hub: Any = None  # control.hub.SourceHub of the show compiling (midi.*, osc.* wires)

    @property
    def bpm(self) -> float:
        """Track tempo in BPM; 120 (the presets' design tempo) without analysis."""
        bpm = getattr(self.analysis, "bpm", None)
        return float(bpm) if bpm and bpm > 0 else 120.0

    def warn(self, message: str) -> None:
        self.warnings.append((self.node_id, message))

    def cached(self, key: tuple, build):
        """build() once per analysis and key; later compiles reuse the result.

        For prepare work that depends only on (analysis, node type, params):
        a per-track table, a precomputed angle. The key must name the node
        type and every param the result depends on; the result is shared by
        every plan of this analysis, so it is read, never written."""
        if self.cache is None:
            return build()
        return self.cache.memo(key, build)

    def resolve_path(self, path: str) -> str:
        """A path from the patch: relative ones are relative to the patch's folder."""
        path = os.path.expanduser(path)
        if self.base_dir and not os.path.isabs(path):
            return os.path.join(self.base_dir, path)
        return path


class Node:
    """Base class of every node type. Subclasses declare, the runtime wires.

    Class attributes a subclass sets:
        type_id   "family.name", stable: it is what the .patch file stores.
        family    menu group in the editor.
        inputs    tuple of Port; outputs: tuple of Port.
        params    tuple of Param.
        state     names of attributes carried over when the patch is recompiled
                  (a spring keeps its position when an unrelated node is edited).
        reprepare params whose in-place change (edit.set_param) re-runs this
                  node's prepare (state carried, as on a recompile); every
                  other param is read live: through `self.p`, the constant
                  wire of a same-named input, or `on_param`. None (the
                  default) means every param re-prepares: always correct.

    Each port becomes an attribute holding its Wire: read `self.target.v`,
    write `self.position.v`. Mask outputs start as a zeroed (16, 16) float32
    buffer: write it in place (`self.out.v[:] = ...` or np.copyto), or point
    `.v` at a buffer of your own in prepare. Params are in `self.p`.
    """

    type_id: ClassVar[str] = ""
    family: ClassVar[str] = ""
    title: ClassVar[str] = ""
    doc: ClassVar[str] = ""
    inputs: ClassVar[tuple[Port, ...]] = ()
    outputs: ClassVar[tuple[Port, ...]] = ()
    params: ClassVar[tuple[Param, ...]] = ()
    state: ClassVar[tuple[str, ...]] = ()
    feedback: ClassVar[bool] = False  # True only for Delay: links into it may close a loop;
    # such a node also defines latch(), called after every other node each frame
    reprepare: ClassVar[tuple[str, ...] | None] = None  # see the class doc

    def __init__(self, node_id: str, params: dict[str, Any]) -> None:
        self.id = node_id
        self.p = params  # validated, complete (defaults filled)
        self.nan_count = 0  # NaN/inf replaced at this node's outputs

    # -- lifecycle -------------------------------------------------------
    def prepare(self, ctx: PrepareContext) -> None:
        """Once per compile: bind mode-specific functions, allocate state."""

    def process(self, t: float, dt: float) -> None:
        """Once per frame: read input wires' .v, write output wires' .v."""

    def reset(self) -> None:
        """Return state to its initial value (transport jump)."""

    def on_param(self, name: str) -> None:
        """self.p[name] was changed in place (a param not in `reprepare`)."""

    # -- helpers -----------------------------------------------------------
    def finite(self, x: float, fallback: float = 0.0) -> float:
        """Replace NaN/inf by fallback and count it (never propagate NaN)."""
        if x - x == 0.0:  # false for NaN and +-inf; cheaper than math.isfinite
            return x
        self.nan_count += 1
        return fallback

    @classmethod
    def port(cls, name: str) -> tuple[str, Port] | None:
        for p in cls.inputs:
            if p.name == name:
                return "in", p
        for p in cls.outputs:
            if p.name == name:
                return "out", p
        return None

    @classmethod
    def param(cls, name: str) -> Param | None:
        for p in cls.params:
            if p.name == name:
                return p
        return None

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """Plain-data description for the editor and `patch info`."""
        return {
            "type": cls.type_id,
            "family": cls.family,
            "title": cls.title or cls.type_id,
            "doc": cls.doc,
            "inputs": [(p.name, p.kind) for p in cls.inputs],
            "outputs": [(p.name, p.kind) for p in cls.outputs],
            "params": [p.name for p in cls.params],
        }


def new_mask(fill: float = 0.0) -> np.ndarray:
    """A (16, 16) float32 mask buffer; allocate in prepare, never per frame."""
    return np.full(MASK_SHAPE, fill, dtype=np.float32)


class Registry:
    """type_id -> Node class. The runtime receives one; it never imports nodes."""

    def __init__(self, classes=()) -> None:
        self._types: dict[str, type[Node]] = {}
        for c in classes:
            self.add(c)

    def add(self, cls: type[Node]) -> type[Node]:
        if not cls.type_id or "." not in cls.type_id:
            raise ValueError(f"{cls.__name__}: type_id must look like 'family.name'")
        if cls.type_id in self._types:
            raise ValueError(f"node type {cls.type_id!r} registered twice")
        names = [p.name for p in cls.inputs + cls.outputs]
        if len(set(names)) != len(names):
            raise ValueError(f"{cls.type_id}: port names must be unique")
        clash = [n for n in names if hasattr(Node, n) or n in ("id", "p")]
        if clash:
            raise ValueError(f"{cls.type_id}: port names {clash} shadow Node attributes")
        self._types[cls.type_id] = cls
        return cls

    def get(self, type_id: str) -> type[Node] | None:
        return self._types.get(type_id)

    def __contains__(self, type_id: str) -> bool:
        return type_id in self._types

    def __iter__(self):
        return iter(sorted(self._types.values(), key=lambda c: c.type_id))

    def __len__(self) -> int:
        return len(self._types)

"""Meters: every port shows what the music is doing to it, live.

signal outputs   a sparkline of the last ~3 s and the value beside it
signal inputs    the value read this frame (from the cable, or the knob)
trigger outputs  a lamp that flashes on the frame it fires and fades
mask outputs     the 16x16 grid as a tiny live image
stem outputs     the stem's name
block sinks      a centre-zero bar of the strength written to the engine

The node editor creates a meter widget where it lays out a port; `update`
runs once per window frame. It reads the plan's Wires directly (bound once
per plan, not looked up per frame) and only touches a widget when what it
shows changed. Meters are dealt into SPARK_EVERY buckets and one bucket is
refreshed per frame (20 Hz each at 60 fps; trigger lamps every frame), a
flat sparkline is not redrawn, and meters of ports a compact node hides are
skipped, so 40 nodes cost about a hundred microseconds a frame.
"""
from __future__ import annotations

from collections import deque

import dearpygui.dearpygui as dpg
import numpy as np

from graph_runtime.graph.frame import STRENGTH_BOUND

from . import theme

HISTORY = 64  # sparkline length, samples
SPARK_EVERY = 3  # a sparkline takes a sample every 3rd window frame (~3 s shown at 60 fps)
SPARK_W, SPARK_H = 64, 16
STRENGTH_FULL_SCALE = STRENGTH_BOUND  # bar full at the clamp; the text says the true value


class _Meter:
    __slots__ = ("node", "port", "side", "kind", "tag", "wire", "last", "hist", "buf", "extra",
                 "shown", "flat")

    def __init__(self, node, port, side, kind, tag, extra=None) -> None:
        self.node, self.port, self.side, self.kind, self.tag = node, port, side, kind, tag
        self.wire = None
        self.last = None
        self.hist = deque([0.0] * HISTORY, maxlen=HISTORY) if kind == "signal" and side == "out" else None
        self.buf = None
        self.extra = extra
        self.shown = True
        self.flat = 0  # consecutive equal samples: a flat sparkline needs no redraw


class Meters:
    def __init__(self) -> None:
        self._meters: dict[str, list[_Meter]] = {}
        self._bound_generation = -1
        self._active: list[_Meter] = []
        self._buckets: list[list[_Meter]] = [[] for _ in range(SPARK_EVERY)]
        self._every: list[_Meter] = []
        self._textures: list[int] = []
        self.enabled = True
        self._frame = 0

    # -- built by the node editor -------------------------------------------------
    def add(self, node_id: str, port: str, side: str, kind: str, parent) -> None:
        """A meter for one port, laid out inside `parent` (a node attribute's group)."""
        if kind == "signal" and side == "out":
            tag = dpg.add_simple_plot(parent=parent, default_value=[0.0] * HISTORY,
                                      width=SPARK_W, height=SPARK_H)
            value = dpg.add_text(_fmt(0.0), parent=parent, color=theme.DIM)
            self._meters.setdefault(node_id, []).append(
                _Meter(node_id, port, side, kind, tag, extra=value))
            self._bound_generation = -1
            return
        elif kind == "signal":
            tag = dpg.add_text("", parent=parent, color=theme.DIM)
        elif kind == "trigger":
            tag = dpg.add_progress_bar(parent=parent, default_value=0.0, width=SPARK_W, height=8)
        elif kind == "mask":
            tag, buf = self._mask_image(parent)
            m = _Meter(node_id, port, side, kind, tag)
            m.buf = buf
            self._meters.setdefault(node_id, []).append(m)
            self._bound_generation = -1
            return
        else:
            tag = dpg.add_text("", parent=parent, color=theme.KIND_COLOURS.get(kind, theme.DIM))
        self._meters.setdefault(node_id, []).append(_Meter(node_id, port, side, kind, tag))
        self._bound_generation = -1

    def add_strength(self, node_id: str, port: str, parent) -> None:
        """The centre-zero strength bar of a block sink (reads its 'applied' output)."""
        tag = dpg.add_progress_bar(parent=parent, default_value=0.0, width=150, height=14,
                                   overlay="strength 0")
        self._meters.setdefault(node_id, []).append(_Meter(node_id, port, "out", "strength", tag))
        self._bound_generation = -1

    def _mask_image(self, parent):
        buf = np.zeros((16, 16, 4), dtype=np.float32)
        buf[..., 3] = 1.0
        with dpg.texture_registry():
            tex = dpg.add_raw_texture(16, 16, buf, format=dpg.mvFormat_Float_rgba)
        self._textures.append(tex)
        dpg.add_image(tex, parent=parent, width=32, height=32)
        return tex, buf

    def set_shown(self, node_id: str, port: str, side: str, shown: bool) -> None:
        """A port a compact node hides: its meter is not updated."""
        for m in self._meters.get(node_id, ()):
            if m.port == port and m.side == side and m.shown != shown:
                m.shown = shown
                self._bound_generation = -1

    def remove_node(self, node_id: str) -> None:
        for m in self._meters.pop(node_id, []):
            if m.kind == "mask" and dpg.does_item_exist(m.tag):
                dpg.delete_item(m.tag)
        self._bound_generation = -1

    def clear(self) -> None:
        for nid in list(self._meters):
            self.remove_node(nid)

    # -- per frame ------------------------------------------------------------------------
    def bind(self, plan, generation: int) -> None:
        """Resolve each meter's Wire in this plan (after a swap or a rebuild)
        and deal the meters into SPARK_EVERY buckets; triggers go every frame."""
        self._buckets = [[] for _ in range(SPARK_EVERY)]
        self._every = []
        n = 0
        for nid, meters in self._meters.items():
            node = plan.nodes.get(nid) if plan is not None else None
            for m in meters:
                m.wire = getattr(node, m.port, None) if node is not None else None
                m.last = None
                m.flat = 0
                if m.wire is None or not m.shown:
                    continue
                if m.kind == "trigger":
                    self._every.append(m)
                else:
                    self._buckets[n % SPARK_EVERY].append(m)
                    n += 1
        self._active = self._every + [m for b in self._buckets for m in b]
        self._bound_generation = generation

    def update(self, plan, generation: int) -> None:
        if not self.enabled:
            return
        if generation != self._bound_generation:
            self.bind(plan, generation)
        set_value, configure = dpg.set_value, dpg.configure_item
        self._frame += 1
        for m in self._every:  # trigger lamps: a hit shows on its own frame
            level = 1.0 if m.wire.v else (m.last or 0.0) * 0.8
            if level < 0.02:
                level = 0.0
            if level != m.last:
                m.last = level
                set_value(m.tag, level)
        for m in self._buckets[self._frame % SPARK_EVERY]:
            v = m.wire.v
            hist = m.hist
            if hist is not None:  # a signal output: sparkline + value
                m.flat = m.flat + 1 if v == hist[-1] else 0
                hist.append(v)
                if m.flat <= HISTORY:
                    set_value(m.tag, list(hist))
                text = _fmt(v)
                if text != m.last:
                    m.last = text
                    set_value(m.extra, text)  # a text beside it: 10x cheaper than an overlay
                continue
            kind = m.kind
            if kind == "signal":  # an input: the value it reads
                text = _fmt(v)
                if text != m.last:
                    m.last = text
                    set_value(m.tag, text)
            elif kind == "strength":
                text = f"{'CLIP ' if abs(v) >= STRENGTH_BOUND else ''}strength {v:+.1f}"
                if text != m.last:
                    m.last = text
                    set_value(m.tag, min(abs(v) / STRENGTH_FULL_SCALE, 1.0))
                    configure(m.tag, overlay=text)
            elif kind == "mask":  # 768 multiplies into the texture's own buffer
                np.multiply(v[..., None], _MASK_TINT, out=m.buf[..., :3])
            elif kind == "stem":
                name = getattr(v, "name", None) or "-"
                if name != m.last:
                    m.last = name
                    set_value(m.tag, f"[{name}]")


_MASK_TINT = np.array([0.80, 0.45, 0.95], dtype=np.float32)


def _fmt(v) -> str:
    """Six characters, so the row does not jitter as the value changes."""
    try:
        return f"{v:>6.3g}"
    except (TypeError, ValueError):
        return str(v)[:6]

"""Spatial masks: where on the 16x16 grid of a steered block a feature acts.

A mask is (16, 16) float32 in [0, 1], row 0 at the top of the image; the
block's steering is multiplied by it cell by cell (painting with concepts).
Paint holds a stored grid (or a preset); PitchMask moves a horizontal band
up and down with a stem's pitch, low notes at the bottom; Mix combines two.
All buffers are built in prepare; a frame at most copies 256 floats.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from graph_runtime.graph.node import MASK_SHAPE, Node, Param, mask, new_mask, signal

ROWS, COLS = MASK_SHAPE
CELLS = ROWS * COLS
PITCH_LEVELS = 12  # one Gaussian per chromatic step of normalised pitch


def preset_grid(name: str) -> np.ndarray:
    """floor: bottom half (bass, kick: grounding); ceiling: top half (hats,
    shimmer: air); center: the middle band, rows 4-11 (voice, melody: the
    focal point); fill: everywhere; clear: nowhere."""
    g = new_mask(0.0)
    if name == "floor":
        g[ROWS // 2:, :] = 1.0
    elif name == "ceiling":
        g[: ROWS // 2, :] = 1.0
    elif name == "center":
        g[ROWS // 4: ROWS - ROWS // 4, :] = 1.0
    elif name == "fill":
        g[:] = 1.0
    elif name != "clear":
        raise ValueError(f"unknown mask preset {name!r}")
    return g


PRESETS = ("floor", "ceiling", "center", "fill", "clear")


def preset_cells(name: str) -> list[float]:
    """A preset as the 256-number list a Paint node stores (for the editor's buttons)."""
    return [float(x) for x in preset_grid(name).ravel()]


def pitch_gaussians(spread: float = 0.25, levels: int = PITCH_LEVELS) -> list[np.ndarray]:
    """`levels` horizontal bands: level 0 centred at the bottom edge, the last
    at the top. Each row's weight is exp(-d^2 / 2 spread^2), d = vertical
    distance in image heights, so spread 0.25 lights about half the image."""
    y = (np.arange(ROWS, dtype=np.float64) + 0.5) / ROWS  # 0 top .. 1 bottom
    bands = []
    for i in range(levels):
        centre = 1.0 - i / (levels - 1)
        rows = np.exp(-((y - centre) ** 2) / (2.0 * spread * spread))
        bands.append(np.repeat(rows[:, None], COLS, axis=1).astype(np.float32))
    return bands


@lru_cache(maxsize=32)
def _shared_bands(spread: float) -> tuple[np.ndarray, ...]:
    """pitch_gaussians, built once per spread; read-only, shared by every plan."""
    bands = pitch_gaussians(spread)
    for b in bands:
        b.flags.writeable = False
    return tuple(bands)


class Paint(Node):
    type_id = "mask.paint"
    family = "masks"
    title = "Paint mask"
    doc = ("A 16x16 grid painted in the editor (preset 'custom'), or a preset: floor (bottom "
           "half), ceiling (top half), center (middle band), fill, clear.")
    outputs = (mask("out"),)
    params = (Param("preset", "choice", "fill", choices=("custom",) + PRESETS,
                    doc="custom uses the painted grid"),
              Param("grid", "mask", [1.0] * CELLS, doc="painted cells, row by row from the top"))
    reprepare = ("preset", "grid")  # a constant mask: its readers (sinks) re-prepare with it

    def prepare(self, ctx) -> None:
        if self.p["preset"] == "custom":
            grid = np.asarray(self.p["grid"], dtype=np.float32).reshape(MASK_SHAPE)
        else:
            grid = preset_grid(self.p["preset"])
        np.copyto(self.out.v, grid)
        # constant from here on: read-only tells consumers (the sink) that one
        # copy at compile time is enough, as for the compiler's all-ones default
        self.out.v.flags.writeable = False


class PitchMask(Node):
    type_id = "mask.pitch"
    family = "masks"
    title = "Pitch mask"
    doc = ("A horizontal band that follows pitch: normalised pitch 0..1 picks one of 12 "
           "precomputed Gaussians, low notes at the bottom of the image, high at the top.")
    inputs = (signal("pitch", doc="normalised pitch 0..1 (an audio source's `pitch`)"),)
    outputs = (mask("out"), signal("level", doc="which of the 12 bands, 0 = lowest"))
    params = (Param("spread", "float", 0.25, 0.02, 2.0, doc="band width, in image heights"),)
    reprepare = ("spread",)

    def prepare(self, ctx) -> None:
        self._bands = _shared_bands(float(self.p["spread"]))
        self._top = len(self._bands) - 1
        self._level = -1
        self._show(0)

    def _show(self, level: int) -> None:
        self._level = level
        np.copyto(self.out.v, self._bands[level])
        self.level.v = float(level)

    def process(self, t: float, dt: float) -> None:
        x = self.finite(self.pitch.v)
        level = int(x * self._top + 0.5) if x > 0.0 else 0
        if level > self._top:
            level = self._top
        if level != self._level:  # copy only when the band moves
            self._show(level)

    def reset(self) -> None:
        self._show(0)


def _mix_multiply(a, b, out, one) -> None:
    np.multiply(a, b, out=out)


def _mix_max(a, b, out, one) -> None:
    np.maximum(a, b, out=out)


def _mix_add(a, b, out, one) -> None:
    np.add(a, b, out=out)
    np.minimum(out, one, out=out)


MIX_MODES = {"multiply": _mix_multiply, "max": _mix_max, "add": _mix_add}


class Mix(Node):
    type_id = "mask.mix"
    family = "masks"
    title = "Mask mix"
    doc = ("Combine two masks: multiply (intersection), max (union), add (sum clamped to 1). "
           "An unconnected input is all ones.")
    inputs = (mask("a"), mask("b"))
    outputs = (mask("out"),)
    params = (Param("mode", "choice", "multiply", choices=tuple(MIX_MODES)),)
    reprepare = ("mode",)

    def prepare(self, ctx) -> None:
        self._op = MIX_MODES[self.p["mode"]]
        self._one = np.float32(1.0)

    def process(self, t: float, dt: float) -> None:
        self._op(self.a.v, self.b.v, self.out.v, self._one)


NODES = (Paint, PitchMask, Mix)

"""Procedural shapes for the character, drawn once when a compositor is made.

Everything here allocates freely: it runs at prepare time (a skin, a canvas
size, a creature), never per frame. Shapes are coverage maps in [0, 1]
(antialiased over about one pixel) that `paint` blends onto an RGBA canvas.
"""
from __future__ import annotations

import math

import numpy as np


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return y + 0.5, x + 0.5


def rounded_rect(h: int, w: int, radius: float) -> np.ndarray:
    """(h, w) coverage of a rectangle with corners of `radius` px."""
    y, x = _grid(h, w)
    r = max(0.0, min(radius, h / 2.0, w / 2.0))
    qx = np.abs(x - w / 2.0) - (w / 2.0 - r)  # signed distance of a rounded box
    qy = np.abs(y - h / 2.0) - (h / 2.0 - r)
    d = np.hypot(np.maximum(qx, 0.0), np.maximum(qy, 0.0)) + np.minimum(np.maximum(qx, qy), 0.0) - r
    return np.clip(0.5 - d, 0.0, 1.0)


def disc(h: int, w: int, cy: float, cx: float, r: float) -> np.ndarray:
    y, x = _grid(h, w)
    return np.clip(r - np.hypot(y - cy, x - cx) + 0.5, 0.0, 1.0)


def paint(canvas: np.ndarray, y: int, x: int, cover: np.ndarray, color) -> None:
    """Blend `color` (RGB) over canvas[y:, x:] with coverage `cover` (clipped at the edges)."""
    h, w = cover.shape
    y0, x0 = max(y, 0), max(x, 0)
    y1, x1 = min(y + h, canvas.shape[0]), min(x + w, canvas.shape[1])
    if y1 <= y0 or x1 <= x0:
        return
    a = cover[y0 - y:y1 - y, x0 - x:x1 - x, None]
    region = canvas[y0:y1, x0:x1, :3].astype(np.float32)
    region += (np.asarray(color, np.float32) - region) * a
    canvas[y0:y1, x0:x1, :3] = np.clip(region + 0.5, 0, 255).astype(np.uint8)


def flower(size: int, style: str, petals: int, bloom: float, glow: float) -> tuple:
    """(body, halo) coverage maps (size, size) of one stem's flower at `bloom` 0..1.

    petals: a disc whose petals open and lengthen; rings: a disc with more
    and wider rings; stars: a star whose points sharpen. The halo is a soft
    glow of strength `glow` that grows with the bloom."""
    y, x = _grid(size, size)
    c = size / 2.0
    dy, dx = y - c, x - c
    r = np.hypot(dy, dx)
    th = np.arctan2(dy, dx)
    unit = size / 2.0
    core = unit * (0.22 + 0.16 * bloom)
    if style == "petals":
        length = unit * (0.30 + 0.62 * bloom)
        edge = core * 0.8 + (length - core * 0.8) * np.abs(np.cos(petals * th / 2.0)) ** 1.4
        shape = np.clip(edge - r + 0.5, 0.0, 1.0)
        body = np.maximum(shape * 0.75, np.clip(core - r + 0.5, 0.0, 1.0))
    elif style == "rings":
        body = np.clip(core - r + 0.5, 0.0, 1.0)
        n = 1 + int(round(bloom * (petals + 1)))
        for k in range(n):
            rk = core + unit * 0.11 * (k + 1)
            width = 1.0 + 2.5 * bloom
            ring = np.clip(width / 2 - np.abs(r - rk) + 0.5, 0.0, 1.0) * (0.9 - 0.12 * k)
            body = np.maximum(body, ring * (rk < unit * 0.98))
    else:  # stars
        points = petals + 1
        sharp = 0.25 + 0.6 * bloom
        outer = unit * (0.32 + 0.62 * bloom)
        wave = np.abs(((th * points / (2 * math.pi)) % 1.0) - 0.5) * 2.0  # 1 at a point
        edge = outer * (1.0 - sharp * (1.0 - wave))
        body = np.maximum(np.clip(edge - r + 0.5, 0.0, 1.0), np.clip(core - r + 0.5, 0.0, 1.0))
    halo = glow * (0.25 + 0.5 * bloom) * np.exp(-np.maximum(r - core, 0.0) / (unit * 0.35))
    halo *= r < unit
    return body.astype(np.float32), halo.astype(np.float32)


def small_flower(size: int, petals: int) -> np.ndarray:
    """(size, size) coverage of a tiny flower of the garden."""
    body, _ = flower(size, "petals", petals, 0.7, 0.0)
    return body

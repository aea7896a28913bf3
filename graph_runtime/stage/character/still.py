"""A still of hambajuba as he is now (`character show`, docs screenshots).

No engine: his heart shows the example album cover's dusk (drawn, not
loaded), and the music is a short synthetic groove at 120 BPM, stopped at a
moment where his orbs are open and his eyes are on the screen.
"""
from __future__ import annotations

import io

import numpy as np

from graph_runtime.media.atomic import write_atomic

from .compositor import Compositor
from .creature import Creature
from .skin import Skin

STILL_T = 2.25  # seconds into the synthetic groove: between beats, orbs open


def heart_image(side: int = 512) -> np.ndarray:
    """(side, side, 4) uint8: a dusk with a low sun and rings (no files read)."""
    y, x = np.mgrid[0:side, 0:side].astype(np.float32) / (side - 1)
    sky = np.stack([0.95 - 0.6 * y, 0.35 + 0.25 * y, 0.45 + 0.45 * y], axis=-1)
    r = np.hypot(x - 0.5, y - 0.62)
    sun = np.clip(1.0 - r / 0.16, 0.0, 1.0) ** 0.5
    rings = 0.12 * (np.sin(r * 70.0) > 0.6) * (r > 0.18) * np.exp(-r * 2.5)
    img = sky * (1.0 - sun[..., None]) + np.array([1.0, 0.85, 0.45]) * sun[..., None]
    img += rings[..., None] * np.array([1.0, 0.6, 0.3])
    img[y > 0.78] *= 0.35
    out = np.empty((side, side, 4), np.uint8)
    out[..., :3] = (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    out[..., 3] = 255
    return out


STILL_LEVELS = {"bass": 0.85, "drums": 0.7, "vocals": 0.55, "other": 0.75}  # a full chorus


def groove(seconds: float = 8.0, *, full: bool = False):
    """The synthetic 120 BPM analysis; `full`: every stem playing (the still's chorus)."""
    from ...analysis.store import synthetic

    a = synthetic(seconds, bpm=120.0)
    if full:
        for stem, level in STILL_LEVELS.items():
            wobble = 0.08 * np.sin(2 * np.pi * 0.5 * a.times + len(stem))
            a.data[f"{stem}/energy_smooth"] = np.clip(level + wobble, 0, 1).astype(np.float32)
    return a


def still(skin: Skin, creature: Creature, width: int = 1280, height: int = 720) -> np.ndarray:
    comp = Compositor(skin, width, height, creature, groove(full=True))
    heart = heart_image()
    fps = 30.0
    for i in range(int(STILL_T * fps) + 1):  # play up to the moment: the orbs' physics settle
        out = comp.frame(heart, i / fps, 1.0 / fps)
    return out


def save_png(rgba: np.ndarray, path: str) -> None:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba[..., :3])).save(buf, format="PNG", optimize=True)
    write_atomic(path, buf.getvalue())

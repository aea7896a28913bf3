"""The example album cover the album_art patch ships with (patches/album_art.jpg).

Drawn, not photographed: a dusk gradient, a low sun and rings around it,
256 x 256 px, about 10 kB as JPEG. `python -m hambajuba_nodes.content.examples`
writes it beside the patches; the patch names it by a relative path, which
is resolved against the patch file's folder, so the pair can be copied
anywhere together.
"""
from __future__ import annotations

import os

import numpy as np

COVER_NAME = "album_art.jpg"
SIDE = 256


def cover_pixels(side: int = SIDE) -> np.ndarray:
    """(side, side, 3) uint8 RGB."""
    y, x = np.mgrid[0:side, 0:side].astype(np.float64) / (side - 1)
    sky = np.stack([0.95 - 0.6 * y, 0.35 + 0.25 * y, 0.45 + 0.45 * y], axis=-1)  # dusk
    r = np.hypot(x - 0.5, y - 0.62)
    sun = np.clip(1.0 - r / 0.16, 0.0, 1.0) ** 0.5
    rings = 0.12 * (np.sin(r * 70.0) > 0.6) * (r > 0.18) * np.exp(-r * 2.5)
    img = sky * (1.0 - sun[..., None]) + np.array([1.0, 0.85, 0.45]) * sun[..., None]
    img += rings[..., None] * np.array([1.0, 0.6, 0.3])
    img[y > 0.78] *= 0.35  # a dark shore line under the sun
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def write_cover(folder: str | os.PathLike) -> str:
    from PIL import Image

    path = os.path.join(folder, COVER_NAME)
    Image.fromarray(cover_pixels()).save(path, format="JPEG", quality=85, optimize=True)
    os.chmod(path, 0o644)
    return path

"""Frames with known content and a PSNR, shared by the stage tests."""
from __future__ import annotations

import numpy as np


def card(i: int, h: int = 96, w: int = 128) -> np.ndarray:
    """(h, w, 4) uint8: a smooth test card that changes with i (JPEG-friendly)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.empty((h, w, 4), np.uint8)
    img[..., 0] = (x * 255 / w + 9 * i) % 256
    img[..., 1] = y * 255 / h
    img[..., 2] = 128 + 100 * np.sin((x + 2 * y) / 23.0 + i * 0.7)
    img[..., 3] = 255
    return img


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    err = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if err == 0 else 10 * np.log10(255.0 ** 2 / err)

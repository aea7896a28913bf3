"""A null engine: the same image every frame, for measuring the transport.

It implements the engine interface (render, feature_mean, description,
is_preview, close) without torch, so `serve --model null` starts in a
moment and `bench remote` measures codecs and sockets only. The image is a
smooth colour field with some grain, so JPEG has about the work of a real
frame (a flat colour would flatter the codec).
"""
from __future__ import annotations

import numpy as np

from graph_runtime.graph.frame import N_FEATURES, FrameParams


class NullEngine:
    is_preview = False
    note = ""

    def __init__(self, size: int = 512, image: np.ndarray | None = None) -> None:
        """image: (size, size, 4) uint8 to serve instead of the built-in colour field."""
        self.size = size
        self.n_features = N_FEATURES
        self.description = f"null engine: one constant {size}x{size} image (benchmarks)"
        self.frames = 0
        if image is not None:
            self._image = np.ascontiguousarray(image, dtype=np.uint8)
            return
        y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
        grain = np.random.default_rng(0).normal(0.0, 6.0, (size, size, 3)).astype(np.float32)
        rgb = np.stack([128 + 100 * np.sin(6 * x + 2 * y), 128 + 90 * np.cos(5 * y - 3 * x),
                        128 + 80 * np.sin(4 * (x + y))], axis=-1) + grain
        self._image = np.empty((size, size, 4), dtype=np.uint8)
        self._image[..., :3] = np.clip(rgb, 0, 255).astype(np.uint8)
        self._image[..., 3] = 255
        self.frames = 0

    def render(self, frame: FrameParams) -> np.ndarray:
        self.frames += 1
        return self._image

    def feature_mean(self, block: str, fid: int) -> float:
        return 1.0

    def close(self) -> None:
        pass

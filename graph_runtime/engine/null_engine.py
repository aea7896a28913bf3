"""A null engine: the same image every frame, for measuring the transport.

It implements the engine interface (engine/protocol.py) without torch, so
`serve --model null` starts in a moment and `bench remote` measures codecs
and sockets only. The image is a smooth colour field with some grain, so JPEG
has about the work of a real frame (a flat colour would flatter the codec).

The tests' stand-in engines are NullEngines too: built with options (a render
time, a fixed image, preview or not) or subclassed where a test needs a
picture that says something about the frame.
"""
from __future__ import annotations

import time

import numpy as np

from graph_runtime.graph.frame import FrameParams

from .protocol import EngineBase


class NullEngine(EngineBase):
    model = "null"

    def __init__(self, size: int = 512, image: np.ndarray | None = None, *,
                 render_s: float = 0.0, mean: float = 1.0, preview: bool = False,
                 description: str = "") -> None:
        """image: (size, size, 4) uint8 to serve instead of the built-in colour field;
        render_s: seconds each render waits (time.sleep: the GIL released, as a GPU
        engine waits on its CUDA graph); mean: every feature's mean activation;
        preview: say it is the untrained preview (as the window's stand-ins do)."""
        self.size = size
        self.render_s, self.mean, self.is_preview = render_s, mean, preview
        self.description = description or f"null engine: one constant {size}x{size} image (benchmarks)"
        self.frames = 0
        self._image = (np.ascontiguousarray(image, dtype=np.uint8) if image is not None
                       else colour_field(size))

    def render(self, frame: FrameParams) -> np.ndarray:
        if self.render_s:
            time.sleep(self.render_s)
        self.frames += 1
        return self._image

    def feature_mean(self, block: str, fid: int) -> float:
        return self.mean


def colour_field(size: int) -> np.ndarray:
    """(size, size, 4) uint8 RGBA: smooth colour with grain (seeded: the same every time)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    grain = np.random.default_rng(0).normal(0.0, 6.0, (size, size, 3)).astype(np.float32)
    rgb = np.stack([128 + 100 * np.sin(6 * x + 2 * y), 128 + 90 * np.cos(5 * y - 3 * x),
                    128 + 80 * np.sin(4 * (x + y))], axis=-1) + grain
    image = np.empty((size, size, 4), dtype=np.uint8)
    image[..., :3] = np.clip(rgb, 0, 255).astype(np.uint8)
    image[..., 3] = 255
    return image

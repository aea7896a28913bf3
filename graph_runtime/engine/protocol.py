"""What every engine is: the local Engine (SDXL-Turbo or the preview), the
remote client (RemoteEngine) and NullEngine all satisfy FrameEngine, and the
window, the render loop and `serve` rely on nothing more. No torch here.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from graph_runtime.graph.frame import FrameParams


@runtime_checkable
class FrameEngine(Protocol):
    is_preview: bool  # the untrained preview model: say so wherever its frames are shown
    description: str  # one line: which model, where

    def render(self, frame: FrameParams) -> np.ndarray:
        """The frame's image, (H, W, 4) uint8 RGBA; a buffer the engine reuses
        (copy what you keep). Applies frame.scene when its version changed."""
        ...

    def feature_mean(self, block: str, fid: int) -> float:
        """The SAE feature's mean activation: what a sink's strength is scaled by."""
        ...

    def close(self) -> None:
        ...

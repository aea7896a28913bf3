"""What every engine is. The local Engine (SDXL-Turbo or the preview), the
remote client (RemoteEngine) and NullEngine all satisfy FrameEngine, and the
window, the render loop and `serve` rely on nothing more: they read these
members plainly, never probe for them. No torch here.

    FrameEngine      the whole interface, declared (a typing.Protocol)
    EngineBase       the defaults of its optional members; every engine inherits it,
                     and writes only render and feature_mean (and what it has more)
    PipelinedEngine  FrameEngine + submit/poll/wait: frames in flight (the remote client)
    is_pipelined     the one test for that, decided once when an engine starts
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from types import MappingProxyType
from typing import Any, Callable, Mapping, Protocol, runtime_checkable

import numpy as np

from graph_runtime.graph.frame import N_FEATURES, FrameParams


@runtime_checkable
class FrameEngine(Protocol):
    # -- what the engine is ------------------------------------------------------------
    is_preview: bool   # the untrained preview model: say so wherever its frames are shown
    description: str   # one line: which model, where
    model: str         # the model's name in sidecars and `serve`'s hello ("sdxl-turbo", "null")
    note: str          # a warning worth showing once ("" when none): a fallback, a lost link
    size: int          # the image's side, pixels
    n_features: int    # SAE features per block
    labels: Any        # engine.labels.Labels of the features, or None
    parts: Any         # engine.parts.ModelParts (SAE decoders) of a local engine, or None
    neighbours: Callable[..., Any] | None   # (block, fid, k) -> ranked ids, served remotely
    # -- the link (a remote engine; a local one has none) ---------------------------------
    status: str | None             # None: local; else "connecting", "connected", "...reconnecting"
    timing: Mapping[str, float]    # rtt_ms, render_ms, decode_ms, latency_ms of the link
    ordered: bool                  # every image kept until taken, in order (a render)
    in_flight: int                 # frames it keeps on the wire at once

    def render(self, frame: FrameParams) -> np.ndarray:
        """The frame's image, (H, W, 4) uint8 RGBA; a buffer the engine reuses
        (copy what you keep). Applies frame.scene when its version changed."""
        ...

    def feature_mean(self, block: str, fid: int) -> float:
        """The SAE feature's mean activation: what a sink's strength is scaled by."""
        ...

    def close(self) -> None:
        ...


@runtime_checkable
class PipelinedEngine(FrameEngine, Protocol):
    """An engine that keeps frames in flight (remote/client.py): the window's worker
    submits without waiting and polls for finished images (remote/pipeline.py)."""
    errors: int        # frames that failed so far
    last_error: str    # the latest failure's text

    def submit(self, frame: FrameParams, at: float, *, tag: Any = None,
               wait_s: float = 0.0) -> int | None:
        """The frame's id, or None when the pipe is full or the link is down."""
        ...

    def poll(self) -> Any:
        """The newest finished frame (.rgba .at .tag .render_ms), or None."""
        ...

    def wait(self, timeout: float) -> None:
        """Until an image, room in the pipe, or `timeout` seconds."""
        ...


def is_pipelined(engine: FrameEngine) -> bool:
    """Does it keep frames in flight? Decided once, when the engine starts."""
    return isinstance(engine, PipelinedEngine)


class EngineBase(ABC):
    """The defaults: a local engine with no link, no labels and no SAE parts, that
    renders one frame at a time and holds nothing to close."""

    is_preview: bool = False
    description: str = ""
    note: str = ""
    size: int = 512
    n_features: int = N_FEATURES
    labels: Any = None
    parts: Any = None
    neighbours: Callable[..., Any] | None = None
    status: str | None = None
    timing: Mapping[str, float] = MappingProxyType({})
    ordered: bool = False
    in_flight: int = 1

    @property
    def model(self) -> str:
        return "preview" if self.is_preview else "sdxl-turbo"

    @abstractmethod
    def render(self, frame: FrameParams) -> np.ndarray:
        ...

    @abstractmethod
    def feature_mean(self, block: str, fid: int) -> float:
        ...

    def close(self) -> None:  # noqa: B027 (optional: most engines hold nothing to free)
        """Free what the engine holds (threads, sockets, GPU memory)."""

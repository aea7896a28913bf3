"""The one engine factory: the local Engine (SDXL-Turbo or the preview),
NullEngine (`--model null`: one constant image, for benchmarks) or a
RemoteEngine on `hambajuba serve`; their errors as RenderError. Every one is
a FrameEngine (engine/protocol.py). Torch is imported only through the
engine, and only when one is made."""
from __future__ import annotations

import os
from typing import Callable

from ..engine.protocol import FrameEngine
from .request import RenderError


def create_engine(model: str, size: int, device: str | None = None,
                  cpu_threads: int | None = None) -> FrameEngine:
    """Engine.create (or NullEngine for model "null") with its errors turned into RenderError."""
    if model == "null":
        from ..engine.null_engine import NullEngine

        return NullEngine(size)
    from ..engine.engine import Engine, EngineError  # here: torch loads only for a real model

    try:
        return Engine.create(model=model, device=device, size=size, cpu_threads=cpu_threads)
    except EngineError as e:
        raise RenderError(str(e), code=1) from None


def engine_factory(model: str, size: int) -> Callable[[], FrameEngine]:
    """create_engine, deferred: the window's engine thread calls it (and so
    imports torch there), leaving one core to the window on a CPU."""
    def make() -> FrameEngine:
        return create_engine(model, size, cpu_threads=max(1, (os.cpu_count() or 2) - 1))
    return make


def create_remote_engine(address: str, token: bytes | None = None, *, in_flight: int = 1,
                         codec: str = "raw") -> FrameEngine:
    """A RemoteEngine on `hambajuba serve` at HOST:PORT, errors as RenderError. Raw RGBA
    (lossless, frame-exact) unless codec="jpeg" is asked for; in_flight > 1 keeps that
    many frames on the wire, every one delivered in order. The server's model and size
    are used (its hello says which)."""
    from ..remote.client import RemoteEngine
    from ..remote.connect import RemoteError

    try:
        return RemoteEngine(address, token=token, codec=codec, in_flight=in_flight, hold=False,
                            ordered=True)
    except RemoteError as e:
        raise RenderError(str(e), code=1) from None


def _is_engine_error(e: BaseException) -> bool:
    from ..engine.errors import EngineError  # no torch

    return isinstance(e, EngineError)

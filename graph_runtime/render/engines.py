"""The one engine factory. Every engine the program makes from a model name
or an address comes from create_engine: the local Engine (SDXL-Turbo or the
preview), NullEngine (`--model null`: one constant image, for benchmarks) or
a RemoteEngine on `hambajuba serve`. Every one is a FrameEngine
(engine/protocol.py) and its failures are EngineErrors (engine/errors.py,
no torch), which each boundary says in its own way (a render: RenderError).
Torch is imported only through the local engine, and only when one is made."""
from __future__ import annotations

import os
from typing import Callable

from ..engine.errors import EngineError
from ..engine.protocol import FrameEngine

MODEL_OPTIONS = ("cpu_threads", "compile", "warmup", "models_dir")  # nothing to a null engine


def create_engine(model: str = "auto", size: int = 512, device: str | None = None, *,
                  address: str | None = None, token: bytes | None = None,
                  **options) -> FrameEngine:
    """The engine for `model` at `size` px, or the one `hambajuba serve` runs at
    `address` (HOST:PORT; the server's model and size are used, its hello says which).

    options: for a local model, Engine.create's (cpu_threads, compile, warmup,
    models_dir); for "null", NullEngine's (image, render_s, mean, preview,
    description); for an address, RemoteEngine's (codec, quality, in_flight,
    ordered, hold, frame_timeout_s). Raises EngineError (RemoteError for an address)."""
    if address:
        from ..remote.client import RemoteEngine

        return RemoteEngine(address, token=token, **options)
    if model == "null":
        from ..engine.null_engine import NullEngine

        return NullEngine(size, **{k: v for k, v in options.items() if k not in MODEL_OPTIONS})
    from ..engine.engine import Engine  # here: torch loads only for a real model

    return Engine.create(model=model, device=device, size=size, **options)


def engine_factory(model: str, size: int, *, address: str | None = None,
                   token: bytes | None = None, in_flight: int = 2) -> Callable[[], FrameEngine]:
    """create_engine, deferred: the window's engine thread calls it (and so imports
    torch there), leaving one core to the window on a CPU. A remote engine keeps
    `in_flight` frames on the wire, newest wins (JPEG), and brings the server's
    feature labels for the browser (fetched here, on the engine thread)."""
    def make() -> FrameEngine:
        if not address:
            return create_engine(model, size, cpu_threads=max(1, (os.cpu_count() or 2) - 1))
        engine = create_engine(address=address, token=token, in_flight=in_flight)
        try:
            engine.labels = engine.fetch_labels()
        except EngineError:
            pass   # the browser lists ids
        return engine
    return make

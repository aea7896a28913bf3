"""The image engine: SDXL-Turbo with inline SAE steering as one compiled graph.

    from graph_runtime.render.engines import create_engine   # the one factory
    engine = create_engine("auto")            # sdxl-turbo if downloaded, else the preview
    rgba = engine.render(frame_params)        # (512, 512, 4) uint8

Files, one concept each: errors (EngineError), models (find/load weights),
download (`hambajuba models download|status`), parts (what an engine is built
from), preview (tiny random model), random_sdxl (real size, random weights),
sae (checkpoints), labels (feature labels), steering (SteeredBlock), prompts
(text encoders, SLERP), noise, latent_image (album art), schedule (sigmas),
generate (the one function that is compiled), frame_guard (per-frame
checks), scene (scene changes), engine, bench; protocol (the engine
interface every engine declares: FrameEngine, EngineBase) and null_engine
(NullEngine: no model, for benchmarks and tests). Importing this package does
not import torch until Engine is used.
"""
from __future__ import annotations

from .errors import DOWNLOAD_COMMAND, EngineError

__all__ = ["Engine", "EngineError", "DOWNLOAD_COMMAND"]


def __getattr__(name: str):
    if name == "Engine":
        from .engine import Engine
        return Engine
    raise AttributeError(name)

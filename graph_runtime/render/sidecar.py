"""The render's sidecar: a JSON record of what made the file (hashes,
model, seed, analysis tools, encoder, versions), and the model's one line."""
from __future__ import annotations

import hashlib
import os
import platform
from datetime import datetime, timezone

from .request import RenderRequest, RenderResult


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in ("hambajuba", "torch", "diffusers", "av", "numpy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


PREVIEW_NOTE = ("the untrained preview: a tiny SDXL-shaped model with random weights that "
                "shows the whole dataflow on a CPU (abstract colour fields, not pictures); for "
                "real images get the SDXL-Turbo weights: hambajuba models download")


def describe_model(engine) -> str:
    """One line for the console: which model renders, and what that means."""
    if engine.is_preview:
        return f"model: {engine.model}, {PREVIEW_NOTE}"
    return f"model: {engine.model}" + (f" ({engine.description})" if engine.description else "")


def _analysis_tools(analysis) -> dict:
    """Which separator, beat tracker and pitch trackers made the analysis (its meta)."""
    meta = getattr(analysis, "meta", None) or {}
    tools = {k: meta.get(k) for k in ("separator", "beat_tracker", "pitch_tracker")}
    if meta.get("source") == "synthetic":
        tools["synthetic"] = True  # a hand-made grid, not an analysis of the track
    return tools


def _sidecar(req: RenderRequest, patch, result: RenderResult, sink) -> dict:
    return {
        "format": "hambajuba.render", "version": 1,
        "output": os.path.basename(result.path), "kind": sink.kind,
        "patch": {"path": os.path.abspath(req.patch), "sha256": sha256_file(req.patch),
                  "title": patch.meta.get("title", "")},
        "track": {"path": os.path.abspath(req.track), "sha256": sha256_file(req.track),
                  "stems_dir": os.path.abspath(req.stems_dir) if req.stems_dir else None},
        "model": result.model, "preview": result.preview,
        "seed": patch.engine.get("seed", 0), "noise_seeds": list(result.noise_seeds),
        "image_size": list(result.image_size),
        "prompt": patch.engine.get("prompt", ""),
        "fps": req.fps, "start": result.start, "seconds": result.frames / req.fps,
        "frames": result.frames, "requested_frames": result.requested_frames,
        "interrupted": result.interrupted,
        "analysis": result.analysis_tools,  # "approx" stems are rough: say so where it is kept
        "clipped_strengths": result.clipped,  # per block, over the frames written
        "warnings": list(result.warnings),  # e.g. a scene the engine refused (album art)
        "encoder": ({"video": "libx264 crf 18 veryfast no-mbtree yuv420p", "audio": "aac 192k"}
                    if sink.kind == "mp4" else {"video": "jpeg q92 4:2:0", "audio": "wav pcm16"}),
        **result.character,  # view, canvas, skin, creature, character (sync log)
        "versions": _versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }

"""Phase two on a worker: render frames [a, b) of a control track.

A worker process loads its engine once (cached here by model, size and
device) and renders many chunks with it. The engine keeps no state between
frames but the Scene, which the slice carries, so any chunk can run on any
worker and the frames equal those of one process rendering in order.

A chunk comes back as bytes, so workers need no filesystem shared with the
driver: an H.264 MP4 segment (its own encoder, so it starts on a keyframe,
with the settings every hambajuba video uses) or one JPEG per frame.
"""
from __future__ import annotations

import copy
import io
import os
import time
from dataclasses import dataclass, field

import numpy as np

from graph_runtime.graph.frame import FrameParams
from graph_runtime.media.video import add_h264_stream, fps_fraction, yuv_frame
from graph_runtime.render.loop import guarded_render
from graph_runtime.show.scene_guard import SceneGuard

from .control_track import ControlTrack
from .scene_art import place_arts
from .scene_codec import scene_from_data

JPEG_QUALITY = 92  # the same as JpegDirSink, so frames-dir renders match byte for byte

_ENGINES: dict[tuple, object] = {}  # per worker process: (model, size, device, threads) -> engine


@dataclass(frozen=True)
class EngineSpec:
    model: str
    size: int
    device: str | None = None
    cpu_threads: int | None = None  # torch threads per worker on a CPU (None: torch's default)


@dataclass
class ChunkResult:
    start: int  # local frame index of the first frame
    frames: int
    kind: str  # "mp4" (data: one segment) or "jpeg" (data: one JPEG per frame)
    data: bytes | list[bytes]
    engine_s: float = 0.0
    encode_s: float = 0.0
    pid: int = field(default_factory=os.getpid)
    warnings: list[str] = field(default_factory=list)  # scenes the engine refused, once each


def engine_for(spec: EngineSpec):
    """This process's engine for `spec`, loaded the first time it is asked for."""
    key = (spec.model, spec.size, spec.device, spec.cpu_threads)
    engine = _ENGINES.get(key)
    if engine is None:
        from ..render.engines import create_engine

        engine = create_engine(spec.model, spec.size, spec.device, cpu_threads=spec.cpu_threads)
        _ENGINES[key] = engine
    return engine


def engine_info(spec: EngineSpec) -> dict:
    """What the driver needs to compile the patch: the SAE means and names."""
    from graph_runtime.graph.frame import BLOCKS

    engine = engine_for(spec)
    n = int(engine.n_features)
    means = np.array([[engine.feature_mean(b, f) for f in range(n)] for b in BLOCKS],
                     dtype=np.float64)
    return {"means": means, "blocks": list(BLOCKS), "description": engine.description,
            "is_preview": bool(engine.is_preview), "model": spec.model}


def render_chunk(spec: EngineSpec, track: ControlTrack, start: int, kind: str,
                 arts: dict | None = None) -> ChunkResult:
    """Render every frame of `track` (a slice starting at local frame `start`).

    Through the same scene guard as a one-process render: a scene the engine
    refuses (unreadable album art, a feature id it lacks) renders the last good
    one, or the plain noise destination, and is reported in `warnings`.
    arts: album-art bytes by the path the scenes name (scene_art.py)."""
    engine = engine_for(spec)
    scenes = [scene_from_data(d) for d in place_arts(track.scenes, arts)]
    frame = FrameParams()
    view = copy.copy(frame)
    guard = SceneGuard(str)
    encoder = _SegmentEncoder(track.fps) if kind == "mp4" else _JpegEncoder()
    result = ChunkResult(start, track.frames, kind, b"")
    k = 0
    for i in range(track.frames):
        while k + 1 < len(scenes) and track.scene_frames[k + 1] <= i:
            k += 1
        frame.scene = scenes[k]
        np.copyto(frame.vec, track.vecs[i])
        t0 = time.perf_counter()
        rgba = guarded_render(engine, frame, view, guard, lambda line: _once(result, line))
        t1 = time.perf_counter()
        encoder.add(rgba)
        result.engine_s += t1 - t0
        result.encode_s += time.perf_counter() - t1
    result.data = encoder.finish()
    return result


def _once(result: ChunkResult, line: str) -> None:
    if line not in result.warnings:
        result.warnings.append(line)


class _SegmentEncoder:
    """Frames -> one in-memory MP4 (H.264, video only), starting on a keyframe."""

    def __init__(self, fps: float) -> None:
        self.rate = fps_fraction(fps)
        self.buf = io.BytesIO()
        self.container = None
        self.stream = None
        self.n = 0

    def add(self, rgba: np.ndarray) -> None:
        import av

        h, w = rgba.shape[0] - rgba.shape[0] % 2, rgba.shape[1] - rgba.shape[1] % 2
        if self.container is None:
            self.container = av.open(self.buf, "w", format="mp4")
            self.stream = add_h264_stream(self.container, w, h, self.rate)
        frame = yuv_frame(rgba, w, h)
        frame.pts = self.n
        self.container.mux(self.stream.encode(frame))
        self.n += 1

    def finish(self) -> bytes:
        self.container.mux(self.stream.encode(None))
        self.container.close()
        return self.buf.getvalue()


class _JpegEncoder:
    def __init__(self) -> None:
        from turbojpeg import TJPF_RGBA, TJSAMP_420, TurboJPEG

        self.jpeg, self.fmt, self.samp = TurboJPEG(), TJPF_RGBA, TJSAMP_420
        self.frames: list[bytes] = []

    def add(self, rgba: np.ndarray) -> None:
        self.frames.append(self.jpeg.encode(np.ascontiguousarray(rgba), quality=JPEG_QUALITY,
                                            pixel_format=self.fmt, jpeg_subsample=self.samp))

    def finish(self) -> list[bytes]:
        return self.frames

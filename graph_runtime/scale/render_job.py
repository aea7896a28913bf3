"""One track's distributed render, seen from the driver.

    job = RenderJob.plan(req, registry, analysis, info)   # phase one: the control track
    for a, b in job.chunks(chunk_frames): ...             # phase two runs these anywhere
    job.take(result)                                      # each chunk as it comes back
    job.finish()                                          # join, mux audio, sidecar, rename

Output goes through the same sinks as a one-process render (Mp4Sink,
JpegDirSink): built under a temporary name beside the destination, renamed
into place only when complete, removed by abort().
"""
from __future__ import annotations

import io
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from graph_runtime.graph.compiler import CompileError, compile_patch
from graph_runtime.media.video import JpegDirSink, Mp4Sink, SinkError, open_segment
from graph_runtime.render.request import (
    RenderError,
    RenderRequest,
    RenderResult,
    _check_request,
    _load_patch,
    load_span,
)
from graph_runtime.render.sidecar import _sidecar

from .chunk_render import ChunkResult, EngineSpec
from .control_track import ControlTrack, record


@dataclass
class RenderJob:
    req: RenderRequest
    patch: Any
    spec: EngineSpec
    info: dict
    track: ControlTrack
    first: int
    control_s: float = 0.0  # seconds phase one took (the patch over every frame)
    result: RenderResult | None = None
    analysis_tools: dict = field(default_factory=dict)  # as a one-process sidecar has them
    arts: dict = field(default_factory=dict)  # album art the scenes name: path -> bytes | reason
    warnings: list[str] = field(default_factory=list)  # from the chunks (refused scenes), once each
    warn: Any = None  # says a new warning as it arrives (even under -q)
    _segments: dict[int, bytes] = field(default_factory=dict)
    _jpeg: JpegDirSink | None = None
    _done_frames: int = 0

    @property
    def kind(self) -> str:
        return "jpeg" if self.req.frames_dir else "mp4"

    @property
    def frames(self) -> int:
        return self.track.frames

    # -- phase one -------------------------------------------------------------------
    @classmethod
    def plan(cls, req: RenderRequest, registry, analysis, spec: EngineSpec, info: dict,
             say=print, *, check_output: bool = True) -> "RenderJob":
        """Check the request, compile the patch with the workers' SAE means and
        record the control track (raises RenderError, like render())."""
        if check_output:
            _check_request(req)
        patch, first, count = load_span(req, registry, say)
        means = info["means"]
        blocks = info["blocks"]
        try:
            plan = compile_patch(patch, registry, analysis=analysis, fps=req.fps,
                                 feature_mean=lambda b, f: float(means[blocks.index(b)][int(f)]),
                                 base_dir=os.path.dirname(os.path.abspath(req.patch)))
        except CompileError as e:
            raise RenderError([f"{req.patch}: {p}" for p in e.problems]) from None
        t0 = time.perf_counter()
        track = record(plan, first=first, count=count, fps=req.fps)
        control_s = time.perf_counter() - t0
        track.meta.update(patch=os.path.abspath(req.patch), track=os.path.abspath(req.track),
                          model=spec.model, size=spec.size)
        from graph_runtime.render.loop import _analysis_tools

        from .scene_art import read_arts

        return cls(req, patch, spec, info, track, first, control_s,
                   analysis_tools=_analysis_tools(analysis), arts=read_arts(track.scenes))

    def chunks(self, chunk_frames: int) -> list[tuple[int, int]]:
        n = self.track.frames
        step = max(1, int(chunk_frames))
        return [(a, min(a + step, n)) for a in range(0, n, step)]

    # -- phase two's results ---------------------------------------------------------------
    def take(self, chunk: ChunkResult) -> None:
        for line in getattr(chunk, "warnings", ()):
            if line not in self.warnings:
                self.warnings.append(line)
                if self.warn is not None:
                    self.warn(line)
        if chunk.kind == "jpeg":
            sink = self._jpeg_sink()
            for j, data in enumerate(chunk.data):
                sink.add_encoded(chunk.start + j, data)
        else:
            self._segments[chunk.start] = chunk.data
        self._done_frames += chunk.frames

    def _jpeg_sink(self) -> JpegDirSink:
        if self._jpeg is None:
            audio = open_segment(self.req.track, self.first / self.req.fps,
                                 self.frames / self.req.fps)
            try:
                self._jpeg = JpegDirSink(self.req.frames_dir, fps=self.req.fps, audio=audio,
                                         overwrite=self.req.overwrite)
            except OSError as e:
                audio.close()
                raise RenderError(f"cannot create {self.req.frames_dir} ({e.strerror}); "
                                  "check the folder", code=1) from None
        return self._jpeg

    def finish(self) -> RenderResult:
        """All chunks are in: write the output and its sidecar, rename into place."""
        req = self.req
        result = RenderResult(path=os.path.abspath(req.frames_dir or req.out), sidecar="",
                              frames=self.frames, requested_frames=self.frames, fps=req.fps,
                              start=self.first / req.fps, model=self.info.get("model", ""),
                              preview=bool(self.info.get("is_preview")), interrupted=False,
                              image_size=(self.spec.size, self.spec.size))
        result.analysis_tools, result.warnings = self.analysis_tools, list(self.warnings)
        scene = self.track.scenes[-1]
        result.noise_seeds = (int(scene["seed_a"]), int(scene["seed_b"]))
        if self.kind == "jpeg":
            sink = self._jpeg_sink()
            result.sidecar = os.path.join(result.path, "render.json")
        else:
            sink = self._join_segments()
            result.sidecar = os.path.splitext(result.path)[0] + ".json"
        meta = _sidecar(req, self.patch, result, sink)
        meta["distributed"] = {"engine": "ray", "chunks": len(self._segments) or None,
                               "control_phase_s": round(self.control_s, 3)}
        text = json.dumps(meta, indent=2, sort_keys=True) + "\n"
        try:
            sink.finish(self.frames, (result.sidecar, text))
        except SinkError as e:
            raise RenderError(str(e), code=1) from None
        finally:
            if getattr(sink, "audio", None) is not None:
                sink.audio.close()
        self.result = result
        return result

    def _join_segments(self) -> Mp4Sink:
        """Copy every segment's H.264 packets, in order, into one MP4 (no
        re-encoding: each segment starts on a keyframe) and mux the audio."""
        import av

        starts = sorted(self._segments)
        first = av.open(io.BytesIO(self._segments[starts[0]]))
        template = first.streams.video[0]
        audio = open_segment(self.req.track, self.first / self.req.fps, self.frames / self.req.fps)
        try:
            sink = Mp4Sink(self.req.out, width=template.codec_context.width,
                           height=template.codec_context.height, fps=self.req.fps, audio=audio,
                           video_from=template)
        except OSError as e:
            audio.close()
            raise RenderError(f"cannot create the output beside {self.req.out} ({e.strerror}); "
                              "check the folder", code=1) from None
        first.close()
        try:
            for start in starts:
                _copy_segment(self._segments[start], start, sink)
        except BaseException:
            sink.abort()
            audio.close()
            raise
        return sink

    def abort(self) -> None:
        """Ctrl-C or a failed chunk: leave nothing behind."""
        if self._jpeg is not None:
            self._jpeg.abort()
            if self._jpeg.audio is not None:
                self._jpeg.audio.close()
        self._segments.clear()


def _copy_segment(data: bytes, start: int, sink: Mp4Sink) -> None:
    """Packets of one segment, shifted to start at track frame `start`."""
    import av

    with av.open(io.BytesIO(data)) as seg:
        stream = seg.streams.video[0]
        ticks = 1 / (sink.rate * stream.time_base)  # stream ticks per frame
        if ticks.denominator != 1:
            raise RenderError("a chunk's time base does not hold whole frames; "
                              "render without --ray", code=1)
        shift = start * int(ticks)
        for packet in seg.demux(stream):
            if packet.dts is None:  # the demuxer's end-of-stream marker
                continue
            packet.pts += shift
            packet.dts += shift
            end = start + int(packet.pts - shift) // int(ticks) + 1
            sink.add_packet(packet, end)


def write_controls(req: RenderRequest, registry, out: str, *, analysis=None,
                   say=print) -> ControlTrack:
    """`render --controls-only`: phase one alone, on this machine, into `out` (.npz).
    The engine is loaded here only for its SAE means (what the sinks scale by)."""
    from graph_runtime.render.request import _analyse

    from .chunk_render import engine_info

    if not out.lower().endswith(".npz"):
        raise RenderError(f"--out {out}: a control track is an .npz file; give OUT.npz")
    if os.path.exists(out) and not req.overwrite:
        raise RenderError(f"--out {out}: exists; pass --overwrite to replace it")
    if not os.path.isfile(req.track):
        raise RenderError(f"{req.track}: no such file; give an audio file (wav, flac, mp3, ogg)")
    patch = _load_patch(req.patch, registry)
    model = req.model or str(patch.engine.get("model", "auto"))
    spec = EngineSpec(model, int(patch.engine.get("size", 512)), req.device, req.cpu_threads)
    if analysis is None:
        analysis = _analyse(req, say)
    job = RenderJob.plan(req, registry, analysis, spec, engine_info(spec), say, check_output=False)
    try:
        job.track.save(out)
    except OSError as e:
        raise RenderError(f"--out {out}: cannot write ({e.strerror}); check the folder", code=1) \
            from None
    return job.track

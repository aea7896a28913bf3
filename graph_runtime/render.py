"""Headless render: a patch + a track -> an MP4 (or a folder of JPEGs).

The same Plan and engine as the live window, clocked by frame index instead of
the audio clock: frame g of the track shows t = g / fps, so the same patch,
track, model and seed give the same frames, whatever the machine's speed.
A render from --start S pre-rolls the plan (no engine) from 0 to S, so its
frames equal the same frames of a render from the top.

Per frame the main thread runs the plan and the engine; the engine's image
(a reused buffer) is copied into one of a few ring buffers and encoded on a
worker thread while the engine makes the next frame:

    main:    plan(N) -> engine(N) -> copy ->  plan(N+1) -> engine(N+1) -> copy
    worker:                     encode+mux(N) ...........  encode+mux(N+1)

Output is written under a temporary name in the destination folder and
renamed into place only when complete; Ctrl-C finalises the frames made so
far as a valid shorter video (or removes everything when there are none).

Receives the node registry; never imports hambajuba_nodes or dearpygui.
Torch is imported only through the engine.
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import platform
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import numpy as np

from .compiler import CompileError, check, compile_patch
from .frame_params import BLOCKS, STRENGTH_BOUND
from .patch import PatchError, load
from .scene_guard import SceneGuard
from .video import (AudioSegment, JpegDirSink, Mp4Sink, SinkError, check_writable_folder,
                    frames_dir_is_ours, open_segment, track_duration)

FPS_MIN, FPS_MAX = 1.0, 240.0
RING_DEPTH = 3  # frames in flight between engine and encoder (copies of the engine's buffer)


class RenderError(Exception):
    """Bad input or a failed render. `problems`: one line each, saying what to
    do next. `code`: 2 for bad input, 1 for anything else (the CLI's codes)."""

    def __init__(self, problems: list[str] | str, code: int = 2) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.code = code
        super().__init__("; ".join(self.problems))


class RenderInterrupted(RenderError):
    """Ctrl-C with nothing worth keeping (no frame yet, or a second Ctrl-C
    while finishing): nothing was written."""

    def __init__(self, message: str = "interrupted before the first frame; nothing was written"
                 ) -> None:
        super().__init__(message, code=130)


@dataclass
class RenderRequest:
    track: str
    patch: str  # path of the .patch file
    out: str | None = None  # the .mp4; or
    frames_dir: str | None = None  # a folder for JPEG frames instead
    model: str | None = None  # "auto" | "preview" | "sdxl-turbo"; None: what the patch says
    fps: float = 30.0
    start: float = 0.0  # seconds into the track
    seconds: float | None = None  # None: to the end of the track
    overwrite: bool = False
    stems_dir: str | None = None  # true stems: analysis skips separation
    device: str | None = None
    cpu_threads: int | None = None  # torch threads for an engine on the CPU (None: torch's choice)
    engine_address: str | None = None  # HOST:PORT of `hambajuba serve`: render there
    engine_token: bytes | None = None  # its shared secret (--token-file), if it asks for one
    engine_in_flight: int = 1  # frames on the wire at once (--in-flight): hides the round trip
    engine_codec: str = "raw"  # raw: lossless, frame-exact (default); jpeg: opt-in, smaller


@dataclass
class RenderResult:
    path: str
    sidecar: str
    frames: int  # frames written
    requested_frames: int
    fps: float
    start: float  # seconds, on the frame grid
    model: str
    preview: bool
    interrupted: bool
    image_size: tuple[int, int] = (0, 0)  # (width, height) of the engine's frames
    noise_seeds: tuple[int, int] = (0, 1)  # the scene's seed_a, seed_b (set by the noise walk)
    stats: dict = field(default_factory=dict)
    clipped: dict = field(default_factory=dict)  # block -> strengths clipped at the bound
    analysis_tools: dict = field(default_factory=dict)  # separator, beat and pitch trackers used
    warnings: list = field(default_factory=list)  # lines for the user (refused scenes), in the sidecar

    @property
    def seconds(self) -> float:
        return self.frames / self.fps


@dataclass
class StageClock:
    """Busy seconds per stage of the render loop."""

    plan: float = 0.0
    engine: float = 0.0
    handoff: float = 0.0  # copy into a ring buffer, incl. waiting for a free one
    first_engine: float = 0.0  # the engine's first frame (compilation, caches)
    loop_start: float = 0.0
    first_done: float = 0.0
    loop_end: float = 0.0


# -- checking the request (cheap things first) ----------------------------------------

def _check_numbers(req: RenderRequest) -> list[str]:
    bad = []
    if not (isinstance(req.fps, (int, float)) and math.isfinite(req.fps)
            and FPS_MIN <= req.fps <= FPS_MAX):
        bad.append(f"--fps {req.fps:g} is out of range; use {FPS_MIN:g}..{FPS_MAX:g} "
                   "(30, 50 or 60 are usual)")
    if not (math.isfinite(req.start) and req.start >= 0):
        bad.append(f"--start {req.start:g} must be a number of seconds >= 0")
    if req.seconds is not None and not (math.isfinite(req.seconds) and req.seconds > 0):
        bad.append(f"--seconds {req.seconds:g} must be > 0 (or left out to render to the end)")
    return bad


def _check_output(req: RenderRequest) -> list[str]:
    if (req.out is None) == (req.frames_dir is None):
        return ["give exactly one of --out OUT.mp4 or --frames-dir DIR"]
    target = os.path.abspath(req.frames_dir if req.frames_dir else req.out)
    what = "--frames-dir" if req.frames_dir else "--out"
    if req.out is not None and not req.out.lower().endswith(".mp4"):
        return [f"--out {req.out}: must end in .mp4 (the render writes H.264 + AAC in MP4)"]
    try:
        check_writable_folder(os.path.dirname(target), f"{what} {target}")
    except SinkError as e:
        return [str(e)]
    if req.frames_dir:
        if os.path.exists(target) and not os.path.isdir(target):
            return [f"--frames-dir {target}: is a file; choose a folder"]
        if os.path.isdir(target) and os.listdir(target):
            if not req.overwrite:
                return [f"--frames-dir {target}: exists and is not empty; choose a new folder "
                        "or pass --overwrite"]
            if not frames_dir_is_ours(target):
                return [f"--frames-dir {target}: holds files a render did not write; "
                        "choose a new or empty folder (--overwrite only replaces frames)"]
        return []
    if os.path.isdir(target):
        return [f"--out {target}: is a folder; give a file name ending in .mp4"]
    if os.path.exists(target) and not req.overwrite:
        return [f"--out {target}: exists; pass --overwrite to replace it or choose another name"]
    return []


def _load_patch(path: str, registry) -> Any:
    if not os.path.isfile(path):
        raise RenderError(f"--patch {path}: no such file; give a .patch file "
                          "(patches/default.patch is the shipped one)")
    try:
        patch = load(path)
    except PatchError as e:
        raise RenderError([p if p.startswith(path) else f"{path}: {p}"
                           for p in e.problems]) from None
    errors = check(patch, registry).errors
    if errors:
        raise RenderError([f"{path}: {p}" for p in errors]
                          + [f"{path}: fix the patch (hambajuba patch validate {path})"])
    return patch


def load_span(req: RenderRequest, registry, say: Callable[[str], None] = print):
    """(patch, first frame on the track's grid, frame count): the checked
    patch and the span of frames a render of `req` makes."""
    patch = _load_patch(req.patch, registry)
    try:
        duration = track_duration(req.track)
    except SinkError as e:
        raise RenderError(str(e)) from None
    first, count, notes = _frame_span(req, duration)
    for n in notes:
        say(n)
    return patch, first, count


def _frame_span(req: RenderRequest, duration: float) -> tuple[int, int, list[str]]:
    """(first frame index on the track's grid, frame count, notes)."""
    notes = []
    if req.start >= duration:
        raise RenderError(f"--start {req.start:g} is past the end of {req.track} "
                          f"({duration:.2f} s); give a start below {duration:.2f}")
    first = int(math.floor(req.start * req.fps + 1e-6))
    left = duration - first / req.fps
    seconds = left if req.seconds is None else req.seconds
    if seconds > left + 1e-6:
        notes.append(f"--seconds {req.seconds:g} runs past the end of the track: "
                     f"rendering {left:.2f} s to the end")
        seconds = left
    count = max(1, int(round(seconds * req.fps)))
    return first, count, notes


# -- hashing and provenance ---------------------------------------------------------------

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


def engine_model_name(engine) -> str:
    kind = getattr(getattr(engine, "parts", None), "kind", None)
    if isinstance(kind, str):
        return kind
    for attr in ("model_name", "model"):
        v = getattr(engine, attr, None)
        if isinstance(v, str):
            return v
    return "preview" if getattr(engine, "is_preview", False) else "sdxl-turbo"


PREVIEW_NOTE = ("the untrained preview: a tiny SDXL-shaped model with random weights that "
                "shows the whole dataflow on a CPU (abstract colour fields, not pictures); for "
                "real images get the SDXL-Turbo weights: hambajuba models download")


def describe_model(engine) -> str:
    """One line for the console: which model renders, and what that means."""
    name = engine_model_name(engine)
    if getattr(engine, "is_preview", False):
        return f"model: {name}, {PREVIEW_NOTE}"
    return f"model: {name}" + (f" ({engine.description})"
                               if isinstance(getattr(engine, "description", None), str) else "")


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
        "versions": _versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


# -- the encoder worker ----------------------------------------------------------------------

class EncodeWorker:
    """Encodes frames on a thread while the engine makes the next ones.

    A ring of RING_DEPTH preallocated buffers: `submit` copies the engine's
    image into a free one (waiting when the encoder is behind, which bounds
    memory and keeps order) and hands it over."""

    def __init__(self, sink, shape: tuple[int, ...], depth: int = RING_DEPTH) -> None:
        self.sink = sink
        self.free: queue.Queue = queue.Queue()
        self.todo: queue.Queue = queue.Queue()
        for _ in range(depth):
            self.free.put(np.empty(shape, dtype=np.uint8))
        self.error: BaseException | None = None
        self.cancelled = False
        self.thread = threading.Thread(target=self._loop, name="hambajuba-encode", daemon=True)
        self.thread.start()

    def submit(self, rgba: np.ndarray) -> None:
        if self.error is not None:
            raise self.error
        buf = self.free.get()
        np.copyto(buf, rgba)
        self.todo.put(buf)

    def _loop(self) -> None:
        while True:
            buf = self.todo.get()
            if buf is None:
                return
            if self.error is None and not self.cancelled:
                try:
                    self.sink.add(buf)
                except BaseException as e:  # reported on the main thread
                    self.error = e
            self.free.put(buf)

    def cancel(self) -> None:
        """Skip what is queued, finish the frame in hand (ms), stop the thread:
        after this nothing touches the sink, so it can be aborted safely."""
        self.cancelled = True
        self.todo.put(None)
        self.thread.join()

    def drain(self) -> None:
        """Encode everything submitted, stop the thread, raise its error."""
        self.todo.put(None)
        while self.thread.is_alive():
            self.thread.join(timeout=0.1)
        if self.error is not None:
            raise self.error


# -- the render ---------------------------------------------------------------------------------

def _analyse(req: RenderRequest, say) -> Any:
    try:
        from .analysis.pipeline import analyze
    except ModuleNotFoundError as e:
        raise RenderError(f"the analysis is not in this checkout ({e.name}); "
                          "install the full project", code=1) from None
    from .analysis.errors import AnalysisError

    say(f"analysing {req.track} (cached after the first time)")

    def progress(stage: str, done: int, total: int) -> None:
        if done == 0:
            say(f"  analysis: {stage}")

    try:
        return analyze(req.track, stems_dir=req.stems_dir, progress=progress)
    except AnalysisError as e:
        raise RenderError(str(e)) from None


def create_engine(model: str, size: int, device: str | None = None,
                  cpu_threads: int | None = None):
    """Engine.create with its errors turned into RenderError."""
    try:
        from .engine.engine import Engine, EngineError
    except ModuleNotFoundError as e:
        raise RenderError(f"the engine is not in this checkout ({e.name}); "
                          "install the full project", code=1) from None
    try:
        return Engine.create(model=model, device=device, size=size, cpu_threads=cpu_threads)
    except EngineError as e:
        raise RenderError(str(e), code=1) from None


def create_remote_engine(address: str, token: bytes | None = None, *, in_flight: int = 1,
                         codec: str = "raw"):
    """A RemoteEngine on `hambajuba serve` at HOST:PORT, errors as RenderError. Raw RGBA
    (lossless, frame-exact) unless codec="jpeg" is asked for; in_flight > 1 keeps that
    many frames on the wire, every one delivered in order. The server's model and size
    are used (its hello says which)."""
    from .remote.client import RemoteEngine
    from .remote.connect import RemoteError

    try:
        return RemoteEngine(address, token=token, codec=codec, in_flight=in_flight, hold=False,
                            ordered=True)
    except RemoteError as e:
        raise RenderError(str(e), code=1) from None


def _check_request(req: RenderRequest) -> None:
    """Everything that needs no patch, analysis or engine; raises RenderError."""
    problems = _check_numbers(req)
    if not os.path.isfile(req.track):
        problems.append(f"{req.track}: no such file; give an audio file (wav, flac, mp3, ogg)")
    problems += _check_output(req)
    if req.stems_dir and not os.path.isdir(req.stems_dir):
        problems.append(f"--stems {req.stems_dir}: no such folder; give the folder of "
                        "drums/bass/vocals/other files or leave --stems out")
    if problems:
        raise RenderError(problems)


def _timed(setup: dict, name: str, make: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    value = make()
    setup[name] = time.perf_counter() - t0
    return value


def render(req: RenderRequest, registry, *, engine=None, analysis=None, progress: bool = True,
           on_frame: Callable[[int, int], None] | None = None,
           on_image: Callable[[int, np.ndarray], None] | None = None,
           say: Callable[[str], None] = print,
           warn: Callable[[str], None] | None = None) -> RenderResult:
    """Render `req`; raise RenderError (bad input, failure) or RenderInterrupted.

    `say` gets progress and notes (a quiet CLI drops them); `warn` (default: say)
    gets what the user must see even then, e.g. a scene the engine refused; the
    warnings also go into the sidecar.
    `engine`, `analysis`: already made ones (the demo, tests, the bench);
    otherwise they are created here. `on_image(i, rgba)` sees frame i's image
    (the engine's reused buffer: copy what you keep); `on_frame(i, n)` runs
    after frame i is handed to the encoder."""
    _check_request(req)
    patch, first, count = load_span(req, registry, say)
    setup: dict[str, float] = {}
    if analysis is None:
        analysis = _timed(setup, "analysis", lambda: _analyse(req, say))
    own_engine = engine is None
    if own_engine:
        size = int(patch.engine.get("size", 512))
        model = req.model or str(patch.engine.get("model", "auto"))
        engine = _timed(setup, "engine_load", lambda: (
            create_remote_engine(req.engine_address, req.engine_token,
                                 in_flight=req.engine_in_flight, codec=req.engine_codec)
            if req.engine_address
            else create_engine(model, size, req.device, req.cpu_threads)))
    try:
        say(describe_model(engine))  # (why "auto" fell back to the preview: the engine logs it)
        plan = _timed(setup, "compile", lambda: _compile(req, patch, registry, analysis, engine))
        for w in plan.warnings:
            say(f"{req.patch}: {w}")
        dt = 1.0 / req.fps
        t0 = time.perf_counter()
        for g in range(first):  # pre-roll: the plan's state as if played from the top
            plan.run(g * dt, dt)
        setup["preroll"] = time.perf_counter() - t0
        result = RenderResult(path=os.path.abspath(req.frames_dir or req.out), sidecar="",
                              frames=0, requested_frames=count, fps=req.fps, start=first * dt,
                              model=engine_model_name(engine),
                              preview=bool(getattr(engine, "is_preview", False)),
                              interrupted=False)
        result.analysis_tools = _analysis_tools(analysis)
        audio = open_segment(req.track, first * dt, count * dt)
        try:
            _run_loop(req, patch, plan, engine, audio, first, count, result, setup, progress,
                      on_frame, on_image, say, warner(result, warn or say))
        finally:
            audio.close()
    finally:
        if own_engine and hasattr(engine, "close"):
            engine.close()
    return result


def _compile(req: RenderRequest, patch, registry, analysis, engine):
    try:
        return compile_patch(patch, registry, analysis=analysis,
                             feature_mean=getattr(engine, "feature_mean", None), fps=req.fps,
                             base_dir=os.path.dirname(os.path.abspath(req.patch))
                             if isinstance(req.patch, str) else None)  # album art beside the patch
    except CompileError as e:
        raise RenderError([f"{req.patch}: {p}" for p in e.problems]) from None


def _make_sink(req: RenderRequest, shape, audio: AudioSegment):
    try:
        if req.frames_dir:
            return JpegDirSink(req.frames_dir, fps=req.fps, audio=audio, overwrite=req.overwrite)
        return Mp4Sink(req.out, width=shape[1], height=shape[0], fps=req.fps, audio=audio)
    except OSError as e:
        raise RenderError(f"cannot create the output beside {req.frames_dir or req.out} "
                          f"({e.strerror}); check the folder", code=1) from None


def warner(result: RenderResult, out: Callable[[str], None]) -> Callable[[str], None]:
    """A warning: said once (even under -q, by the caller's `out`) and kept for the sidecar."""
    def warn(line: str) -> None:
        if line not in result.warnings:
            result.warnings.append(line)
            out(line)
    return warn


def _run_loop(req, patch, plan, engine, audio, first, count, result, setup, progress,
              on_frame, on_image, say, warn) -> None:
    from tqdm import tqdm

    clock = time.perf_counter
    st = StageClock()
    sink = worker = None
    dt = 1.0 / req.fps
    bar = tqdm(total=count, unit="frame", disable=not progress, dynamic_ncols=True,
               smoothing=0.1, desc="render", leave=True)
    st.loop_start = clock()
    clipped_before = list(plan.frame.clipped)  # the pre-roll's clips are not this render's
    guard, view = SceneGuard(str), copy.copy(plan.frame)  # a refused Scene: the last good one
    try:
        try:
            for i, rgba, b, c in _images(plan, engine, first, count, dt, view, guard, warn, st):
                if worker is None:  # the first frame tells the image size
                    sink = _make_sink(req, rgba.shape, audio)
                    worker = EncodeWorker(sink, rgba.shape)
                    st.first_engine = c - b
                    result.image_size = (int(rgba.shape[1]), int(rgba.shape[0]))
                    setup["open_output"] = clock() - c
                    c = st.first_done = clock()
                worker.submit(rgba)
                d = clock()
                if on_image is not None:
                    on_image(i, rgba)
                st.handoff += d - c
                result.frames = i + 1  # handed over (sink.frames: encoded)
                bar.update(1)
                if on_frame is not None:
                    on_frame(i, count)
        except KeyboardInterrupt:
            result.interrupted = True
        finally:
            bar.close()
        if worker is None:
            raise RenderInterrupted() if result.interrupted else RenderError("nothing rendered", 1)
        worker.drain()
        result.frames = sink.frames
        if result.frames == 0:
            sink.abort()
            raise RenderInterrupted()
        scene = plan.frame.scene
        result.noise_seeds = (int(scene.seed_a), int(scene.seed_b))
        result.clipped = _clip_counts(plan.frame.clipped, clipped_before, say)
        text = json.dumps(_sidecar(req, patch, result, sink), indent=2, sort_keys=True) + "\n"
        if sink.kind == "mp4":
            result.sidecar = os.path.splitext(result.path)[0] + ".json"
        else:
            result.sidecar = os.path.join(result.path, "render.json")
        sink.finish(result.frames, (result.sidecar, text))
    except BaseException as e:
        if sink is not None:
            if worker is not None and worker.thread.is_alive():
                worker.cancel()
            sink.abort()
        if isinstance(e, SinkError):
            raise RenderError(str(e), code=1) from None
        if _is_engine_error(e):
            raise RenderError(f"engine failed at frame {result.frames} "
                              f"(t = {(first + result.frames) * dt:.2f} s): {e}; nothing was "
                              "written", code=1) from None
        if isinstance(e, KeyboardInterrupt):
            raise RenderInterrupted("interrupted while finishing; the partial file was removed, "
                                    "nothing was written") from None
        raise
    st.loop_end = clock()
    result.stats = _stats(st, sink, result.frames, setup)
    if result.interrupted:
        say(f"interrupted: kept the first {result.seconds:.2f} s ({result.frames} of "
            f"{count} frames) as a complete, shorter file")


def _images(plan, engine, first: int, count: int, dt: float, view, guard, warn, st):
    """(i, rgba, t_plan_done, t_image) per frame, in order. With a remote engine keeping
    frames in flight (`render --engine --in-flight N`) the plan runs up to N frames ahead
    of the images (remote/render_ahead.py); otherwise one frame at a time."""
    clock = time.perf_counter
    ahead = None
    if getattr(engine, "ordered", False) and getattr(engine, "in_flight", 1) > 1:
        from .remote.render_ahead import RenderAhead

        ahead = RenderAhead(engine, guard, warn)
    done = 0
    for i in range(count):
        a = clock()
        frame = plan.run((first + i) * dt, dt)
        b = clock()
        st.plan += b - a
        if ahead is None:
            rgba = guarded_render(engine, frame, view, guard, warn)
            c = clock()
            st.engine += c - b
            yield i, rgba, b, c
            continue
        ahead.push(frame)
        while ahead.full or (i == count - 1 and len(ahead)):
            rgba = ahead.pop()
            c = clock()
            st.engine += c - b
            yield done, rgba, b, c
            done += 1
            b = clock()


def _clip_counts(now: list[int], before: list[int], say) -> dict:
    """block -> scaled strengths clipped at STRENGTH_BOUND during the render; said if any."""
    counts = {block: int(n - b) for block, n, b in zip(BLOCKS, now, before)}
    if any(counts.values()):
        say("strength clipped at the bound (+-%g): %s" % (STRENGTH_BOUND, ", ".join(
            f"{block} {n}x" for block, n in counts.items() if n)))
    return counts


def guarded_render(engine, frame, view, guard: SceneGuard, say):
    """engine.render(frame), except that a Scene the engine refuses (an
    unreadable album image, a feature id it lacks) is said once and the last
    good one (or the plain noise destination) is rendered instead of
    aborting; `view` shares the plan's vector, so the plan's FrameParams
    itself is never changed."""
    view.scene = guard.scene_for(frame.scene)
    try:
        rgba = engine.render(view)
    except Exception as e:
        rgba = guard.failed(view.scene, lambda s: _render_scene(engine, view, s), e) \
            if _is_engine_error(e) else None
        if rgba is None:
            raise
        say(f"warning: engine refused the scene ({guard.refusal}); rendering the last good "
            "one (or plain noise) instead")
        return rgba
    guard.accepted(view.scene)
    return rgba


def _render_scene(engine, view, scene):
    view.scene = scene
    return engine.render(view)


def _is_engine_error(e: BaseException) -> bool:
    try:
        from .engine.errors import EngineError  # no torch
    except ImportError:
        return False
    return isinstance(e, EngineError)


def _stats(st: StageClock, sink, frames: int, setup: dict) -> dict:
    """Busy seconds per stage and their share of the loop's wall time, over the
    steady state (after the first frame, whose engine call compiles/warms)."""
    wall = st.loop_end - st.loop_start
    steady_wall = max(st.loop_end - st.first_done, 1e-9)
    busy = {"plan": st.plan, "engine": st.engine - st.first_engine, "handoff": st.handoff,
            "encode": sink.times.encode, "mux": sink.times.mux}
    share = {k: v / steady_wall for k, v in busy.items()}
    return {
        "frames": frames, "wall_s": wall, "fps": frames / wall if wall > 0 else 0.0,
        "steady_fps": (frames - 1) / steady_wall if frames > 1 else 0.0,
        "first_frame_engine_s": st.first_engine,
        "busy_s": busy, "share": share,
        # what the render costs beyond the engine, on the critical path
        "overhead_share": max(0.0, 1.0 - busy["engine"] / steady_wall) if frames > 1 else 0.0,
        "setup_s": setup,
    }

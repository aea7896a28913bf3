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
import json
import os
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from graph_runtime.show.scene_guard import SceneGuard

from ..engine.errors import EngineError
from ..graph.compiler import CompileError, compile_patch
from ..graph.frame import BLOCKS, STRENGTH_BOUND
from ..media.video import SinkError, open_segment
from .encode import EncodeWorker, _make_sink
from .engines import create_engine
from .request import RenderError, RenderInterrupted, RenderRequest, RenderResult, _analyse, _check_request, load_span
from .sidecar import _analysis_tools, _sidecar, describe_model


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
    view = _open_view(req, say)
    patch, first, count = load_span(req, registry, say)
    setup: dict[str, float] = {}
    if analysis is None:
        analysis = _timed(setup, "analysis", lambda: _analyse(req, say))
    own_engine = engine is None
    if own_engine:
        size = int(patch.engine.get("size", 512))
        model = req.model or str(patch.engine.get("model", "auto"))
        engine = _timed(setup, "engine_load", lambda: _load_engine(req, model, size))
    try:
        say(describe_model(engine))  # (why "auto" fell back to the preview: the engine logs it)
        plan = _timed(setup, "compile", lambda: _compile(req, patch, registry, analysis, engine))
        for w in plan.warnings:
            say(f"{req.patch}: {w}")
        dt = 1.0 / req.fps
        t0 = time.perf_counter()
        if view is not None:
            view.prepare(analysis, count)
        for g in range(first):  # pre-roll: the plan's state as if played from the top
            plan.run(g * dt, dt)
            if view is not None:
                view.preroll(g * dt, dt)
        setup["preroll"] = time.perf_counter() - t0
        result = RenderResult(path=os.path.abspath(req.frames_dir or req.out), sidecar="",
                              frames=0, requested_frames=count, fps=req.fps, start=first * dt,
                              model=engine.model, preview=engine.is_preview,
                              interrupted=False)
        result.analysis_tools = _analysis_tools(analysis)
        audio = open_segment(req.track, first * dt, count * dt)
        try:
            _run_loop(req, patch, plan, engine, audio, first, count, result, setup, progress,
                      on_frame, on_image, say, warner(result, warn or say), view)
        finally:
            audio.close()
    finally:
        if own_engine:
            engine.close()
    return result


def _load_engine(req: RenderRequest, model: str, size: int):
    """The render's own engine, through the one factory; its failure as RenderError.
    A remote one sends raw RGBA (lossless, frame-exact) unless JPEG is asked for and
    delivers every frame, in order."""
    try:
        if req.engine_address:
            return create_engine(address=req.engine_address, token=req.engine_token,
                                 in_flight=req.engine_in_flight, codec=req.engine_codec,
                                 hold=False, ordered=True)
        return create_engine(model, size, req.device, cpu_threads=req.cpu_threads)
    except EngineError as e:
        raise RenderError(str(e), code=1) from None


def _compile(req: RenderRequest, patch, registry, analysis, engine):
    try:
        return compile_patch(patch, registry, analysis=analysis,
                             feature_mean=engine.feature_mean, fps=req.fps,
                             base_dir=os.path.dirname(os.path.abspath(req.patch))
                             if isinstance(req.patch, str) else None)  # album art beside the patch
    except CompileError as e:
        raise RenderError([f"{req.patch}: {p}" for p in e.problems]) from None


def _open_view(req: RenderRequest, say):
    """The character view (None for the plain image); its errors as RenderError."""
    if req.view == "image":
        return None
    if req.view != "character":
        raise RenderError(f"--view {req.view}: use image or character")
    from graph_runtime.stage.character.view import CharacterView, ViewError

    try:
        return CharacterView.open(req.skin, req.creature, tuple(req.canvas), say=say)
    except ViewError as e:
        raise RenderError(str(e)) from None


def warner(result: RenderResult, out: Callable[[str], None]) -> Callable[[str], None]:
    """A warning: said once (even under -q, by the caller's `out`) and kept for the sidecar."""
    def warn(line: str) -> None:
        if line not in result.warnings:
            result.warnings.append(line)
            out(line)
    return warn


def _run_loop(req, patch, plan, engine, audio, first, count, result, setup, progress,
              on_frame, on_image, say, warn, view=None) -> None:
    from tqdm import tqdm

    clock = time.perf_counter
    st = StageClock()
    sink = worker = None
    dt = 1.0 / req.fps
    bar = tqdm(total=count, unit="frame", disable=not progress, dynamic_ncols=True,
               smoothing=0.1, desc="render", leave=True)
    st.loop_start = clock()
    clipped_before = list(plan.frame.clipped)  # the pre-roll's clips are not this render's
    guard, scene_view = SceneGuard(str), copy.copy(plan.frame)  # a refused Scene: the last good one
    if view is not None:
        view.start()  # from here on, blinks, widenings and orbs are logged for the sidecar
    try:
        try:
            for i, rgba, b, c in _images(plan, engine, first, count, dt, scene_view, guard, warn, st):
                if view is not None:
                    image_shape = rgba.shape
                    rgba = view.frame(rgba, (first + i) * dt, dt)  # the canvas is what is kept
                if worker is None:  # the first frame tells the image size
                    sink = _make_sink(req, rgba.shape, audio)
                    worker = EncodeWorker(sink, rgba.shape)
                    st.first_engine = c - b
                    shape = image_shape if view is not None else rgba.shape
                    result.image_size = (int(shape[1]), int(shape[0]))
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
        if view is not None:
            result.character = view.sidecar()
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
        if isinstance(e, EngineError):
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
    if engine.ordered and engine.in_flight > 1:
        from graph_runtime.remote.render_ahead import RenderAhead

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
            if isinstance(e, EngineError) else None
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

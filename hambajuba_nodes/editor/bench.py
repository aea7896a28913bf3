"""`hambajuba bench ui`: the window's own per-frame work, with 40 nodes.

The default patch (22 nodes) plus LFO -> smooth -> curve chains up to 40
nodes, playing a synthetic analysis with the null audio output, every
meter live. The engine is a stand-in that returns a ready frame at once, so
the submit / poll / delivery path runs every frame while the engine's own
time and the texture upload (timed separately in App.tick) are excluded.
Dear PyGui's drawing of the frame is reported beside it (render_*), not in
the headline: under Xvfb it is software OpenGL, not this code. cpu_* is the
same work in this thread's CPU time: on a shared, loaded machine the wall
clock also counts the time the OS gave the CPU to someone else (load_avg
says how busy the machine was).
"""
from __future__ import annotations

import os
import tempfile
import time

import numpy as np

N_NODES = 40


def bench_patch_40(registry):
    """The default patch grown to 40 nodes with general-node chains."""
    from graph_runtime.graph import patch as patch_io
    from graph_runtime.graph.patch import Patch

    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(here, "patches", "default.patch")
    patch = patch_io.load(path) if os.path.exists(path) else Patch()
    patch.nodes = [n for n in patch.nodes if registry.get(n.type) is not None]
    i = 0
    while len(patch.nodes) < N_NODES:
        y = 900.0 + 140.0 * (i // 3)
        kinds = ("time.lfo", "shape.smooth", "shape.curve")
        spec = patch.add_node(kinds[i % 3], {}, (260.0 * (i % 3), y))
        if i % 3:
            patch.connect((patch.nodes[-2].id, "out"), (spec.id, "x"))
        i += 1
    return patch


def bench_ui(frames: int = 600) -> dict:
    """Run the window for `frames` frames; per-frame UI work in microseconds."""
    from .display import ensure_display, release_display

    xvfb = ensure_display()
    if xvfb is not None:
        # software OpenGL: Mesa's llvmpipe otherwise keeps rasterizing the last
        # frame on its own threads while the next frame's UI work runs, which a
        # GPU does not do; rasterize inside the draw call instead
        os.environ.setdefault("LP_NUM_THREADS", "0")
    try:
        return _bench(frames)
    finally:
        release_display(xvfb)


def _bench(frames: int) -> dict:
    from graph_runtime.analysis.store import synthetic
    from graph_runtime.graph import patch as patch_io
    from graph_runtime.media.playback import NullOutput, Track
    from graph_runtime.show.options import ShowOptions
    from hambajuba_nodes.registry import default_registry

    from .app import App

    registry = default_registry()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.patch")
        patch_io.save(bench_patch_40(registry), path)
        app = App(ShowOptions(patch_path=path, engine=_instant_engine,
                  output=NullOutput("bench"), config=tmp, vsync=False), registry=registry)
        try:
            seconds = 120.0
            sr = 8000
            t = np.arange(int(seconds * sr)) / sr
            track = Track((0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr, "bench")
            rng = np.random.default_rng(0)
            n = int(seconds * 50)
            channels = {f"{s}/{c}": rng.random(n).astype(np.float32)
                        for s in ("bass", "drums", "vocals", "other")
                        for c in ("energy_smooth", "envelope", "pitch_normalized", "brightness")}
            app.transport.install(track, synthetic(seconds, channels=channels))
            app.live.set_analysis(app.transport.analysis)
            app._settle_garbage()  # as App does when a track is opened
            app.transport.play()
            for _ in range(60):  # warm up: engine start, first compile, first frames
                app.step()
            deadline = time.monotonic() + 10
            while not (app.worker and app.worker.ready) and time.monotonic() < deadline:
                app.step()
            app.frame_us.clear()
            work, cpu, render = [], [], []
            for _ in range(frames):
                app.tick()
                work.append(app.frame_us[-1])
                cpu.append(app.frame_cpu_us[-1])
                t0 = time.perf_counter()
                import dearpygui.dearpygui as dpg

                dpg.render_dearpygui_frame()
                render.append((time.perf_counter() - t0) * 1e6)
            nodes = len(app.model.patch.nodes)
            shown = app.delivery.shown if app.delivery else 0
        finally:
            app.close()
    w, c, r = np.array(work), np.array(cpu), np.array(render)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0
    return {"p50_us": float(np.percentile(w, 50)), "p99_us": float(np.percentile(w, 99)),
            "max_us": float(w.max()), "cpu_p50_us": float(np.percentile(c, 50)),
            "cpu_p99_us": float(np.percentile(c, 99)), "load_avg": float(load),
            "cpus": os.cpu_count(), "render_p50_us": float(np.percentile(r, 50)),
            "render_p99_us": float(np.percentile(r, 99)), "frames": int(frames), "nodes": nodes,
            "engine_frames_shown": int(shown)}


def _instant_engine():
    """Renders nothing: waits 20 ms outside Python (as a GPU engine at 50 fps
    waits on its CUDA graph, GIL released) and hands back a fixed image."""
    from graph_runtime.render.engines import create_engine

    return create_engine("null", 512, render_s=0.02, preview=True,
                         description="bench stand-in (no model)")

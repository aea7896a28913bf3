"""Per-frame CPU time of a compiled plan (the "bridge" between music and model).

Headless: receives the registry and an analysis; imports neither torch nor
dearpygui. Times each Plan.run with perf_counter_ns; the garbage collector
stays on, as it is in a performance, but long-lived objects are frozen first
so a collection does not walk the analysis arrays.
"""
from __future__ import annotations

import gc
import time

import numpy as np

from .compiler import compile_patch


def bench_plan(patch, registry, analysis, *, frames: int = 5000, fps: float = 50.0,
               warmup: int = 200) -> dict:
    plan = compile_patch(patch, registry, analysis=analysis, fps=fps)
    dt = 1.0 / fps
    span = max(analysis.duration - 1.0, 1.0) if analysis is not None else 60.0
    for i in range(warmup):
        plan.run((i * dt) % span, dt)
    gc.collect()
    gc.freeze()
    times = np.empty(frames, dtype=np.int64)
    clock = time.perf_counter_ns
    run = plan.run
    try:
        for i in range(frames):
            t = (i * dt) % span
            t0 = clock()
            run(t, dt)
            times[i] = clock() - t0
    finally:
        gc.unfreeze()
    us = times / 1000.0
    return {"p50_us": round(float(np.percentile(us, 50)), 2),
            "p99_us": round(float(np.percentile(us, 99)), 2),
            "max_us": round(float(us.max()), 2),
            "frames": frames, "nodes": len(plan.nodes)}

"""`hambajuba bench character`: what the composition costs per frame.

A compositor on a canvas (1280x720 by default) draws N frames of a synthetic
120 BPM groove around a 512x512 engine-sized image (so the heart is resized,
the usual case); each frame's wall time (perf_counter) gives p50/p99/max.
The target: p99 <= 3 ms on the project's 2-core machine.
"""
from __future__ import annotations

import os
import time

import numpy as np

from .compositor import Compositor
from .creature import Creature
from .skin import load_skin
from .still import groove, heart_image

TARGET_P99_MS = 3.0


def bench(skin: str | None = None, width: int = 1280, height: int = 720, frames: int = 1200,
          image_size: int = 512, fps: float = 60.0) -> dict:
    t0 = time.perf_counter()
    comp = Compositor(load_skin(skin), width, height, Creature(seed=1), groove(30.0))
    prepare = time.perf_counter() - t0
    heart = heart_image(image_size)
    times = np.zeros(frames)
    cpu = np.zeros(frames)  # the thread's own CPU time: the cost without other processes' share
    for i in range(min(60, frames)):  # warm caches (the heart's index maps)
        comp.frame(heart, i / fps, 1.0 / fps)
    clock, own = time.perf_counter, time.thread_time
    for i in range(frames):
        a, c = clock(), own()
        comp.frame(heart, (i % int(28 * fps)) / fps, 1.0 / fps)
        times[i], cpu[i] = clock() - a, own() - c
    ms = times * 1e3
    return {"canvas": f"{width}x{height}", "skin": comp.skin.name, "image": image_size,
            "frames": frames, "p50_ms": round(float(np.percentile(ms, 50)), 4),
            "p99_ms": round(float(np.percentile(ms, 99)), 4),
            "max_ms": round(float(ms.max()), 4), "prepare_s": round(prepare, 3),
            "p99_cpu_ms": round(float(np.percentile(cpu * 1e3, 99)), 4),
            "loadavg_1min": round(os.getloadavg()[0], 2), "cores": os.cpu_count(),
            "target_p99_ms": TARGET_P99_MS}

"""`hambajuba bench engine`: frames per second with all four blocks steered.

Every frame writes new strengths into all four blocks (every slot holds a
feature) and turns the noise angle, as a playing patch does, then times one
whole render(): H2D copy, graph replay, D2H copy and the final sync. On a GPU
each frame is timed with CUDA events, elsewhere with perf_counter.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from graph_runtime.graph.frame import BLOCKS, NOISE_THETA, PROMPT_POS, SLOTS, FrameParams


@dataclass
class BenchResult:
    model: str
    description: str
    device: str
    size: int
    frames: int
    fps: float           # frames / wall time of the timed loop
    p50_ms: float        # per-frame time percentiles
    p99_ms: float
    mean_ms: float
    timer: str           # "cuda events" | "perf_counter"
    compile_mode: str
    steered_blocks: int
    setup_s: float       # building, loading and compiling, before the first timed frame
    peak_mem_mb: float = 0.0   # peak GPU memory allocated (CUDA), else the process's peak RSS

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        return (f"{self.model} on {self.device}, {self.size}x{self.size}, {self.steered_blocks} blocks "
                f"steered, {self.frames} frames: {self.fps:.1f} FPS, p50 {self.p50_ms:.2f} ms, "
                f"p99 {self.p99_ms:.2f} ms ({self.timer}, compile {self.compile_mode}; setup "
                f"{self.setup_s:.1f} s)\n  model: {self.description}")


def steered_frame(engine, seed: int = 0) -> FrameParams:
    """A FrameParams with a feature in every slot of every block."""
    frame = FrameParams()
    rng = np.random.default_rng(seed)
    frame.scene.feature_ids[:] = rng.integers(0, engine.n_features, size=(len(BLOCKS), SLOTS))
    frame.scene.prompt_a, frame.scene.prompt_b = "a city at night", "a forest in fog"
    frame.scene.touch()
    return frame


def animate(frame: FrameParams, i: int) -> None:
    """Per-frame writes, as the nodes would make them."""
    phase = 0.37 * i
    for b in range(len(BLOCKS)):
        for s in range(SLOTS):
            frame.set_strength(b, s, 40.0 * math.sin(phase + b + 0.5 * s))
    frame.vec[PROMPT_POS] = 0.5 + 0.5 * math.sin(0.05 * i)
    frame.vec[NOISE_THETA] = 0.1 * i


def bench_engine(engine, frames: int = 100, warmup: int = 5, setup_s: float = 0.0) -> BenchResult:
    frame = steered_frame(engine)
    for i in range(warmup):
        animate(frame, i)
        engine.render(frame)
    times = _time_cuda(engine, frame, frames) if engine.device.type == "cuda" else \
        _time_host(engine, frame, frames)
    per_frame, wall = times
    return BenchResult(
        model=engine.parts.kind, description=engine.description, device=_device_name(engine.device),
        size=engine.size, frames=frames, fps=frames / wall, p50_ms=float(np.percentile(per_frame, 50)),
        p99_ms=float(np.percentile(per_frame, 99)), mean_ms=float(np.mean(per_frame)),
        timer="cuda events" if engine.device.type == "cuda" else "perf_counter",
        compile_mode=engine.compile_mode, steered_blocks=len(BLOCKS), setup_s=setup_s,
        peak_mem_mb=_peak_mem_mb(engine.device))


def run_bench(model: str = "auto", frames: int = 100, size: int = 512, device=None,
              models_dir=None, warmup: int = 5, cpu_threads: int | None = None,
              compile: str = "auto") -> BenchResult:
    from graph_runtime.render.engines import create_engine  # the one factory

    t0 = time.perf_counter()
    engine = create_engine(model, size, device, models_dir=models_dir,
                           cpu_threads=cpu_threads, compile=compile)
    setup = time.perf_counter() - t0
    try:
        return bench_engine(engine, frames=frames, warmup=warmup, setup_s=setup)
    finally:
        engine.close()


def _time_host(engine, frame, frames: int):
    per_frame = np.empty(frames)
    start = time.perf_counter()
    for i in range(frames):
        animate(frame, i)
        t = time.perf_counter()
        engine.render(frame)
        per_frame[i] = (time.perf_counter() - t) * 1e3
    return per_frame, time.perf_counter() - start


def _time_cuda(engine, frame, frames: int):
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
              for _ in range(frames)]
    start = time.perf_counter()
    for i in range(frames):
        animate(frame, i)
        events[i][0].record()
        engine.render(frame)          # ends in the frame's own sync
        events[i][1].record()
    torch.cuda.synchronize()  # GPU SYNC: benchmark only, to read the events
    wall = time.perf_counter() - start
    return np.array([a.elapsed_time(b) for a, b in events]), wall


def _peak_mem_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Linux: kB


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"

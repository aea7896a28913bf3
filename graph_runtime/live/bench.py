"""`hambajuba bench live`: what a 10 ms block costs, and how late a sample's
channel values become readable.

The file goes through the live path as fast as it can (replay.feed: ring,
worker buffer, analyser). Per block: wall time and the worker thread's CPU
time (on a shared machine the wall time includes the neighbours' load; the
CPU time is the analyser's own cost).

Latency is then computed for real-time arrival: block k enters the ring at
(k + 1) x 10 ms (the callback hands over a whole block), the worker finishes
it at max(its arrival, the previous finish) + its measured cost. A row is
readable when the block that publishes it finishes; its latency is that
time minus the arrival of the OLDEST sample the row is the first to include
(the frame's hop of new samples), for the frame's first row (its stem
channels; pitch and global values follow one block later). latency_ms is
the 99th percentile over frames, so it includes waiting for the frame to
fill (one hop, 20 ms, two blocks) and the cost itself. latency_cpu_ms is
the same with each block's CPU time as its cost: the latency when the
worker has a core to itself.
"""
from __future__ import annotations

import time

import numpy as np

from .analyser import HOP, N_FFT, CausalAnalyser
from .ring import SampleRing


def run(samples: np.ndarray, sr: int) -> dict:
    """samples (n, channels) float32 at sr -> the bench figures."""
    a = CausalAnalyser(sr=sr, channels=samples.shape[1])
    b = a.block
    ring = SampleRing(8 * b, a.channels)
    buf = np.zeros((b, a.channels), np.float32)
    n_blocks = samples.shape[0] // b
    wall = np.zeros(n_blocks)
    cpu = np.zeros(n_blocks)
    received = np.zeros(n_blocks, np.int64)
    rows = np.zeros(n_blocks, np.int64)
    for k in range(n_blocks):
        ring.write(samples[k * b:(k + 1) * b])
        ring.read_into(buf)
        t0, c0 = time.perf_counter(), time.thread_time()
        a.push(buf)
        wall[k] = (time.perf_counter() - t0) * 1e3
        cpu[k] = (time.thread_time() - c0) * 1e3
        received[k], rows[k] = a.received, a.frames_out
    block_ms = 1e3 * b / sr
    lat = _latencies(wall, rows, received, block_ms)
    lat_cpu = _latencies(cpu, rows, received, block_ms)
    duration = samples.shape[0] / sr
    return {"blocks": int(n_blocks), "block_ms": block_ms, "duration_s": duration,
            "block_p50_ms": float(np.percentile(wall, 50)), "block_p99_ms": float(np.percentile(wall, 99)),
            "block_max_ms": float(wall.max(initial=0.0)),
            "block_cpu_p50_ms": float(np.percentile(cpu, 50)),
            "block_cpu_p99_ms": float(np.percentile(cpu, 99)),
            "latency_ms": float(np.percentile(lat, 99)), "latency_mean_ms": float(lat.mean()),
            "latency_cpu_ms": float(np.percentile(lat_cpu, 99)),
            "realtime_factor": duration / max(wall.sum() / 1e3, 1e-9),
            "stems": 10, "bpm": float(a.tracker.bpm)}


def _latencies(cost: np.ndarray, rows: np.ndarray, received: np.ndarray, block_ms: float) -> np.ndarray:
    """Per frame: its first row readable minus the arrival of its oldest new sample (ms),
    with each block taking `cost` ms after max(its arrival, the previous finish)."""
    n_blocks = len(cost)
    finish = np.zeros(n_blocks)
    prev = 0.0
    for k in range(n_blocks):
        prev = max((k + 1) * block_ms, prev) + cost[k]
        finish[k] = prev
    lat = []
    for r in range(1, int(rows[-1]) if n_blocks else 0):
        pub = int(np.searchsorted(rows, r + 1))            # first block after which frame r's row exists
        first_new = (r - 1) * HOP + N_FFT // 2              # oldest analysis sample new to frame r
        arr = int(np.searchsorted(received, first_new + 1))  # block that brought it
        if pub < n_blocks:
            lat.append(finish[pub] - (arr + 1) * block_ms)
    return np.array(lat) if lat else np.zeros(1)

"""`hambajuba bench live --long MINUTES`: minutes of input fed as fast as it goes,
for flat memory and a clock that does not drift.

A drum loop at 126 BPM (kick on 1 and 3, snare on 2 and 4, hats on eighths;
110 beats = 52.4 s, a whole number of 10 ms blocks at 22.05 kHz so the loop's
grid never moves) goes through replay.feed into one CausalAnalyser, loop after
loop. The first loop fills every history; after it the figures are taken:
resident memory growth (/proc/self/statm), the tempo, and how far the last
emitted beat sits from the true grid, after every loop. The suite feeds 3.5
minutes (tests/live/test_long_run.py); this is the long run.
"""
from __future__ import annotations

import time

import numpy as np

from .analyser import CausalAnalyser
from .replay import feed

SR = 22050
BPM = 126.0
LOOP_BEATS = 110


def drum_loop(beats: int = LOOP_BEATS, *, bpm: float = BPM, sr: int = SR, seed: int = 0) -> np.ndarray:
    """(n, 1) float32: `beats` beats of kick, snare and eighth-note hats."""
    rng = np.random.default_rng(seed)
    period = 60.0 / bpm
    n = int(round(beats * period * sr))
    t = np.arange(int(0.15 * sr)) / sr
    kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-t * 40)) * t) * np.exp(-t * 18)
    snare = rng.standard_normal(len(t)) * np.exp(-t * 30) * 0.5
    hat = rng.standard_normal(len(t) // 4) * np.exp(-t[:len(t) // 4] * 120) * 0.2
    y = np.zeros(n)
    for k in range(2 * beats):
        at = int(k * period / 2 * sr)
        hits = ((kick if (k // 2) % 2 == 0 else snare),) if k % 2 == 0 else ()
        for src in hits + (hat,):
            end = min(n, at + len(src))
            y[at:end] += src[:end - at]
    return (0.5 * y / max(np.abs(y).max(), 1e-9)).astype(np.float32)[:, None]


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def off_grid_s(a: CausalAnalyser, bpm: float = BPM) -> float:
    """How far the last emitted beat sits from the nearest beat of the true grid (s)."""
    period = 60.0 / bpm
    last = a.tracker.emitted[(a.tracker.n_emitted - 1) % len(a.tracker.emitted)]
    return float(abs(((last / period) + 0.5) % 1.0 - 0.5) * period)


def run(minutes: float) -> dict:
    a = CausalAnalyser(sr=SR, channels=1)
    loop = drum_loop()
    loop_s = loop.shape[0] / SR
    t0 = time.perf_counter()
    feed(loop, a)                                  # the first loop fills every history
    base = _rss_bytes()
    loops = max(1, int(round(minutes * 60.0 / loop_s)) - 1)
    off, rss = [], [base]
    for _ in range(loops):
        feed(loop, a)
        off.append(off_grid_s(a))
        rss.append(_rss_bytes())
    fed_min = loops * loop_s / 60.0
    # a leak grows every loop alike; a one-off step (another thread of the process, the
    # allocator taking a new arena) moves one loop: the median loop tells them apart
    per_loop = float(np.median(np.diff(rss)))
    return {"minutes_fed": round((loops + 1) * loop_s / 60.0, 2), "minutes_measured": round(fed_min, 2),
            "rss_growth_bytes": rss[-1] - base,
            "rss_growth_per_minute_median": round(per_loop * 60.0 / loop_s),
            "bpm": round(float(a.tracker.bpm), 3),
            "bpm_error": round(abs(a.tracker.bpm / BPM - 1.0), 4),
            "off_grid_max_ms": round(1e3 * max(off), 1), "off_grid_last_ms": round(1e3 * off[-1], 1),
            "finite": bool(np.all(np.isfinite(a.ring.rows))), "frames": int(a.frame),
            "wall_s": round(time.perf_counter() - t0, 1)}

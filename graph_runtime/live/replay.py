"""Run the causal analyser over a whole file, as fast as it goes.

The samples take the live path: 10 ms blocks into a SampleRing, the worker's
read into its block buffer, CausalAnalyser.push. Every published row is kept
(the complete row of each frame, (n_frames, layout.WIDTH)), and an Analysis is built from them with the
offline channel names, so `hambajuba analyze FILE --live` prints the same
JSON as the offline analysis and live and offline can be compared frame by
frame: beats = the times the online tracker emitted (its predictions),
downbeats = those it marked as bar ones, bpm = its final estimate.
"""
from __future__ import annotations

import time

import numpy as np

from ..analysis.decode import decode_for_analysis
from ..analysis.store import ALL_STEMS, CLASS_NAMES, FPS, Analysis
from . import layout
from .analyser import CausalAnalyser
from .ring import SampleRing


def feed(samples: np.ndarray, analyser: CausalAnalyser, *, on_block=None) -> np.ndarray:
    """samples (n, channels) float32 through ring and analyser; returns the block
    costs in ms (wall), one per block. on_block(k, frames_made) after each block."""
    block = analyser.block
    ring = SampleRing(8 * block, analyser.channels)
    buf = np.zeros((block, analyser.channels), np.float32)
    n_blocks = samples.shape[0] // block
    costs = np.zeros(n_blocks)
    for k in range(n_blocks):
        ring.write(samples[k * block:(k + 1) * block])      # what the audio callback does
        ring.read_into(buf)
        t0 = time.perf_counter()
        made = analyser.push(buf)
        costs[k] = (time.perf_counter() - t0) * 1e3
        if on_block is not None:
            on_block(k, made)
    return costs


def analyse_file(path: str, *, max_channels: int = 2) -> Analysis:
    """The live analysis of a file, as an Analysis (meta['live'] = True)."""
    track = decode_for_analysis(path)
    x = track.frames_first()[:, :max_channels]   # (n, ch)
    analyser = CausalAnalyser(sr=track.sr, channels=x.shape[1])
    analyser.tracker.log = []
    n_frames = int(x.shape[0] / track.sr * FPS) + 2
    rows = np.zeros((n_frames, layout.WIDTH))
    got = [0]

    t_col = layout.STATUS_INDEX["frame_time"]
    last = [-1]

    def keep(_k: int, _made: int) -> None:
        ring = analyser.ring
        for r in range(got[0], ring.written):      # two rows a frame: the complete one wins
            row = ring.rows[r % ring.slots]
            f = int(round(row[t_col] * FPS))
            if f < n_frames:
                rows[f] = row
                last[0] = max(last[0], f)
        got[0] = ring.written

    start = time.perf_counter()
    feed(x, analyser, on_block=keep)
    if analyser.flush():
        keep(0, 1)
    took = time.perf_counter() - start
    n = last[0] + 1
    rows = rows[:n]
    data = {name: rows[:, i].astype(np.float32) for name, i in layout.INDEX.items()}
    for stem in ALL_STEMS:      # the classification as offline: one vector, the last estimate
        data[f"class/{stem}"] = np.array([data[f"class/{stem}/{c}"][-1] for c in CLASS_NAMES], np.float32)
    log = analyser.tracker.log
    beats = np.array([b for b, _ in log if b >= 0.0])
    downs = np.array([b for b, d in log if d and b >= 0.0])
    meta = {"source": path, "live": True, "separator": "live (causal HPSS + band weights)",
            "beat_tracker": "live (online, predicted)", "pitch_tracker": "live (harmonic sum)",
            "duration": x.shape[0] / track.sr, "analysis_seconds": took,
            "tempo_confidence": float(analyser.tracker.confidence),
            "input_overflows": 0, "clipped_samples": int(analyser.clipped),
            "songs_cut_in": int(analyser.tracker.songs_cut_in)}
    return Analysis(fps=FPS, times=np.arange(n) / FPS, data=data, bpm=float(analyser.tracker.bpm),
                    beats=beats, downbeats=downs, meta=meta)

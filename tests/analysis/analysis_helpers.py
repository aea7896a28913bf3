"""Signal makers and the eval cases' location, shared by the analysis tests."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT.parent / "shared" / "eval" / "cases"
CASES = ("bwv253_92", "bwv269_150", "bwv347_174", "bwv66_6_120")


def write(path, samples, sr, subtype=None) -> str:
    """Write (n,) or (n, channels) samples; returns the path as str."""
    sf.write(str(path), np.asarray(samples), sr, subtype=subtype)
    return str(path)


def click_track(bpm: float, seconds: float, sr: int = 22050, offset: float = 0.25):
    """Short decaying noise bursts on a beat grid: (signal (n,), beat times (s))."""
    rng = np.random.default_rng(0)
    y = np.zeros(int(seconds * sr), np.float32)
    times = np.arange(offset, seconds - 0.1, 60.0 / bpm)
    burst = (rng.standard_normal(int(0.03 * sr)) * np.exp(-np.arange(int(0.03 * sr)) / (0.005 * sr)))
    for t in times:
        i = int(round(t * sr))
        y[i:i + len(burst)] += 0.5 * burst[: len(y) - i].astype(np.float32)
    return y, times


def tone(freq: float, seconds: float, sr: int = 22050, amp: float = 0.3):
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def truth(case: str) -> dict:
    with open(EVAL / case / "truth.json") as f:
        return json.load(f)


def need_eval():
    if not EVAL.is_dir():
        pytest.skip(f"eval cases not found at {EVAL}")

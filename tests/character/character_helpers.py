"""Helpers for the character tests: analyses with a known beat grid and stem
energies, a test tone, an engine that keeps what it made, pixel counts."""
from __future__ import annotations

import json
import pathlib
import wave

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_PATCH = ROOT / "patches" / "default.patch"
EVAL = ROOT.parent / "shared" / "eval" / "cases"
STEMS = ("bass", "drums", "vocals", "other")


def write_tone(path, seconds: float, sr: int = 44100) -> str:
    t = np.arange(int(seconds * sr)) / sr
    y = (0.2 * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(y.tobytes())
    return str(path)


def groove(seconds: float, bpm: float = 120.0, bass_from: float | None = None):
    """The synthetic analysis; with bass_from, the bass is silent before that time
    and plays after it (energy 0.9), so its orb must open."""
    from graph_runtime.analysis.store import synthetic

    a = synthetic(seconds, bpm=bpm)
    if bass_from is not None:
        e = np.where(a.times >= bass_from, 0.9, 0.0).astype(np.float32)
        a.data["bass/energy_smooth"] = e
    return a


class KeepingEngine:
    """The preview engine, keeping a copy of each image it made (to compare the heart).
    A proxy, not a stand-in: every member but render is the engine's own."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.images: list[np.ndarray] = []

    def render(self, frame):
        rgba = self.engine.render(frame)
        self.images.append(rgba.copy())
        return rgba

    def __getattr__(self, name):
        return getattr(self.engine, name)


def lit(region: np.ndarray, color, tol: int = 40) -> int:
    """Pixels of `region` (h, w, >=3) within `tol` of `color` on every channel."""
    d = np.abs(region[..., :3].astype(np.int16) - np.asarray(color, np.int16))
    return int((d.max(axis=-1) <= tol).sum())


def crop(img: np.ndarray, rect) -> np.ndarray:
    y, x, h, w = rect
    return img[y:y + h, x:x + w]


# -- the eval cases --------------------------------------------------------------------------

def eval_cases() -> list[str]:
    return sorted(p.name for p in EVAL.iterdir() if (p / "truth.json").exists()) \
        if EVAL.is_dir() else []


def stem_energy(path, fps: float, n: int, stem: str) -> np.ndarray:
    """The analysis' energy channel of one true stem: RMS over 46 ms on the
    50 fps grid, over its loudest frame, through the stem's attack/release
    follower (graph_runtime.analysis.envelope)."""
    import soundfile as sf

    from graph_runtime.analysis.envelope import energy_smooth

    y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    hop, win = int(sr / fps), int(0.046 * sr)
    pad = np.concatenate([np.zeros(win // 2, np.float32), y, np.zeros(win, np.float32)])
    env = np.array([np.sqrt(np.mean(pad[i * hop:i * hop + win] ** 2)) for i in range(n)])
    env = (env / max(env.max(), 1e-3)).astype(np.float32)
    return energy_smooth(env, fps=fps, stem=stem).astype(np.float32)


def case_analysis(case: str):
    """An Analysis of an eval case on its true beat grid, with each true stem's
    energy channel, as the analysis pipeline lays them out."""
    from graph_runtime.analysis.store import Analysis

    truth = json.loads((EVAL / case / "truth.json").read_text())
    fps = 50.0
    n = int(truth["seconds"] * fps) + 1
    data = {f"{s}/energy_smooth": stem_energy(EVAL / case / "stems" / f"{s}.flac", fps, n, s)
            for s in STEMS}
    data["mix/energy_smooth"] = np.clip(sum(data.values()) / 2.0, 0, 1).astype(np.float32)
    return Analysis(fps=fps, times=np.arange(n) / fps, data=data, bpm=float(truth["bpm"]),
                    beats=np.asarray(truth["beats"], np.float64),
                    downbeats=np.asarray(truth["downbeats"], np.float64),
                    meta={"source": "eval truth + true stems"}), truth

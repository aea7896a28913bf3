"""Paths and small builders shared by the scale tests (named uniquely, not conftest)."""
from __future__ import annotations

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_PATCH = str(ROOT / "patches" / "default.patch")


def small_patch(tmp_path, size: int = 128) -> str:
    """The default patch rendering at `size` px (fast on a CPU)."""
    from graph_runtime.graph.patch import load, save

    patch = load(DEFAULT_PATCH)
    patch.engine["size"] = size
    patch.engine["model"] = "preview"
    path = tmp_path / "small.patch"
    save(patch, str(path))
    return str(path)


def write_track(path, seconds: float, freq: float = 220.0, rate: int = 22050) -> str:
    import numpy as np
    import soundfile as sf

    t = np.arange(int(seconds * rate)) / rate
    kick = (np.sin(2 * np.pi * 2 * t) > 0.95).astype(np.float32)  # a pulse at 2 Hz
    x = 0.3 * np.sin(2 * np.pi * freq * t) + 0.3 * kick * np.sin(2 * np.pi * 60 * t)
    sf.write(str(path), np.stack([x, x], axis=1).astype(np.float32), rate)
    return str(path)

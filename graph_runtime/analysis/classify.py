"""What kind of part a stem plays, as five confidences in [0, 1].

From four statistics over the frames where the stem is active:
  h = harmonic_ratio averaged weighted by energy, d = transients per second,
  p = mean pitch confidence where voiced-capable, f = mean flatness.

  percussive = 1.25 (1 - h) (0.7 + 0.3 min(d / 2, 1))  hits, little pitch
  harmonic   = h                                    sustained partials
  melodic    = h * p * (1 - f)                      one clear pitched line
  harmony    = h * (1 - p) * (1 - min(d / 2, 1))    pads, chords: pitched, held, not one line
  texture    = f * (1 - percussive)                 noise-like beds, air

A stem more than 70% percussive gets no melodic or harmony confidence (as
its pitch is not tracked). The physics nodes blend their models by these.
"""
from __future__ import annotations

import numpy as np

from .store import CLASS_NAMES

DENSE_ONSETS_PER_S = 2.0
PERCUSSIVE_ONLY = 0.7


def stem_statistics(ch: dict[str, np.ndarray], *, fps: float) -> dict[str, float]:
    on = ch["activity"] > 0.5
    if not on.any():
        return {"h": 0.0, "d": 0.0, "p": 0.0, "f": 0.0}
    seconds = on.sum() / fps
    weight = ch["envelope"][on].astype(np.float64) ** 2 + 1e-12  # loud frames count more
    return {
        "h": float(np.average(ch["harmonic_ratio"][on], weights=weight)),
        "d": float(ch["transient"][on].sum() / max(seconds, 1e-9)),
        "p": float(ch["pitch_confidence"][on].mean()),
        "f": float(ch["flatness"][on].mean()),
    }


def classify(ch: dict[str, np.ndarray], *, fps: float) -> np.ndarray:
    """(5,) float32 in CLASS_NAMES order; all zero for a silent stem."""
    s = stem_statistics(ch, fps=fps)
    h, p, f = s["h"], s["p"], s["f"]
    dense = min(s["d"] / DENSE_ONSETS_PER_S, 1.0)
    if not (ch["activity"] > 0.5).any():
        return np.zeros(len(CLASS_NAMES), np.float32)
    percussive = min(1.0, 1.25 * (1.0 - h)) * (0.7 + 0.3 * dense)
    melodic = h * p * (1.0 - f)
    harmony = h * (1.0 - p) * (1.0 - dense)
    if percussive > PERCUSSIVE_ONLY:
        melodic = harmony = 0.0
    values = {"percussive": percussive, "harmonic": h, "melodic": melodic,
              "harmony": harmony, "texture": f * (1.0 - percussive)}
    return np.clip(np.array([values[n] for n in CLASS_NAMES], np.float32), 0.0, 1.0)

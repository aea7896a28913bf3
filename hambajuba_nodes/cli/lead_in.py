"""`bench beats --lead-in S [--noise-dbfs DB]`: each case played after S seconds of
silence (or of white noise at DB dBFS RMS, as an input's hiss), its beats scored
against the case's own truth once the lead-in is taken off.

Why: every case starts its music 0.3 s in, and the live tracker's start turned out
to depend on that (docs/live-analysis.md, fourteenth pass: 0.2-1.0 s more read beat
F1 0.965-0.975 where 0.3 s reads 0.988). Scoring with other lead-ins shows how much
of a figure is the cases' own timing; 4 s or more is an input opened before the music.
"""
from __future__ import annotations

import os

import numpy as np


def with_lead_in(audio: str, seconds: float, folder: str, *, noise_dbfs: float | None = None) -> str:
    """A wav under `folder`: `seconds` of silence (or noise) and then `audio`, as written
    (its sample rate and channels); made once per (audio, seconds, noise)."""
    import soundfile as sf
    tag = "silence" if noise_dbfs is None else f"noise{noise_dbfs:g}"
    name = os.path.basename(os.path.dirname(os.path.abspath(audio))) or "case"
    out = os.path.join(folder, f"{name}-{os.path.basename(audio)}-{seconds:g}s-{tag}.wav")
    if os.path.exists(out):
        return out
    y, sr = sf.read(audio, dtype="float32", always_2d=True)      # (n, channels)
    pad = np.zeros((int(round(seconds * sr)), y.shape[1]), np.float32)
    if noise_dbfs is not None:
        rng = np.random.default_rng(0)            # the same hiss for every run
        pad = (10.0 ** (noise_dbfs / 20.0) * rng.standard_normal(pad.shape)).astype(np.float32)
    sf.write(out + ".part.wav", np.concatenate([pad, y]), sr)
    os.replace(out + ".part.wav", out)
    return out

"""`bench beats --lead-in S [--noise-dbfs DB]`: each case played after S seconds of
silence (or of white noise at DB dBFS RMS, as an input's hiss), its beats scored
against the case's own truth once the lead-in is taken off. `--cut-in S`: each case
cut straight in after the first S seconds of the set's case before it (a DJ's cut,
no silence), scored the same way.

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


def with_cut_in(audio: str, before: str, seconds: float, folder: str) -> str:
    """A wav under `folder`: the first `seconds` of `before`, then `audio` straight after
    (no silence, no crossfade: a cut); at `audio`'s sample rate and channels, made once."""
    import soundfile as sf

    from graph_runtime.analysis.errors import AnalysisError
    name = os.path.basename(os.path.dirname(os.path.abspath(audio))) or "case"
    was = os.path.basename(os.path.dirname(os.path.abspath(before))) or "before"
    out = os.path.join(folder, f"{was}-into-{name}-{seconds:g}s.wav")
    if os.path.exists(out):
        return out
    y, sr = sf.read(audio, dtype="float32", always_2d=True)        # (n, channels)
    n = int(round(seconds * sr))
    if sf.info(before).samplerate != sr:
        raise AnalysisError(before, f"is at {sf.info(before).samplerate} Hz where {audio} is at {sr} Hz",
                            "--cut-in needs the cases of a set at one sample rate")
    head, _ = sf.read(before, dtype="float32", always_2d=True, frames=n)
    if len(head) < n:
        raise AnalysisError(before, f"is shorter than --cut-in {seconds:g} s", "give fewer seconds")
    head = np.repeat(head[:, :1], y.shape[1], axis=1) if head.shape[1] != y.shape[1] else head
    sf.write(out + ".part.wav", np.concatenate([head, y]), sr)
    os.replace(out + ".part.wav", out)
    return out

"""Sections of a track from its analysis: where the arrangement changes, on downbeats.

Per bar, the mean `energy_smooth` of each source stem makes a 4-vector (how
much drums, bass, vocals, other play). A section starts at a downbeat where
the two bars after it differ from the two bars before it by more than
THRESHOLD (L1 distance of the vectors), keeping the strongest change
within MIN_BARS. The first section starts at 0. Pure numpy; bounded by the
number of bars.
"""
from __future__ import annotations

import numpy as np

STEMS = ("drums", "bass", "vocals", "other")
THRESHOLD = 0.12
MIN_BARS = 2
MAX_SECTIONS = 64


def sections(analysis) -> list[dict]:
    """[{"index", "start", "end", "energy"}] in track seconds, first at 0."""
    if analysis is None:
        return []
    duration = float(analysis.duration)
    downs = [float(d) for d in getattr(analysis, "downbeats", ()) if 0.0 <= d < duration]
    starts = [0.0] + _boundaries(analysis, downs)
    out = []
    for i, s in enumerate(starts[:MAX_SECTIONS]):
        e = starts[i + 1] if i + 1 < len(starts) else duration
        out.append({"index": i, "start": round(s, 3), "end": round(e, 3),
                    "energy": round(_mean_energy(analysis, s, e), 3)})
    return out


def section_at(secs: list[dict], t: float) -> dict | None:
    found = None
    for s in secs:
        if s["start"] <= t:
            found = s
    return found


def _bar_vectors(analysis, downs: list[float]) -> np.ndarray:
    fps, n = analysis.fps, analysis.n_frames
    edges = [int(d * fps) for d in downs] + [n]
    rows = []
    for a, b in zip(edges[:-1], edges[1:]):
        rows.append([float(np.mean(_energy(analysis, s)[a:max(b, a + 1)])) for s in STEMS])
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(STEMS))


def _energy(analysis, stem: str) -> np.ndarray:
    return analysis.channel_or_zeros(f"{stem}/energy_smooth")


def _boundaries(analysis, downs: list[float]) -> list[float]:
    if len(downs) < 4:
        return []
    bars = _bar_vectors(analysis, downs)
    change = np.zeros(len(downs))
    for k in range(1, len(downs)):
        before = bars[max(0, k - 2):k].mean(axis=0)
        after = bars[k:k + 2].mean(axis=0)
        change[k] = float(np.abs(after - before).sum())
    picked: list[int] = []
    for k in np.argsort(-change):
        if change[k] < THRESHOLD or k == 0:
            break
        if all(abs(k - j) >= MIN_BARS for j in picked):
            picked.append(int(k))
    return [downs[k] for k in sorted(picked) if downs[k] > 0.0]


def _mean_energy(analysis, start: float, end: float) -> float:
    a, b = int(start * analysis.fps), int(end * analysis.fps)
    ch = analysis.channel_or_zeros("mix/energy_smooth")
    return float(np.mean(ch[a:max(b, a + 1)])) if a < len(ch) else 0.0

"""A performer's correction of the beat grid, saved per track; it wins over the analysis.

    corr = load_correction("track.flac")                  # identity when none is saved
    corr = dataclasses.replace(corr, downbeat_shift=1)    # "the one is a beat later"
    save_correction("track.flac", corr)                   # atomic JSON beside the cache
    a = apply_correction(analysis, corr)                  # a new Analysis, grid redone

The file is <cache folder>/<track name>-<audio sha256[:20]>.grid.json (the
analysis cache's folder, keyed by the audio's bytes like the cache, so a
moved or renamed file keeps its correction and re-analysis does not lose
it). apply_correction always starts from the analysis's own grid (kept in
meta["grid_raw"] the first time), so applying a new correction to an
already-corrected analysis replaces the old one instead of stacking on it.

Order of application: tempo (x2 inserts a beat between each pair, /2 keeps
the beats of the first downbeat's parity), bar length, downbeat shift (in
beats, counted on the corrected beats, modulo the bar), then phase_s (a
nudge of every beat, seconds).
"""
from __future__ import annotations

import dataclasses
import glob
import json
import logging
import math
import os
import re

import numpy as np

from graph_runtime.media.atomic import write_atomic

from .beat_order import strictly_increasing
from .errors import AnalysisError
from .store import Analysis

TEMPO_SCALES = (0.5, 1.0, 2.0)
MAX_BEATS_PER_BAR = 16
MAX_SHIFT = 64
MAX_PHASE_S = 10.0
MAX_FILE_BYTES = 64 * 1024       # a correction is a few numbers; refuse anything bigger
FORMAT = "hambajuba.grid"
log = logging.getLogger("hambajuba.analysis")


@dataclasses.dataclass(frozen=True)
class GridCorrection:
    downbeat_shift: int = 0               # beats: the one moves this many beats later
    tempo_scale: float = 1.0              # 0.5, 1 or 2: halve or double the beat level
    beats_per_bar: int | None = None      # None: the analysis's meter
    phase_s: float = 0.0                  # seconds added to every beat (nudge)

    def __post_init__(self) -> None:
        problem = correction_problem(self)
        if problem:
            raise ValueError(f"grid correction: {problem}")

    @property
    def is_identity(self) -> bool:
        return self == GridCorrection()

    def to_json(self) -> dict:
        return {"format": FORMAT, "version": 1, **dataclasses.asdict(self)}


def correction_problem(c: GridCorrection) -> str | None:
    """One line saying what is wrong with a correction's values, else None."""
    if isinstance(c.downbeat_shift, bool) or not isinstance(c.downbeat_shift, int) \
            or abs(c.downbeat_shift) > MAX_SHIFT:
        return f"downbeat_shift {c.downbeat_shift!r} is not a whole number of beats in +-{MAX_SHIFT}"
    if c.tempo_scale not in TEMPO_SCALES:
        return f"tempo_scale {c.tempo_scale!r} is not one of 0.5, 1, 2"
    if c.beats_per_bar is not None and (isinstance(c.beats_per_bar, bool)
                                        or not isinstance(c.beats_per_bar, int)
                                        or not 1 <= c.beats_per_bar <= MAX_BEATS_PER_BAR):
        return f"beats_per_bar {c.beats_per_bar!r} is not a whole number 1..{MAX_BEATS_PER_BAR}"
    if not isinstance(c.phase_s, (int, float)) or isinstance(c.phase_s, bool) \
            or not math.isfinite(c.phase_s) or abs(c.phase_s) > MAX_PHASE_S:
        return f"phase_s {c.phase_s!r} is not a number of seconds in +-{MAX_PHASE_S:g}"
    return None


def from_json(doc) -> GridCorrection:
    """A correction from its JSON document; ValueError (one line) when it is not one."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} document")
    known = {f.name for f in dataclasses.fields(GridCorrection)}
    fields = {k: v for k, v in doc.items() if k in known}
    if isinstance(fields.get("tempo_scale"), int) and not isinstance(fields["tempo_scale"], bool):
        fields["tempo_scale"] = float(fields["tempo_scale"])
    return GridCorrection(**fields)


# -- the store ---------------------------------------------------------------------------
def correction_path(track_path, *, folder: str | None = None) -> str:
    """Where the track's correction lives (beside the analysis cache)."""
    from .cache import cache_dir, file_hash
    track_path = os.fspath(track_path)
    if not os.path.isfile(track_path):
        raise AnalysisError(track_path, "is not a file", "give the audio file the grid belongs to")
    stem = os.path.splitext(os.path.basename(track_path))[0]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:60] or "track"
    return os.path.join(folder or cache_dir(), f"{name}-{file_hash(track_path)[:20]}.grid.json")


def load_correction(track_path, *, folder: str | None = None) -> GridCorrection:
    """The saved correction, or the identity when none is saved.

    A file that is too big, not JSON or not a correction raises AnalysisError
    naming it (it is left as it is: nothing the user saved is lost)."""
    path = correction_path(track_path, folder=folder)
    if not os.path.isfile(path):   # saved under the track's old name? the hash still finds it
        key = path.rsplit("-", 1)[-1]
        found = sorted(glob.glob(os.path.join(glob.escape(os.path.dirname(path)), f"*-{key}")))
        if not found:
            return GridCorrection()
        path = found[0]
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
        with open(path, encoding="utf-8") as f:
            return from_json(json.load(f))
    except (ValueError, TypeError, UnicodeDecodeError) as e:
        raise AnalysisError(path, f"is not a grid correction ({str(e).splitlines()[0]})",
                            "fix it, or delete it to use the analysis's grid") from None


def save_correction(track_path, corr: GridCorrection, *, folder: str | None = None) -> str:
    """Write the correction atomically; returns its path."""
    if not isinstance(corr, GridCorrection):
        raise TypeError(f"save_correction needs a GridCorrection, not {type(corr).__name__}")
    path = correction_path(track_path, folder=folder)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    write_atomic(path, json.dumps(corr.to_json(), sort_keys=True, indent=1) + "\n")
    return path


# -- applying it -----------------------------------------------------------------------------
def raw_grid(analysis: Analysis) -> dict:
    """The analysis's own grid: {"beats", "downbeats" (float64 arrays), "beats_per_bar"}."""
    raw = analysis.meta.get("grid_raw")
    if raw is not None:
        return {"beats": np.asarray(raw["beats"], np.float64),
                "downbeats": np.asarray(raw["downbeats"], np.float64),
                "beats_per_bar": int(raw["beats_per_bar"])}
    beats_s = np.asarray(analysis.beats, np.float64)
    downs = np.asarray(analysis.downbeats, np.float64)
    bpb = analysis.meta.get("beats_per_bar")
    if bpb is None:
        bpb = _bar_length(beats_s, downs)
    return {"beats": beats_s, "downbeats": downs, "beats_per_bar": int(bpb)}


def _bar_length(beats_s: np.ndarray, downs: np.ndarray) -> int:
    if len(beats_s) < 2 or len(downs) < 2:
        return 4
    return int(np.clip(round(np.median(np.diff(downs)) / np.median(np.diff(beats_s))), 1, 16))


def scale_beats(beats_s: np.ndarray, scale: float, anchor_s: float | None) -> np.ndarray:
    """x2: a beat between each pair; /2: every other beat, keeping the one nearest anchor_s."""
    if scale == 2.0 and len(beats_s) >= 2:
        out = np.empty(2 * len(beats_s) - 1)
        out[0::2] = beats_s
        out[1::2] = (beats_s[:-1] + beats_s[1:]) / 2.0
        return out
    if scale == 0.5 and len(beats_s) >= 2:
        keep = int(np.argmin(np.abs(beats_s - anchor_s))) % 2 if anchor_s is not None else 0
        return beats_s[keep::2]
    return beats_s


def corrected_grid(raw: dict, corr: GridCorrection) -> tuple[np.ndarray, np.ndarray, int]:
    """(beats s, downbeats s, beats per bar) after the correction."""
    anchor = float(raw["downbeats"][0]) if len(raw["downbeats"]) else None
    beats_s = scale_beats(strictly_increasing(raw["beats"]), corr.tempo_scale, anchor)
    bpb = corr.beats_per_bar or raw["beats_per_bar"]
    if len(beats_s) == 0:
        return beats_s, np.zeros(0), bpb
    first = int(np.argmin(np.abs(beats_s - anchor))) if anchor is not None else 0
    phase = (first + corr.downbeat_shift) % bpb
    beats_s = beats_s + corr.phase_s
    return beats_s, beats_s[phase::bpb], bpb


def apply_correction(analysis: Analysis, corr: GridCorrection) -> Analysis:
    """A new Analysis with the corrected grid: beats, downbeats, bpm, bpm_range,
    beats_per_bar and the grid channels (beat/bar phase, pulses, bpm_local).
    The input is not changed; the identity returns an equal grid."""
    from . import beats
    raw = raw_grid(analysis)
    beats_s, downs, bpb = corrected_grid(raw, corr)
    data = dict(analysis.data)
    fps = float(analysis.fps)
    for name, arr in beats.grid_channels(analysis.times, beats_s, downs, fps=fps).items():
        data[f"global/{name}"] = arr
    if corr.downbeat_shift or corr.beats_per_bar is not None:  # the user says where the one is
        data["global/downbeat_confidence"] = np.ones(analysis.n_frames, np.float32)
    meta = dict(analysis.meta)
    meta["grid_raw"] = {"beats": [float(b) for b in raw["beats"]],
                        "downbeats": [float(b) for b in raw["downbeats"]],
                        "beats_per_bar": raw["beats_per_bar"]}
    meta.update(beats_per_bar=int(bpb), grid_correction=dataclasses.asdict(corr),
                bpm_range=[round(x, 3) for x in beats.bpm_range(beats_s)])
    if "tempo_candidates" in meta:   # the level now in use is the chosen one
        pick = {2.0: "x2", 0.5: "/2"}.get(corr.tempo_scale, "x1")
        meta["tempo_candidates"] = [dict(c, chosen=c.get("ratio") == pick)
                                    for c in meta["tempo_candidates"]]
    return dataclasses.replace(analysis, data=data, meta=meta, beats=beats_s, downbeats=downs,
                               bpm=float(beats.bpm_from_beats(beats_s)) if len(beats_s) > 1
                               else float(analysis.bpm) * corr.tempo_scale)


def apply_saved(track_path, analysis: Analysis, *, folder: str | None = None) -> Analysis:
    """The analysis with the track's saved correction applied (unchanged when none).

    A damaged correction file does not stop the show: the analysis's own grid
    is used and meta["warnings"] says which file to fix."""
    try:
        corr = load_correction(track_path, folder=folder)
    except AnalysisError as e:
        log.warning("%s", e)
        analysis.meta["warnings"] = list(analysis.meta.get("warnings", [])) + [str(e)]
        return analysis
    if corr.is_identity and "grid_raw" not in analysis.meta:
        return analysis
    return apply_correction(analysis, corr)

"""Beats on real recordings without annotations: offline vs live vs references.

    python scripts/real_beats.py TRACK [TRACK ...] [--seconds 90] [--out runs/real.json]
        [--reference madmom [--ref-python PATH]] [--no-live] [--json]

For each track (its first --seconds): the offline grid (the beat stage, as
`bench beats` runs it), the live tracker (`analyze --live`), librosa's
beat_track as an independent reference and, with `--reference madmom`, a
trained tracker (madmom's RNN + DBN beat tracker). Reports per track:

- bpm of each; the metrical relation of offline to the trained tracker and
  of live to offline (x1, x2, /2, x3/2, ... within 8 %; x1 is the same octave);
- live vs offline: the share of offline beats after the live lock that a live
  beat matches within 70 ms (`agree`), when the live grid locked onto the
  offline one (8 matched beats in a row), and the share of live beat intervals
  after 10 s at offline's level, within 10 % of its local interval (`level`:
  a clock at another octave, or wandering off the tempo, for part of the track);
- mir_eval AMLt (agreement at any metrical level) of offline and of live
  against the trained tracker and against librosa;
- whether each grid (beats and downbeats) is strictly increasing.

The trained tracker is a REFERENCE only, never a dependency: it runs in a
separate interpreter (`--ref-python`, or $HAMBAJUBA_REF_PYTHON) that has
madmom 0.16.1 installed, through scripts/madmom_reference.py, in a
subprocess. Its beats and librosa's are cached beside the output
(OUT.reference-madmom.json, OUT.librosa.json), the excerpts in OUT.clips/,
so a rerun after a change to the grid costs only the grid.

Evaluation only: needs librosa and mir_eval (and the tracks, e.g. Debian's
wesnoth-1.16-music under /usr/share/games/wesnoth/1.16/data/core/music/).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def excerpt(path: str, seconds: float, clips: str) -> str:
    """The first `seconds` of a track as a wav under `clips` (made once)."""
    out = os.path.join(clips, f"{os.path.basename(path)}-{seconds:g}s.wav")
    if os.path.exists(out):
        return out
    import soundfile as sf

    from graph_runtime.analysis.decode import decode_for_analysis
    track = decode_for_analysis(path)
    os.makedirs(clips, exist_ok=True)
    sf.write(out + ".part.wav", track.samples[:, : int(seconds * track.sr)].T, track.sr)
    os.replace(out + ".part.wav", out)
    return out


class Cache:
    """A JSON dict {clip name: value} in a file, saved after every new entry."""

    def __init__(self, path: str):
        self.path = path
        self.data = {}
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.data = json.load(f)

    def get(self, key: str, make):
        if key not in self.data:
            self.data[key] = make()
            with open(self.path + ".part", "w", encoding="utf-8") as f:
                json.dump(self.data, f)
            os.replace(self.path + ".part", self.path)
        return self.data[key]


def librosa_beats(clip: str) -> dict:
    import librosa
    y, sr = librosa.load(clip, sr=22050, mono=True)
    bpm, b = librosa.beat.beat_track(y=y, sr=sr, units="time")
    return {"bpm": float(np.atleast_1d(bpm)[0]), "beats": [float(t) for t in b]}


def madmom_beats(clips: list[str], ref_python: str) -> dict:
    """{clip: {"beats", "downbeats", ...}} from scripts/madmom_reference.py under ref_python."""
    proc = subprocess.run([ref_python, os.path.join(HERE, "madmom_reference.py"), *clips],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{ref_python}: the madmom reference failed: {proc.stderr.strip()[-400:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def amlt(ref, est) -> float:
    """mir_eval AMLt (any metrical level, continuity not required), beats before 5 s ignored."""
    import mir_eval
    ref = mir_eval.beat.trim_beats(np.asarray(ref, float))
    est = mir_eval.beat.trim_beats(np.asarray(est, float))
    return float(mir_eval.beat.continuity(ref, est)[3]) if len(ref) > 1 and len(est) > 1 else 0.0


def bpm_of(beats) -> float:
    d = np.diff(np.asarray(beats, float))
    return float(60.0 / np.median(d)) if len(d) else 0.0


def same_octave(a: float, b: float) -> bool:
    return bool(abs(np.log2(max(a, 1e-6) / max(b, 1e-6))) < np.log2(1.08))


RELATIONS = (("x1", 1.0), ("x2", 2.0), ("/2", 0.5), ("x3/2", 1.5), ("x2/3", 2 / 3), ("x3", 3.0),
             ("/3", 1 / 3))


def relation(a: float, b: float) -> str:
    """The metrical relation of tempo a to tempo b ("x1", "x2", "/2", "x3/2", ...,
    within 8 %), or "other"."""
    for name, r in RELATIONS:
        if a > 0 and b > 0 and abs(np.log2(a / (b * r))) < np.log2(1.08):
            return name
    return "other"


def increasing(*grids) -> bool:
    return all(bool(np.all(np.diff(np.asarray(g, float)) > 0)) for g in grids)


def evaluate(clip: str, *, lib: dict, ref: dict | None, live: bool) -> dict:
    from graph_runtime.analysis.beat_eval import hits, lock_and_off_beat, same_level_share
    from hambajuba_nodes.cli.beats import grid_of
    off_b, off_d, off_bpm, bpb, _ = grid_of(clip, full=False)
    row = {"track": os.path.basename(clip), "bpm_offline": round(float(off_bpm), 1),
           "beats_per_bar": bpb, "bpm_librosa": round(lib["bpm"], 1),
           "amlt_offline_vs_librosa": round(amlt(lib["beats"], off_b), 3),
           "increasing": increasing(off_b, off_d)}
    if ref is not None:
        row.update(bpm_reference=round(bpm_of(ref["beats"]), 1),
                   amlt_offline=round(amlt(ref["beats"], off_b), 3),
                   amlt_librosa=round(amlt(ref["beats"], lib["beats"]), 3),
                   level_offline_ref=relation(off_bpm, bpm_of(ref["beats"])))
    if live:
        live_b, live_d, live_bpm, _, _ = grid_of(clip, full=False, live=True)
        lock, _ = lock_and_off_beat(off_b, live_b)
        after = np.asarray(off_b)[np.asarray(off_b) >= (lock if lock is not None else np.inf)]
        row.update(bpm_live=round(float(live_bpm), 1), same_octave=same_octave(live_bpm, off_bpm),
                   level_live_offline=relation(live_bpm, off_bpm),
                   live_lock_s=None if lock is None else round(lock, 1),
                   agree=round(float(hits(after, live_b).mean()) if len(after) else 0.0, 3),
                   level=round(same_level_share(off_b, live_b), 3),
                   amlt_live_vs_librosa=round(amlt(lib["beats"], live_b), 3),
                   increasing=row["increasing"] and increasing(live_b, live_d))
        if ref is not None:
            row["amlt_live"] = round(amlt(ref["beats"], live_b), 3)
    return row


COLUMNS = (("bpm_offline", "off", ".1f"), ("bpm_live", "live", ".1f"), ("bpm_reference", "ref", ".1f"),
           ("bpm_librosa", "lbrsa", ".1f"), ("level_offline_ref", "off/ref", ""),
           ("level_live_offline", "live/off", ""), ("agree", "agree", ".2f"),
           ("level", "level", ".2f"),
           ("amlt_offline", "AMLt off", ".2f"), ("amlt_live", "AMLt live", ".2f"),
           ("amlt_offline_vs_librosa", "off/lib", ".2f"), ("amlt_live_vs_librosa", "live/lib", ".2f"),
           ("amlt_librosa", "lib/ref", ".2f"), ("increasing", "incr", ""))


def table(rows: list[dict]) -> str:
    """A fixed-width table of the rows, then the means of the agreement columns."""
    cols = [c for c in COLUMNS if any(c[0] in r for r in rows)]
    cell = lambda v, h, f: f"{('-' if v is None else format(v, f) if f else str(v)):>{max(len(h), 6)}}"  # noqa: E731
    lines = [f"{'track':<30} " + " ".join(f"{h:>{max(len(h), 6)}}" for _, h, _ in cols)]
    lines += [f"{r['track']:<30} " + " ".join(cell(r.get(k), h, f) for k, h, f in cols) for r in rows]
    for key, _, _ in cols:
        vals = [r[key] for r in rows if r.get(key) is not None]
        if (key.startswith(("amlt", "agree")) or key == "level") and vals:
            lines.append(f"mean {key}: {np.mean(vals):.3f}")
    lines.append(f"all increasing: {all(r['increasing'] for r in rows)}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tracks", nargs="+")
    ap.add_argument("--seconds", type=float, default=90.0)
    ap.add_argument("--out", default="real-beats.json", help="rows as JSON; caches sit beside it")
    ap.add_argument("--reference", choices=("none", "madmom"), default="none")
    ap.add_argument("--ref-python", default=os.environ.get("HAMBAJUBA_REF_PYTHON", ""),
                    help="interpreter with madmom 0.16.1 (default $HAMBAJUBA_REF_PYTHON)")
    ap.add_argument("--no-live", action="store_true", help="offline only (the live replay is slow)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.reference == "madmom" and not a.ref_python:
        ap.error("--reference madmom needs --ref-python or $HAMBAJUBA_REF_PYTHON")
    clips = [excerpt(t, a.seconds, a.out + ".clips") for t in a.tracks]
    lib_cache = Cache(a.out + ".librosa.json")
    ref_cache = Cache(a.out + ".reference-madmom.json") if a.reference == "madmom" else None
    if ref_cache is not None:
        missing = [c for c in clips if os.path.basename(c) not in ref_cache.data]
        if missing:
            for clip, v in madmom_beats(missing, a.ref_python).items():
                ref_cache.get(os.path.basename(clip), lambda v=v: v)
    rows = []
    for clip in clips:
        key = os.path.basename(clip)
        rows.append(evaluate(clip, lib=lib_cache.get(key, lambda c=clip: librosa_beats(c)),
                             ref=None if ref_cache is None else ref_cache.data[key], live=not a.no_live))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=1)
    print(json.dumps(rows) if a.json else table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

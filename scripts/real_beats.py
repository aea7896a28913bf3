"""Beats on real recordings without annotations: offline vs live vs librosa.

    python scripts/real_beats.py TRACK [TRACK ...] [--seconds 120] [--json]

For each track (its first --seconds): the offline grid (the beat stage, as
`bench beats` runs it), the live tracker (`analyze --live`), and librosa's
beat_track as an independent reference. Reports per track:

- bpm of each; whether live and offline are in the same tempo octave
  (within 8 %);
- live vs offline: the share of offline beats after the live lock that a live
  beat matches within 70 ms (`agree`), and when the live grid locked onto the
  offline one (8 matched beats in a row);
- mir_eval AMLt (agreement at any metrical level) of offline and of live
  against librosa;
- whether each grid is strictly increasing.

Evaluation only: needs librosa and mir_eval (and the tracks, e.g. Debian's
wesnoth-1.16-music under /usr/share/games/wesnoth/1.16/data/core/music/).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

import numpy as np


def _excerpt(path: str, seconds: float) -> str:
    import soundfile as sf

    from graph_runtime.analysis.decode import decode_for_analysis
    track = decode_for_analysis(path)
    x = track.samples[:, : int(seconds * track.sr)].T
    out = os.path.join(tempfile.mkdtemp(prefix="real-beats-"), os.path.basename(path) + ".wav")
    sf.write(out, x, track.sr)
    return out


def evaluate(path: str, seconds: float) -> dict:
    import librosa
    import mir_eval

    from graph_runtime.analysis.beat_eval import lock_and_off_beat
    from hambajuba_nodes.cli.beats import grid_of
    clip = _excerpt(path, seconds)
    off_b, off_d, off_bpm, bpb, _ = grid_of(clip, full=False)
    live_b, live_d, live_bpm, _, _ = grid_of(clip, full=False, live=True)
    y, sr = librosa.load(clip, sr=22050, mono=True)
    lib_bpm, lib_b = librosa.beat.beat_track(y=y, sr=sr, units="time")
    lib_bpm = float(np.atleast_1d(lib_bpm)[0])

    def amlt(ref, est) -> float:
        ref = mir_eval.beat.trim_beats(np.asarray(ref, float))
        est = mir_eval.beat.trim_beats(np.asarray(est, float))
        return float(mir_eval.beat.continuity(ref, est)[3]) if len(ref) > 1 and len(est) > 1 else 0.0

    lock, off_s = lock_and_off_beat(off_b, live_b)
    after = np.asarray(off_b)[np.asarray(off_b) >= (lock if lock is not None else np.inf)]
    from graph_runtime.analysis.beat_eval import hits
    agree = float(hits(after, live_b).mean()) if len(after) else 0.0
    inc = lambda b: bool(np.all(np.diff(np.asarray(b)) > 0))  # noqa: E731
    return {"track": os.path.basename(path), "seconds": seconds,
            "bpm_offline": round(float(off_bpm), 1), "bpm_live": round(float(live_bpm), 1),
            "bpm_librosa": round(lib_bpm, 1),
            "same_octave": bool(abs(np.log2(max(live_bpm, 1e-6) / max(off_bpm, 1e-6))) < np.log2(1.08)),
            "live_lock_s": None if lock is None else round(lock, 1), "agree": round(agree, 3),
            "amlt_offline_vs_librosa": round(amlt(lib_b, off_b), 3),
            "amlt_live_vs_librosa": round(amlt(lib_b, live_b), 3),
            "increasing": inc(off_b) and inc(off_d) and inc(live_b) and inc(live_d)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tracks", nargs="+")
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    rows = [evaluate(t, a.seconds) for t in a.tracks]
    if a.json:
        print(json.dumps(rows))
        return 0
    print(f"{'track':<26} {'offline':>7} {'live':>6} {'librosa':>7} {'octave':>6} {'lock':>5} "
          f"{'agree':>6} {'AMLt off':>8} {'AMLt live':>9} {'incr':>5}")
    for r in rows:
        lock = "-" if r["live_lock_s"] is None else f"{r['live_lock_s']:.0f}"
        print(f"{r['track']:<26} {r['bpm_offline']:7.1f} {r['bpm_live']:6.1f} {r['bpm_librosa']:7.1f} "
              f"{str(r['same_octave']):>6} {lock:>5} {r['agree']:6.2f} "
              f"{r['amlt_offline_vs_librosa']:8.2f} {r['amlt_live_vs_librosa']:9.2f} {str(r['increasing']):>5}")
    for k in ("agree", "amlt_offline_vs_librosa", "amlt_live_vs_librosa"):
        print(f"mean {k}: {np.mean([r[k] for r in rows]):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

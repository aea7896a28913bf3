"""`hambajuba bench beats DIR` and the grid-correction flags of `hambajuba analyze`.

bench beats scores the beat grid on evaluation cases: every folder under DIR
(or DIR itself) holding mix.<audio> and truth.json (`beats`, `downbeats`,
`bpm`, `beats_per_bar`: the layout of ../shared/eval/cases and of
tests/support/beat_cases.py). Beats and downbeats are scored with
mir_eval's F-measure (70 ms window, the first 5 s skipped as mir_eval does).
By default only the grid stage runs, on the mix, through the same functions
the pipeline's beat stage calls; --full runs the whole analysis (uncached);
--live scores the causal live analyser (graph_runtime/live) on the file; its
tempo is the one it reads at the end, so the tempo error then compares it with
the truth's last LIVE_TEMPO_BEATS beats (a ramp's final tempo), not the median.

Exit codes: 0 done, 2 bad input (one line), 1 anything else.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import sys
import tempfile
import time

AUDIO_NAMES = ("mix.flac", "mix.wav", "mix.ogg", "mix.mp3")
LIVE_TEMPO_BEATS = 8     # --live: the tempo error compares with the truth's last 8 beats


# -- analyze TRACK --downbeat-shift N --tempo-x2 | --tempo-half --beats-per-bar B ----------
def _beats_per_bar(text: str) -> int:
    from graph_runtime.analysis.beat_grid_correction import MAX_BEATS_PER_BAR
    try:
        b = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= b <= MAX_BEATS_PER_BAR:
        raise argparse.ArgumentTypeError(f"{b} is not in 1..{MAX_BEATS_PER_BAR}")
    return b


def _shift(text: str) -> int:
    from graph_runtime.analysis.beat_grid_correction import MAX_SHIFT
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of beats") from None
    if abs(n) > MAX_SHIFT:
        raise argparse.ArgumentTypeError(f"{n} is not in -{MAX_SHIFT}..{MAX_SHIFT}")
    return n


def add_grid_options(p) -> None:
    """The correction flags; saved beside the analysis cache and applied on every reopen."""
    g = p.add_argument_group("beat grid correction (saved per track, wins over the analysis)")
    g.add_argument("--downbeat-shift", metavar="N", type=_shift, default=None,
                   help="the bar's first beat is N beats later (negative: earlier)")
    tempo = g.add_mutually_exclusive_group()
    tempo.add_argument("--tempo-x2", action="store_true", help="double the beat level (62 -> 124 BPM)")
    tempo.add_argument("--tempo-half", action="store_true", help="halve the beat level (174 -> 87 BPM)")
    tempo.add_argument("--tempo-x1", action="store_true", help="undo --tempo-x2 / --tempo-half")
    g.add_argument("--beats-per-bar", metavar="B", type=_beats_per_bar, default=None,
                   help="set the meter (beats per bar, 1..16)")
    g.add_argument("--grid-reset", action="store_true",
                   help="forget the saved correction (use the analysis's grid)")


def wants_correction(args) -> bool:
    return bool(getattr(args, "grid_reset", False) or getattr(args, "tempo_x2", False)
                or getattr(args, "tempo_half", False) or getattr(args, "tempo_x1", False)
                or getattr(args, "downbeat_shift", None) is not None
                or getattr(args, "beats_per_bar", None) is not None)


def save_grid_flags(args) -> int:
    """Write the flags into the track's correction (the other fields keep their saved
    values). 0 done (or nothing asked), 2 bad input."""
    import dataclasses

    from graph_runtime.analysis.beat_grid_correction import GridCorrection, load_correction, save_correction
    from graph_runtime.analysis.errors import AnalysisError
    if not wants_correction(args):
        return 0
    try:
        corr = GridCorrection() if args.grid_reset else load_correction(args.track)
        changes = {}
        if args.tempo_x2 or args.tempo_half or args.tempo_x1:
            changes["tempo_scale"] = 2.0 if args.tempo_x2 else 0.5 if args.tempo_half else 1.0
        if args.downbeat_shift is not None:
            changes["downbeat_shift"] = args.downbeat_shift
        if args.beats_per_bar is not None:
            changes["beats_per_bar"] = args.beats_per_bar
        path = save_correction(args.track, dataclasses.replace(corr, **changes))
    except (AnalysisError, ValueError, OSError) as e:
        print(f"hambajuba: {e}", file=sys.stderr)
        return 2
    if not getattr(args, "json", False):
        print(f"grid correction saved to {path}")
    return 0


def grid_summary(a) -> dict:
    """The beat-grid keys of `analyze --json`."""
    return {"tempo_candidates": a.meta.get("tempo_candidates", []),
            "bpm_range": a.meta.get("bpm_range", [0.0, 0.0]),
            "beats_per_bar": a.meta.get("beats_per_bar"),
            "downbeat_confidence": a.meta.get("downbeat_confidence"),
            "grid_correction": a.meta.get("grid_correction")}


# -- bench beats -----------------------------------------------------------------------------
def add_bench_beats_parser(bench_subparsers) -> None:
    p = bench_subparsers.add_parser(
        "beats", help="score beats and downbeats (mir_eval F-measure) on cases with truth")
    p.add_argument("cases", metavar="DIR", nargs="+",
                   help="folders of cases (each with mix.flac and truth.json), or single cases; "
                        "each DIR is a set with its own means")
    p.add_argument("--json", action="store_true",
                   help="print {beat_f1, downbeat_f1, cases: [...]} as JSON")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--full", action="store_true",
                     help="run the whole analysis per case (uncached) instead of the beat stage")
    how.add_argument("--live", action="store_true",
                     help="score the causal live analyser (what `analyze --live` prints)")
    p.add_argument("--beat-checkpoint", metavar="FILE", default=None,
                   help="Beat This! checkpoint (default: the torch hub cache, else the built-in tracker)")
    p.add_argument("--lead-in", metavar="S", type=_lead_in, default=0.0,
                   help="play each case after S s of silence (4 or more: an input opened before the "
                        "music); scored on the case's own clock")
    p.add_argument("--noise-dbfs", metavar="DB", type=float, default=None,
                   help="with --lead-in: white noise at DB dBFS RMS instead of silence (an input's hiss)")
    p.add_argument("--cut-in", metavar="S", type=_lead_in, default=0.0,
                   help="cut each case straight in after the first S s of the set's case before it "
                        "(a DJ's cut, no silence); scored on the case's own clock")
    p.set_defaults(func=cmd_bench_beats)


def _lead_in(text: str) -> float:
    try:
        s = float(text)
    except ValueError:
        s = -1.0
    if not 0.0 <= s <= 600.0:
        raise argparse.ArgumentTypeError(f"{text!r}: give seconds from 0 to 600")
    return s


def find_cases(folder: str) -> list[tuple[str, str, str]]:
    """[(name, audio path, truth path)] under folder (sorted); [] when none."""
    folder = os.fspath(folder)
    dirs = [folder] + sorted(d for d in glob.glob(os.path.join(glob.escape(folder), "*"))
                             if os.path.isdir(d))
    out = []
    for d in dirs:
        truth = os.path.join(d, "truth.json")
        audio = next((os.path.join(d, n) for n in AUDIO_NAMES if os.path.isfile(os.path.join(d, n))), None)
        if audio and os.path.isfile(truth):
            out.append((os.path.basename(os.path.normpath(d)), audio, truth))
    return out


def read_truth(path: str) -> dict:
    from graph_runtime.analysis.errors import AnalysisError
    try:
        if os.path.getsize(path) > 64 << 20:
            raise ValueError("larger than 64 MiB")
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        beats = [float(b) for b in doc["beats"]]
        downs = [float(b) for b in doc["downbeats"]]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise AnalysisError(path, f"is not a truth file with beats and downbeats ({e})",
                            "see ../shared/eval/README.md for the layout") from None
    return {"beats": beats, "downbeats": downs, "bpm": doc.get("bpm"),
            "beats_per_bar": doc.get("beats_per_bar")}


def grid_of(audio: str, *, full: bool, beat_checkpoint=None, live: bool = False):
    """(beats s, downbeats s, bpm, beats_per_bar, bpm_range) for a mix."""
    if live:
        import numpy as np

        from graph_runtime.analysis.beats import bpm_range
        from graph_runtime.live.replay import analyse_file
        a = analyse_file(audio)
        downs, beats_s = np.asarray(a.downbeats), np.asarray(a.beats)
        bpb = None
        if len(downs) > 1 and len(beats_s) > 1:
            bpb = int(round(np.median(np.diff(downs)) / np.median(np.diff(beats_s))))
        return beats_s, downs, a.bpm, bpb, list(bpm_range(beats_s))
    if full:
        from graph_runtime.analysis.pipeline import analyze
        a = analyze(audio, use_cache=False, beat_checkpoint=beat_checkpoint)
        return a.beats, a.downbeats, a.bpm, a.meta.get("beats_per_bar"), a.meta.get("bpm_range")
    from graph_runtime.analysis import beat_grid, beat_this_runner, decode, features, spectral, tonal
    sr, fps = spectral.ANALYSIS_SR, spectral.FPS
    track = decode.decode_for_analysis(audio)
    mix = decode.resample(track.mono(), track.sr, sr)
    mag = spectral.stft_magnitude(mix)
    rms = spectral.rms(mag)
    active = features.activity(rms, mix_peak=float(rms.max(initial=0.0)), fps=fps).astype(bool)
    chroma = tonal.chroma(mag, active, sr=sr, n_fft=spectral.N_FFT)
    ckpt = beat_this_runner.find_checkpoint(beat_checkpoint)
    if ckpt:
        b, d = beat_this_runner.track(mix, sr=sr, checkpoint=ckpt)
        g = beat_grid.check_grid(b, d, mag, sr=sr, fps=fps, chroma=chroma)
    else:
        g = beat_grid.track_grid(mag, sr=sr, fps=fps, chroma=chroma)
    return g.beats, g.downbeats, g.bpm, g.beats_per_bar, list(g.bpm_range)


def f_measure(ref, est) -> float:
    import mir_eval
    import numpy as np
    ref = mir_eval.beat.trim_beats(np.asarray(ref, float))
    est = mir_eval.beat.trim_beats(np.asarray(est, float))
    return float(mir_eval.beat.f_measure(ref, est))


def score_case(name: str, audio: str, truth_path: str, *, full: bool, beat_checkpoint=None,
               live: bool = False, lead_in: float = 0.0, noise_dbfs: float | None = None,
               scratch: str | None = None, cut_from: str | None = None) -> dict:
    """cut_from: with lead_in, the audio whose first lead_in s come before this case's
    (a cut) instead of silence."""
    import numpy as np
    truth = read_truth(truth_path)
    if cut_from is not None:
        from .lead_in import with_cut_in
        audio = with_cut_in(audio, cut_from, lead_in, scratch)
    elif lead_in > 0 or noise_dbfs is not None:
        from .lead_in import with_lead_in
        audio = with_lead_in(audio, lead_in, scratch, noise_dbfs=noise_dbfs)
    start = time.perf_counter()
    beats_s, downs, bpm, bpb, bpm_range = grid_of(audio, full=full, beat_checkpoint=beat_checkpoint,
                                                  live=live)
    beats_s = np.asarray(beats_s, float) - lead_in           # on the case's own clock
    downs = np.asarray(downs, float) - lead_in
    took = time.perf_counter() - start
    from graph_runtime.analysis.beat_eval import lock_and_off_beat
    lock_s, off_s = lock_and_off_beat(truth["beats"], beats_s)
    ibi = np.diff(truth["beats"])
    if live:     # the live tempo is the clock's when the file ends: the truth's there too (a ramp)
        ibi = ibi[-LIVE_TEMPO_BEATS:]
    true_bpm = float(60.0 / np.median(ibi)) if len(ibi) else float(truth["bpm"] or 0.0)
    return {"case": name, "beat_f1": round(f_measure(truth["beats"], beats_s), 4),
            "downbeat_f1": round(f_measure(truth["downbeats"], downs), 4),
            "bpm": round(float(bpm), 2), "true_bpm": round(true_bpm, 2),
            "bpm_error": round(abs(bpm - true_bpm) / true_bpm, 4) if true_bpm else None,
            "beats_per_bar": bpb, "true_beats_per_bar": truth["beats_per_bar"],
            "bpm_range": [round(float(x), 2) for x in (bpm_range or [0.0, 0.0])],
            "lock_s": None if lock_s is None else round(lock_s, 2), "off_beat_s": round(off_s, 2),
            "seconds": round(took, 3)}


def _means(rows: list[dict]) -> dict:
    locked = [r["lock_s"] for r in rows if r["lock_s"] is not None]
    return {"beat_f1": round(sum(r["beat_f1"] for r in rows) / len(rows), 4),
            "downbeat_f1": round(sum(r["downbeat_f1"] for r in rows) / len(rows), 4),
            "lock_s": round(sum(locked) / len(locked), 2) if locked else None,
            # the median too: most cases lock within a few beats, a few ambiguous ones pull the mean
            "lock_median_s": round(float(statistics.median(locked)), 2) if locked else None,
            "never_locked": len(rows) - len(locked),
            "off_beat_s": round(sum(r["off_beat_s"] for r in rows) / len(rows), 2),
            "bpm_error": round(sum(r["bpm_error"] or 0.0 for r in rows) / len(rows), 4),
            "max_bpm_error": round(max(r["bpm_error"] or 0.0 for r in rows), 4),   # "within 2 %" is per case
            "min_beat_f1": round(min(r["beat_f1"] for r in rows), 4)}


def cmd_bench_beats(args) -> int:
    from graph_runtime.analysis.errors import AnalysisError
    sets = []
    for folder in args.cases:
        if not os.path.isdir(folder):
            print(f"hambajuba: {folder}: is not a folder; give a folder of cases "
                  "(each with mix.flac and truth.json)", file=sys.stderr)
            return 2
        cases = find_cases(folder)
        if not cases:
            print(f"hambajuba: {folder}: no cases found (folders with mix.flac and truth.json)",
                  file=sys.stderr)
            return 2
        sets.append((folder, cases))
    if args.noise_dbfs is not None and not args.lead_in > 0:
        print("hambajuba: --noise-dbfs needs --lead-in S (the seconds of noise before each case)",
              file=sys.stderr)
        return 2
    if args.cut_in and (args.lead_in or args.noise_dbfs is not None):
        print("hambajuba: --cut-in and --lead-in are two starts; give one", file=sys.stderr)
        return 2
    rows, per_set = [], []
    scratch = tempfile.TemporaryDirectory(prefix="hambajuba-lead-in-")
    try:
        for folder, cases in sets:
            before = [cases[k - 1][1] if args.cut_in else None for k in range(len(cases))]
            mine = [score_case(name, audio, truth, full=args.full,
                               beat_checkpoint=args.beat_checkpoint, live=args.live,
                               lead_in=args.cut_in or args.lead_in, noise_dbfs=args.noise_dbfs,
                               scratch=scratch.name, cut_from=cut_from)
                    for (name, audio, truth), cut_from in zip(cases, before)]
            for r in mine:
                r["set"] = os.path.basename(os.path.normpath(folder))
            per_set.append({"set": mine[0]["set"], "n": len(mine), **_means(mine)})
            rows += mine
    except AnalysisError as e:
        print(f"hambajuba: {e}", file=sys.stderr)
        return 2
    finally:
        scratch.cleanup()
    doc = {**_means(rows), "sets": per_set, "cases": rows}
    if args.lead_in or args.noise_dbfs is not None:
        doc["lead_in_s"], doc["noise_dbfs"] = args.lead_in, args.noise_dbfs
    if args.cut_in:
        doc["cut_in_s"] = args.cut_in
    if args.json:
        print(json.dumps(doc))
        return 0
    print_table(doc)
    return 0


def print_table(doc: dict) -> None:
    print(f"{'case':<30} {'beat F1':>8} {'down F1':>8} {'bpm':>7} {'truth':>7} {'err':>6} "
          f"{'meter':>6} {'lock s':>7} {'off s':>6}")
    for r in doc["cases"]:
        err = f"{100 * r['bpm_error']:.1f}%" if r["bpm_error"] is not None else "-"
        meter = f"{r['beats_per_bar']}/{r['true_beats_per_bar']}"
        lock = "never" if r["lock_s"] is None else f"{r['lock_s']:.1f}"
        print(f"{r['case']:<30} {r['beat_f1']:8.3f} {r['downbeat_f1']:8.3f} {r['bpm']:7.1f} "
              f"{r['true_bpm']:7.1f} {err:>6} {meter:>6} {lock:>7} {r['off_beat_s']:6.1f}")
    for m in doc["sets"] + [dict(doc, set="all", n=len(doc["cases"]))]:
        lock = "-" if m["lock_s"] is None else f"{m['lock_s']:.1f}"
        median = "-" if m["lock_median_s"] is None else f"{m['lock_median_s']:.1f} s"
        print(f"{'mean ' + m['set']:<30} {m['beat_f1']:8.3f} {m['downbeat_f1']:8.3f} "
              f"{'':>7} {'':>7} {100 * m['bpm_error']:5.1f}% {'':>6} {lock:>7} "
              f"{m['off_beat_s']:6.1f}   ({m['n']} cases, min beat F1 {m['min_beat_f1']:.3f}, "
              f"lock median {median}, tempo error max {100 * m['max_bpm_error']:.1f}%, "
              f"never locked {m['never_locked']})")

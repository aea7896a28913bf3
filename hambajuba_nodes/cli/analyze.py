"""`hambajuba analyze TRACK` and `hambajuba bench analysis TRACK`.

Exit codes as in cli.py: 0 done, 2 bad input (one line naming the file and
what to do), 1 anything else. Progress bars (tqdm, on stderr) appear for
stages that run longer than a second.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import time


class _Bars:
    """progress(stage, done, total) -> one tqdm bar per stage, shown after 1 s."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.stage = None
        self.bar = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=f"analysis: {stage}", delay=1.0, leave=False,
                            file=sys.stderr, unit="step")
        if self.bar is not None and total != self.bar.total:  # learnt inside the stage (Demucs)
            self.bar.total = total
        if self.bar is not None and done > self.bar.n:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar = None


def _add_track_options(p) -> None:
    p.add_argument("track", metavar="TRACK", help="audio file (wav, flac, ogg, mp3, ...)")
    p.add_argument("--stems", metavar="DIR", default=None,
                   help="folder of stem files (bass, drums, vocals, other) to use instead of separating")
    p.add_argument("--separator", choices=("demucs", "approx", "auto"), default="auto",
                   help="demucs (htdemucs_ft weights needed), approx (HPSS + band filters), "
                        "auto: demucs when its weights are found, else approx (default)")
    p.add_argument("--demucs-weights", metavar="DIR", default=None,
                   help="folder with htdemucs_ft weights (.safetensors or .th)")
    p.add_argument("--beat-checkpoint", metavar="FILE", default=None,
                   help="Beat This! checkpoint (default: the torch hub cache, else the built-in tracker)")


def add_analyze_parser(subparsers) -> None:
    p = subparsers.add_parser("analyze", help="analyse a track once (cached): stems, beats, channels")
    _add_track_options(p)
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.add_argument("--live", action="store_true",
                   help="run the causal live analyser over TRACK as fast as it goes (no cache): "
                        "beats = what the online tracker emitted, bpm = its final estimate")
    p.add_argument("--click", metavar="OUT.wav", default=None,
                   help="also write the track with a click on every beat (downbeats accented) "
                        "to OUT.wav, to check the grid by ear")
    from .scale import add_ray_options

    add_ray_options(p, what="analyse TRACK, or every track in the folder TRACK, in parallel")
    from .beats import add_grid_options
    add_grid_options(p)
    p.set_defaults(func=cmd_analyze)


def add_bench_analysis_parser(bench_subparsers) -> None:
    p = bench_subparsers.add_parser("analysis", help="time every analysis stage on a track (no cache)")
    _add_track_options(p)
    p.add_argument("--json", action="store_true", help="print the timings as JSON")
    p.set_defaults(func=cmd_bench_analysis)


def _run(args, *, use_cache: bool):
    from graph_runtime.analysis.pipeline import analyze
    logging.basicConfig(format="hambajuba: warning: %(message)s", level=logging.WARNING,
                        stream=sys.stderr)
    bars = _Bars(enabled=sys.stderr.isatty() or not getattr(args, "json", False))
    try:
        return analyze(args.track, stems_dir=args.stems, separator=args.separator,
                       demucs_weights=args.demucs_weights, beat_checkpoint=args.beat_checkpoint,
                       progress=bars, use_cache=use_cache)
    finally:
        bars.close()


def _fail(e: Exception) -> int:
    from graph_runtime.analysis.errors import AnalysisError
    if isinstance(e, AnalysisError):
        print(f"hambajuba: {e}", file=sys.stderr)
        return 2
    print(f"hambajuba: analysis failed: {type(e).__name__}: {e}; "
          "re-run with the same file, and report it if it repeats", file=sys.stderr)
    return 1


def summary(a) -> dict:
    """The --json document."""
    return {
        "bpm": round(float(a.bpm), 3),
        "beats": [round(float(b), 4) for b in a.beats],
        "downbeats": [round(float(b), 4) for b in a.downbeats],
        "duration": round(float(a.meta.get("duration", a.duration)), 4),
        "stems": list(a.stems),
        "channels": sorted(k for k in a.data if not k.startswith("class/")),
        "cache": {"path": a.meta.get("cache_path"), "hit": bool(a.meta.get("cache_hit"))},
        "separator": a.meta.get("separator"),
        "beat_tracker": a.meta.get("beat_tracker"),
        "pitch_tracker": a.meta.get("pitch_tracker"),
        **_grid_summary(a),   # tempo_candidates, bpm_range, beats_per_bar, ...
    }


def _grid_summary(a) -> dict:
    from .beats import grid_summary
    return grid_summary(a)


def _write_click(args, a) -> int:
    """--click OUT.wav: the track with the grid's clicks; 0 done (or not asked), 2 failed."""
    out = getattr(args, "click", None)
    if not out:
        return 0
    from graph_runtime.analysis.click import write_click_track
    from graph_runtime.analysis.decode import decode_for_analysis
    try:
        track = decode_for_analysis(args.track)
        write_click_track(out, track.samples, track.sr, a.beats, a.downbeats)
    except Exception as e:   # one line: the track was analysed, the click file is what failed
        print(f"hambajuba: {out}: cannot write the click track ({type(e).__name__}: {e})",
              file=sys.stderr)
        return 2
    if not args.json:
        print(f"click track written to {out}")
    return 0


def cmd_analyze(args) -> int:
    if getattr(args, "live", False):
        return _cmd_analyze_live(args)
    if getattr(args, "ray", None) is not None or os.path.isdir(args.track):
        from .scale import cmd_analyze_library

        return cmd_analyze_library(args)
    from .beats import save_grid_flags
    if save_grid_flags(args):   # --downbeat-shift / --tempo-x2 / ...: the correction store
        return 2
    start = time.perf_counter()
    try:
        a = _run(args, use_cache=True)
    except Exception as e:  # one line, never a traceback, for bad input
        return _fail(e)
    if _write_click(args, a):
        return 2
    if args.json:
        print(json.dumps(summary(a)))
        return 0
    took = time.perf_counter() - start
    sep = a.meta.get("separator")
    note = " (approximate: HPSS + band filters)" if sep == "approx" else ""
    print(f"{args.track}: {a.meta.get('duration', a.duration):.1f} s, {a.bpm:.1f} BPM, "
          f"{len(a.beats)} beats, {len(a.downbeats)} downbeats")
    print(f"  separator: {sep}{note}; beats: {a.meta.get('beat_tracker')}; "
          f"pitch: {', '.join(f'{k} {v}' for k, v in a.meta.get('pitch_tracker', {}).items())}")
    state = "loaded from" if a.meta.get("cache_hit") else "saved to"
    print(f"  {len(a.stems)} stems, {len(a.data)} arrays, {state} {a.meta.get('cache_path')} "
          f"in {took:.1f} s")
    return 0


def _cmd_analyze_live(args) -> int:
    """`analyze TRACK --live`: the live path over a file; the offline JSON keys."""
    from graph_runtime.live.replay import analyse_file
    try:
        a = analyse_file(args.track)
    except Exception as e:  # one line, never a traceback, for bad input
        return _fail(e)
    if _write_click(args, a):
        return 2
    if args.json:
        print(json.dumps(summary(a)))
        return 0
    print(f"{args.track} (live analyser): {a.meta['duration']:.1f} s, {a.bpm:.1f} BPM "
          f"(confidence {a.meta['tempo_confidence']:.2f}), {len(a.beats)} beats, "
          f"{len(a.downbeats)} downbeats, analysed in {a.meta['analysis_seconds']:.1f} s")
    return 0


def cmd_bench_analysis(args) -> int:
    start = time.perf_counter()
    try:
        a = _run(args, use_cache=False)
    except Exception as e:
        return _fail(e)
    total = time.perf_counter() - start
    timings = dict(a.meta.get("timings", {}))
    cpu = dict(a.meta.get("cpu_timings", {}))
    duration = float(a.meta.get("duration", a.duration))
    if args.json:
        print(json.dumps({"track": args.track, "duration": duration, "total": total,
                          "realtime_factor": duration / total if total > 0 else None,
                          "stages": timings, "cpu_stages": cpu,
                          "separator": a.meta.get("separator"),
                          "beat_tracker": a.meta.get("beat_tracker"),
                          "pitch_tracker": a.meta.get("pitch_tracker")}))
        return 0
    print(f"analysis of {args.track} ({duration:.1f} s, separator {a.meta.get('separator')}, "
          f"beats {a.meta.get('beat_tracker')}):")
    print(f"  {'stage':<10} {'wall':>7}   {'cpu':>7}")
    for stage, sec in timings.items():
        print(f"  {stage:<10} {sec:7.2f} s {cpu.get(stage, 0.0):7.2f} s")
    other = total - sum(timings.values())
    print(f"  {'other':<10} {other:7.2f} s            (planning, hashing)")
    print(f"  {'total':<10} {total:7.2f} s {sum(cpu.values()):7.2f} s  "
          f"real-time factor {duration / total:.1f}x")
    print("  (cpu = seconds over all threads; wall time also depends on what else runs)")
    return 0

"""`hambajuba audio devices` and `hambajuba bench live [FILE]`.

Exit codes: 0 done, 2 bad input (one line), 1 anything else.
"""
from __future__ import annotations

import json
import sys


def add_audio_parser(subparsers) -> None:
    p = subparsers.add_parser("audio", help="audio devices for live input")
    sub = p.add_subparsers(dest="audio_command", metavar="ACTION")
    d = sub.add_parser("devices", help="list audio inputs and outputs")
    d.add_argument("--json", action="store_true", help="print the list as JSON")
    d.set_defaults(func=cmd_devices)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def cmd_devices(args) -> int:
    from graph_runtime.live.input import LiveInputError, list_devices
    try:
        devices = list_devices()
    except LiveInputError as e:
        print(f"hambajuba: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(devices))
        return 0
    if not devices:
        print("no audio devices found (use --input FILE to rehearse with a file)")
        return 0
    for d in devices:
        kind = ", ".join(k for k, n in (("in", d["inputs"]), ("out", d["outputs"])) if n)
        print(f"{d['index']:3d}  {d['name']}  [{kind}: {d['inputs']} in / {d['outputs']} out, "
              f"{d['default_samplerate']:.0f} Hz, {d['hostapi']}]")
    return 0


def add_bench_live_parser(bench_subparsers) -> None:
    p = bench_subparsers.add_parser("live", help="cost per 10 ms block and latency of the live analysis")
    p.add_argument("file", metavar="FILE", nargs="?", default=None,
                   help="audio file fed through the live path (default: the demo track)")
    p.add_argument("--seconds", type=float, default=None, help="only the first SECONDS of it")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--long", type=float, default=None, metavar="MINUTES",
                   help="instead: MINUTES of a 126 BPM drum loop fed as fast as it goes: memory "
                        "growth and the clock's drift (graph_runtime/live/long_run.py)")
    p.set_defaults(func=cmd_bench_live)


def cmd_bench_live_long(args) -> int:
    from graph_runtime.live import long_run
    if not 1.0 <= args.long <= 600.0:
        print("hambajuba bench live: --long must be 1..600 minutes", file=sys.stderr)
        return 2
    r = long_run.run(args.long)
    if args.json:
        print(json.dumps(r))
        return 0
    print(f"live analysis, {r['minutes_fed']} min fed fast ({r['wall_s']} s): resident memory "
          f"+{r['rss_growth_bytes'] / 1024:.0f} KiB over the last {r['minutes_measured']} min "
          f"(median {r['rss_growth_per_minute_median'] / 1024:.0f} KiB a minute); "
          f"tempo {r['bpm']} BPM ({100 * r['bpm_error']:.2f} % off 126); last beat "
          f"{r['off_grid_last_ms']} ms off the grid (at most {r['off_grid_max_ms']} ms)")
    return 0


def cmd_bench_live(args) -> int:
    if args.long is not None:
        return cmd_bench_live_long(args)

    from graph_runtime.analysis.decode import decode_for_analysis
    from graph_runtime.analysis.errors import AnalysisError
    from graph_runtime.live import bench
    path = args.file
    if path is None:
        from hambajuba_nodes.content.demo_track import ensure_demo
        path = str(ensure_demo().path)
    try:
        track = decode_for_analysis(path)
    except AnalysisError as e:
        print(f"hambajuba: {e}", file=sys.stderr)
        return 2
    x = track.frames_first()
    if args.seconds is not None:
        x = x[:int(args.seconds * track.sr)]
    try:
        figures = bench.run(x, track.sr)
    except ValueError as e:
        print(f"hambajuba: {path}: {e}", file=sys.stderr)
        return 2
    figures["file"] = path
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"live analysis of {path} ({figures['duration_s']:.1f} s, {figures['stems']} stems, "
          f"{figures['blocks']} blocks of {figures['block_ms']:.0f} ms):")
    print(f"  block cost  p50 {figures['block_p50_ms']:.2f} ms  p99 {figures['block_p99_ms']:.2f} ms  "
          f"max {figures['block_max_ms']:.2f} ms (wall)")
    print(f"              p50 {figures['block_cpu_p50_ms']:.2f} ms  p99 {figures['block_cpu_p99_ms']:.2f} ms "
          "(CPU of the worker thread)")
    print(f"  latency     p99 {figures['latency_ms']:.1f} ms  mean {figures['latency_mean_ms']:.1f} ms "
          "(sample enters the ring -> its channels readable)")
    print(f"              p99 {figures['latency_cpu_ms']:.1f} ms with each block costing its CPU time "
          "(the worker on a core of its own)")
    print(f"  real-time factor {figures['realtime_factor']:.1f}x; final tempo {figures['bpm']:.1f} BPM")
    return 0

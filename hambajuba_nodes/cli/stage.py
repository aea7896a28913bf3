"""`hambajuba monitors`, `hambajuba bench stage`, and perform's stage flags.

    hambajuba perform TRACK --output-window [--monitor N] [--fullscreen]
                            --serve-output [HOST:]PORT  --record OUT.mp4
"""
from __future__ import annotations

import argparse
import errno
import json
import socket
import sys


def add_stage_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("stage (projector, streaming, recording)")
    g.add_argument("--output-window", action="store_true",
                   help="show the image alone in its own window (F9 in the window)")
    g.add_argument("--monitor", type=int, default=None, metavar="N",
                   help="with --output-window: put it on monitor N (`hambajuba monitors`)")
    g.add_argument("--fullscreen", action="store_true",
                   help="with --output-window: fullscreen on that monitor (0 unless --monitor)")
    g.add_argument("--serve-output", default=None, metavar="[HOST:]PORT",
                   help="serve the image as MJPEG at http://HOST:PORT/stream.mjpg "
                        "(HOST defaults to 127.0.0.1: this machine only)")
    g.add_argument("--record", default=None, metavar="OUT.mp4",
                   help="record what is shown and heard (F10 in the window stops/starts)")


def check_stage_flags(args, problems: list[str]) -> None:
    from graph_runtime.stage.mjpeg import StageError, parse_address
    from graph_runtime.stage.recorder import check_path

    if (args.monitor is not None or args.fullscreen) and not args.output_window:
        problems.append("--monitor and --fullscreen go with --output-window")
    if args.monitor is not None and args.monitor < 0:
        problems.append(f"--monitor {args.monitor}: monitors count from 0 (`hambajuba monitors`)")
    if args.serve_output:
        try:
            host, port = parse_address(args.serve_output)
            if port_in_use(host, port):
                problems.append(f"--serve-output: port {port} on {host} is in use; "
                                f"choose another with --serve-output PORT")
        except StageError as e:
            problems.append(str(e))
    if args.record:
        reason = check_path(args.record)
        if reason:
            problems.append(f"--{reason}")


def port_in_use(host: str, port: int) -> bool:
    if port == 0:
        return False
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        try:
            s.bind((host, port))
        except OSError as e:
            return e.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def stage_kwargs(args) -> dict:
    return {"output_window": args.output_window, "monitor": args.monitor,
            "fullscreen": args.fullscreen, "serve_output": args.serve_output, "record": args.record}


def add_monitors_parser(sub) -> None:
    p = sub.add_parser("monitors", help="list the monitors an output window can go on")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_monitors)


def run_monitors(args) -> int:
    from hambajuba_nodes.editor.display import has_display

    if not has_display():
        print("hambajuba monitors: no display (set DISPLAY)", file=sys.stderr)
        return 1
    from hambajuba_nodes.editor.stage_menu import list_monitors, monitor_line

    mons, problem = list_monitors()
    if problem and not mons:
        print(f"hambajuba {problem}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(mons))
    else:
        for m in mons:
            print(monitor_line(m))
    return 0


def add_bench_stage_parser(sub) -> None:
    p = sub.add_parser("stage", help="cost of the output window ring, MJPEG and recording")
    p.add_argument("--json", action="store_true", help="one JSON line")
    p.set_defaults(func=run_bench_stage)


def run_bench_stage(args) -> int:
    from graph_runtime.stage.bench import bench_stage

    r = bench_stage()
    if args.json:
        print(json.dumps(r, sort_keys=True))
        return 0
    print(f"stage, {r['size']}x{r['size']} RGBA (load average {r['load_avg']} on {r['cpus']} CPUs)\n"
          f"  shared-memory copy p99     {r['shm_copy_p99_ms']:.3f} ms   (target <= 0.3; "
          f"CPU time p99 {r['shm_copy_cpu_p99_ms']:.3f} ms)\n"
          f"  MJPEG encode p99           {r['mjpeg_encode_p99_ms']:.2f} ms   (its own thread)\n"
          f"  MJPEG, main thread p99     {r['mjpeg_main_thread_p99_ms']:.3f} ms\n"
          f"  recording, main thread p99 {r['record_main_thread_p99_ms']:.3f} ms   (target <= 0.5; "
          f"p50 {r['record_main_thread_p50_ms']:.3f} ms, CPU time p99 "
          f"{r['record_main_thread_cpu_p99_ms']:.3f} ms; {r['record_dropped']} frames dropped)\n"
          f"  recording lag              p50 {r['record_lag_p50_s']:.2f} s, max {r['record_lag_max_s']:.2f} s "
          f"behind the show (beyond its 0.15 s margin; {r['record_encoded_fps']:.0f} fps encoded)\n"
          f"  recording stop             {r['record_stop_s']:.2f} s to a finished file (target <= 2)")
    if "window_latency_p99_ms" in r:
        print(f"  output window, publish to swap p99 {r['window_latency_p99_ms']:.2f} ms "
              f"(one display frame at 60 Hz: 16.7 ms)")
    return 0

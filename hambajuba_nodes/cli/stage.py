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
    g.add_argument("--serve-output-token-file", default=None, metavar="F",
                   help="with --serve-output beyond this machine: file whose first line is the "
                        "token viewers give once as ?token=... (the same rules as `serve`)")
    g.add_argument("--web", default=None, metavar="[HOST:]PORT",
                   help="serve the web control page for phones and tablets (HOST defaults to "
                        "127.0.0.1; any other needs --web-token-file)")
    g.add_argument("--web-token-file", default=None, metavar="F",
                   help="with --web: file whose first line is the token (the join URL carries it)")
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
    args.serve_token = _token(args.serve_output, args.serve_output_token_file, "--serve-output",
                              "--serve-output-token-file", problems)
    args.web_token = _token(args.web, args.web_token_file, "--web", "--web-token-file", problems)
    if args.web:
        try:
            host, port = parse_address(args.web, flag="--web")
            if port_in_use(host, port):
                problems.append(f"--web: port {port} on {host} is in use; choose another with --web PORT")
        except StageError as e:
            problems.append(str(e))
    if args.record:
        reason = check_path(args.record)
        if reason:
            problems.append(f"--{reason}")


def _token(address, token_file, flag: str, token_flag: str, problems: list[str]) -> bytes | None:
    """The token for a site (None on loopback without one); beyond loopback it is required."""
    from graph_runtime.stage.http.access import AccessError, check_bind, read_token
    from graph_runtime.stage.mjpeg import StageError, parse_address

    if token_file and not address:
        problems.append(f"{token_flag} goes with {flag}")
        return None
    if not address:
        return None
    try:
        token = read_token(token_file, token_flag) if token_file else None
        check_bind(parse_address(address, flag=flag)[0], token, flag, token_flag)
    except (AccessError, StageError) as e:
        if str(e) not in problems:
            problems.append(str(e))
        return None
    return token


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
            "fullscreen": args.fullscreen, "serve_output": args.serve_output, "record": args.record,
            "serve_token": getattr(args, "serve_token", None), "web": args.web,
            "web_token": getattr(args, "web_token", None)}


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


def add_bench_web_parser(sub) -> None:
    p = sub.add_parser("web", help="web control surface: fader -> FrameParams latency, preview fps, "
                                   "20 clients against the window's frame rate")
    p.add_argument("--messages", type=int, default=600)
    p.add_argument("--rate", type=float, default=60.0, help="fader moves per second")
    p.add_argument("--seconds", type=float, default=5.0, help="length of each load phase")
    p.add_argument("--json", action="store_true", help="one JSON line")
    p.set_defaults(func=run_bench_web)


def run_bench_web(args) -> int:
    if not 10 <= args.messages <= 10000 or not 1 <= args.rate <= 120 or not 2 <= args.seconds <= 120:
        print("hambajuba bench web: --messages 10..10000, --rate 1..120, --seconds 2..120",
              file=sys.stderr)
        return 2
    from hambajuba_nodes.cli.bench_web import bench_web

    r = bench_web(args.messages, args.rate, 60.0, args.seconds)
    if args.json:
        print(json.dumps(r, sort_keys=True))
        return 0
    print(f"web: {r['applied']}/{r['messages']} fader moves reached a FrameParams: p50 {r['p50_ms']} ms, "
          f"p99 {r['p99_ms']} ms (target {r['target_p99_ms']} ms); WebSocket to inbox p99 "
          f"{r['post_p99_ms']} ms\n"
          f"  preview to {r['preview_clients']} clients: {r['preview_fps_per_client']} fps each "
          f"(slowest {r['preview_fps_min']})\n"
          f"  window: {r['window_fps_0_clients']} fps alone, {r['window_fps_20_clients']} fps with 20 "
          f"clients ({r['window_slowdown_pct']} % slower; bound 10 %)  "
          f"(load average {r['load_avg']} on {r['cpus']} CPUs)")
    return 0

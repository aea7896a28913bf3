"""`hambajuba bench ui-analysis`: the window's frame rate while a track is analysed."""
from __future__ import annotations

import json


def add_bench_analysis_ui_parser(subparsers):
    p = subparsers.add_parser("ui-analysis", help="window frame rate idle vs while a track is analysed")
    p.add_argument("--minutes", type=float, default=5.0, help="length of the generated track")
    p.add_argument("--in-process", action="store_true",
                   help="analyse on the window's loader thread (the old way) instead of a niced process")
    p.add_argument("--limit", type=float, default=600.0, help="seconds to wait for the analysis")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_bench_ui_analysis)
    return p


def run_bench_ui_analysis(args) -> int:
    if not 0.05 <= args.minutes <= 60:
        print("hambajuba bench ui-analysis: --minutes must be in 0.05..60")
        return 2
    from hambajuba_nodes.cli.bench_ui_analysis import bench_ui_analysis

    r = bench_ui_analysis(args.minutes, in_process=args.in_process, limit_s=args.limit)
    if args.json:
        print(json.dumps(r, sort_keys=True))
    else:
        print(f"window idle {r['idle_fps']} fps, while analysing ({r['mode']}) {r['analysing_fps']} fps "
              f"= {r['ratio'] * 100:.0f}% (target >= 80%); analysis {r['analysis_s']} s of a "
              f"{r['minutes']}-minute track on {r['cpus']} CPUs")
    return 0 if r["analysed"] else 1

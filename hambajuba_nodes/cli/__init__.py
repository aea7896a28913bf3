"""`hambajuba ...`: the command line, one module per command group.

Every command returns an exit code: 0 done, 2 bad input (one line per problem,
naming file, node and port or param), 1 anything else with a message saying
what to do next. Heavy libraries (torch, dearpygui) are imported only by the
commands that need them, so `hambajuba --help` stays fast.

A group module adds its subcommands with `add_*_parser(subparsers)`; the table
below says where each one hangs (top level, `bench ...` or `patch ...`).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

# (group, module in this package, function adding the parser)
_COMMANDS = [
    ("patch", "patch", "add_validate_parser"),
    ("patch", "patch", "add_info_parser"),
    ("patch", "patch_edit", "add_patch_auto_parser"),
    ("bench", "patch", "add_bench_bridge_parser"),
    ("bench", "analyze", "add_bench_analysis_parser"),
    ("bench", "models", "add_bench_engine_parser"),
    ("bench", "perform", "add_bench_ui_parser"),
    ("bench", "render", "add_bench_render_parser"),
    ("top", "analyze", "add_analyze_parser"),
    ("top", "models", "add_models_parser"),
    ("top", "models", "add_features_parser"),
    ("top", "perform", "add_perform_parser"),
    ("top", "render", "add_render_parser"),
    ("top", "render", "add_demo_parser"),
    ("top", "live", "add_audio_parser"),
    ("bench", "live", "add_bench_live_parser"),
    ("top", "scale", "add_batch_parser"),
    ("top", "remote", "add_serve_parser"),
    ("bench", "remote", "add_bench_remote_parser"),
    ("top", "stage", "add_monitors_parser"),
    ("bench", "stage", "add_bench_stage_parser"),
    ("bench", "stage", "add_bench_web_parser"),
    ("top", "control", "add_midi_parser"),
    ("top", "mcp", "add_mcp_parser"),
    ("bench", "control", "add_bench_control_parser"),
    ("bench", "control", "add_bench_clock_parser"),
    ("bench", "beats", "add_bench_beats_parser"),
    ("bench", "bench_edit", "add_bench_edit_parser"),
    ("bench", "bench_window", "add_bench_analysis_ui_parser"),
    ("top", "character", "add_character_parser"),
    ("bench", "character", "add_bench_character_parser"),
    ("bench", "bench_soak", "add_bench_soak_parser"),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hambajuba",
        description="Play SDXL-Turbo with music: a node patcher of SAE features.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    patch = sub.add_parser("patch", help="check, inspect and edit .patch files")
    bench = sub.add_parser("bench", help="benchmarks (speed figures live here, not in tests)")
    groups = {
        "top": sub,
        "patch": patch.add_subparsers(dest="patch_command", metavar="ACTION"),
        "bench": bench.add_subparsers(dest="bench_command", metavar="WHAT"),
    }
    for group, module, func in _COMMANDS:
        mod = importlib.import_module(f"{__name__}.{module}")
        getattr(mod, func)(groups[group])
    parser.set_defaults(_parser=parser)
    patch.set_defaults(_parser=patch)
    bench.set_defaults(_parser=bench)
    return parser


def _quiet_closed_pipe() -> int:
    """`hambajuba patch info F | head`: the reader left; exit quietly as Unix tools do."""
    try:  # stdout may still hold bytes Python will try to flush at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141  # 128 + SIGPIPE, what a shell reports for a closed pipe


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        args._parser.print_help()
        return 2
    try:
        code = int(func(args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _quiet_closed_pipe()
    except KeyboardInterrupt:
        print("hambajuba: interrupted", file=sys.stderr)
        return 130

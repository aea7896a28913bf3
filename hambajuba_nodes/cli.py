"""`hambajuba ...`: the command line.

Every command returns an exit code: 0 done, 2 bad input (one line per problem,
naming file, node and port or param), 1 anything else with a message saying
what to do next. Heavy libraries (torch, dearpygui) are imported only by the
commands that need them.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# (module, function) pairs that add subcommands; modules written by each area
_EXTENSIONS = {
    "top": [("hambajuba_nodes.cli_analysis", "add_analyze_parser"),
            ("hambajuba_nodes.cli_engine", "add_models_parser"),
            ("hambajuba_nodes.cli_engine", "add_features_parser"),
            ("hambajuba_nodes.cli_perform", "add_perform_parser"),
            ("hambajuba_nodes.cli_render", "add_render_parser"),
            ("hambajuba_nodes.cli_render", "add_demo_parser")],
    "bench": [("hambajuba_nodes.cli_analysis", "add_bench_analysis_parser"),
              ("hambajuba_nodes.cli_engine", "add_bench_engine_parser"),
              ("hambajuba_nodes.cli_perform", "add_bench_ui_parser"),
              ("hambajuba_nodes.cli_render", "add_bench_render_parser")],
    "patch": [("hambajuba_nodes.cli_nodes", "add_patch_auto_parser")],
}


def _extend(kind: str, subparsers) -> None:
    for module, func in _EXTENSIONS[kind]:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name == module:
                continue  # that area is not in this checkout
            raise
        add = getattr(mod, func, None)
        if add is not None:
            add(subparsers)


def build_parser() -> argparse.ArgumentParser:
    from . import cli_patch

    parser = argparse.ArgumentParser(
        prog="hambajuba",
        description="Play SDXL-Turbo with music: a node patcher of SAE features.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    patch = sub.add_parser("patch", help="check and inspect .patch files")
    psub = patch.add_subparsers(dest="patch_command", metavar="ACTION")
    cli_patch.add_validate_parser(psub)
    cli_patch.add_info_parser(psub)
    _extend("patch", psub)
    bench = sub.add_parser("bench", help="benchmarks (speed figures live here, not in tests)")
    bsub = bench.add_subparsers(dest="bench_command", metavar="WHAT")
    cli_patch.add_bench_bridge_parser(bsub)
    _extend("bench", bsub)
    _extend("top", sub)
    parser.set_defaults(_parser=parser)
    patch.set_defaults(_parser=patch)
    bench.set_defaults(_parser=bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        args._parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print("hambajuba: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""`hambajuba patch auto-chain FILE --stem bass --block down.2.1 [--feature N]`.

Adds source -> blended physics -> dance -> SAE sink (+ mask) for one stem,
chosen from the stem's classification (from --analysis, or the stem's name),
checks the result against the node registry and saves it atomically.
cli/__init__.py wires it in: add_patch_auto_parser(patch_subparsers).
"""
from __future__ import annotations

import argparse
import os
import sys

from graph_runtime.analysis.store import ALL_STEMS
from graph_runtime.graph.frame import BLOCKS, N_FEATURES


def _feature_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value < N_FEATURES:
        raise argparse.ArgumentTypeError(f"feature id {value} is outside 0-{N_FEATURES - 1}")
    return value


def add_patch_auto_parser(patch_subparsers) -> argparse.ArgumentParser:
    p = patch_subparsers.add_parser(
        "auto-chain", help="add source -> physics -> dance -> SAE block for one stem",
        description="Add an auto-configured chain for STEM on BLOCK to a patch: physics preset, "
                    "intensity source and mask are chosen from the stem's classification.")
    p.add_argument("file", help="the .patch to edit")
    p.add_argument("--stem", required=True, choices=ALL_STEMS)
    p.add_argument("--block", required=True, choices=BLOCKS)
    p.add_argument("--feature", type=_feature_id, default=None,
                   help="SAE feature id 0-5119 (default: a plausible one for the block)")
    p.add_argument("--analysis", default=None,
                   help="analysis cache (.npz) whose classification picks the chain")
    p.add_argument("--out", default=None, help="save here instead of overwriting FILE")
    p.add_argument("--new", action="store_true", help="start an empty patch if FILE does not exist")
    p.set_defaults(func=run_auto_chain)
    return p


def run_auto_chain(args) -> int:
    from graph_runtime.analysis.store import Analysis
    from graph_runtime.graph.compiler import check
    from graph_runtime.graph.patch import Patch, PatchError, load, save
    from hambajuba_nodes.content.auto_chain import auto_chain

    from ..registry import default_registry

    try:
        patch = Patch() if args.new and not os.path.exists(args.file) else load(args.file)
    except PatchError as e:
        for line in e.problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
    analysis = None
    if args.analysis:
        try:
            analysis = Analysis.load(args.analysis)
        except (OSError, ValueError, KeyError) as e:
            print(f"error: {args.analysis}: cannot read the analysis: {e}", file=sys.stderr)
            return 2
    try:
        added = auto_chain(patch, args.stem, args.block, analysis=analysis, feature_id=args.feature)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    problems = check(patch, default_registry()).errors
    if problems:
        for prob in problems:
            print(f"error: {prob}", file=sys.stderr)
        return 1
    out = args.out or args.file
    try:
        save(patch, out)
    except OSError as e:
        print(f"error: {out}: cannot save: {e.strerror or e}", file=sys.stderr)
        return 2
    print(f"{out}: added {', '.join(added)}")
    return 0

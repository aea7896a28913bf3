"""`hambajuba patch validate|info` and `hambajuba bench bridge`."""
from __future__ import annotations

import json
import sys
from collections import Counter

from graph_runtime.graph.compiler import CompileError, check, compile_patch
from graph_runtime.graph.patch import PatchError, load

from ..registry import default_registry


def _say(line: str) -> None:
    print(line, flush=True)


def _validate_one(path: str, registry) -> list[str]:
    """One line per problem, each naming the file and the node/port/param."""
    try:
        patch = load(path)
    except PatchError as e:
        return [p if p.startswith(path) else f"{path}: {p}" for p in e.problems]
    checked = check(patch, registry)
    problems = [f"{path}: {p}" for p in checked.problems
                if not p.warning or "unknown node type" in p.message]
    if problems:
        return problems
    from graph_runtime.analysis.store import synthetic
    try:  # prepare-time checks (slots per block, one prompt node, ...)
        compile_patch(patch, registry, analysis=synthetic(4.0))
    except CompileError as e:
        return [f"{path}: {p}" for p in e.problems]
    for p in checked.problems:
        print(f"{path}: {p}", file=sys.stderr)
    return []


def cmd_validate(args) -> int:
    registry = default_registry()
    bad = 0
    for path in args.files:
        problems = _validate_one(path, registry)
        for line in problems:
            _say(line)
        if problems:
            bad += 1
        elif not args.quiet:
            _say(f"{path}: ok")
    return 2 if bad else 0


def _describe_drives(patch, registry) -> list[str]:
    """What the patch steers: block sinks, prompt, noise and latent nodes."""
    lines = []
    for spec in patch.nodes:
        cls = registry.get(spec.type)
        if cls is None or cls.family not in ("sinks", "destinations", "noise"):
            continue
        shown = {k: v for k, v in spec.params.items() if not isinstance(v, list)}
        lines.append(f"  {spec.id} ({spec.type}) {json.dumps(shown, sort_keys=True)}")
    return lines


def cmd_info(args) -> int:
    registry = default_registry()
    try:
        patch = load(args.file)
    except PatchError as e:
        for p in e.problems:
            _say(p)
        return 2
    checked = check(patch, registry)
    families = Counter((registry.get(n.type).family if registry.get(n.type) else "unknown")
                       for n in patch.nodes)
    info = {
        "file": args.file,
        "title": patch.meta.get("title", ""),
        "nodes": len(patch.nodes),
        "links": len(patch.links),
        "families": dict(sorted(families.items())),
        "engine": patch.engine,
        "order": checked.order,
        "problems": [str(p) for p in checked.problems],
    }
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
        return 2 if checked.errors else 0
    _say(f"{args.file}: {info['title'] or '(untitled)'}")
    _say(f"  {len(patch.nodes)} nodes, {len(patch.links)} links; "
         + ", ".join(f"{k} {v}" for k, v in info["families"].items()))
    _say(f"  engine: {json.dumps(patch.engine, sort_keys=True)}")
    drives = _describe_drives(patch, registry)
    _say("drives:" if drives else "drives: nothing (no block sink, prompt or noise node)")
    for line in drives:
        _say(line)
    for p in checked.problems:
        _say(f"  {p}")
    return 2 if checked.errors else 0


def cmd_bench_bridge(args) -> int:
    import numpy as np

    from graph_runtime.analysis.store import synthetic
    from graph_runtime.graph.bench import bench_plan
    from hambajuba_nodes.content.bench_patch import bench_patch

    registry = default_registry()
    if args.patch:
        try:
            patch = load(args.patch)
        except PatchError as e:
            for p in e.problems:
                _say(p)
            return 2
    else:
        patch = bench_patch()
    analysis = _bench_analysis(synthetic, np)
    try:
        result = bench_plan(patch, registry, analysis, frames=args.frames, fps=args.fps)
    except CompileError as e:
        for p in e.problems:
            _say(f"{args.patch}: {p}")
        return 2
    result["patch"] = args.patch or "built-in 40-node bench patch"
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        _say(f"bridge: {result['nodes']} nodes, {result['frames']} frames of {result['patch']}")
        _say(f"  per frame: p50 {result['p50_us']} us, p99 {result['p99_us']} us, "
             f"max {result['max_us']} us")
    return 0


def _bench_analysis(synthetic, np):
    """A 3-minute synthetic analysis with moving channels (random walks), so
    nodes do real work: pitch changes, transients fire, stems come and go."""
    rng = np.random.default_rng(0)
    ana = synthetic(180.0, bpm=128.0)
    n = ana.n_frames
    for key in list(ana.data):
        if key.startswith("global/beat") or key.startswith("global/bar") or key.startswith("global/down"):
            continue
        name = key.rsplit("/", 1)[-1]
        if name in ("transient", "layer_entry", "activity"):
            ana.data[key] = (rng.random(n) < (0.05 if name != "activity" else 0.9)).astype(np.float32)
        elif name == "pitch_hz":
            ana.data[key] = (110.0 * 2 ** (rng.integers(0, 24, n) / 12)).astype(np.float32)
        else:
            walk = np.cumsum(rng.normal(0, 0.05, n))
            ana.data[key] = ((np.sin(walk) + 1) / 2).astype(np.float32)
    return ana


def add_validate_parser(sub) -> None:
    p = sub.add_parser("validate", help="check .patch files (exit 0 all valid, 2 otherwise)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    p.set_defaults(func=cmd_validate)


def add_info_parser(sub) -> None:
    p = sub.add_parser("info", help="what a patch holds and what it drives")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)


def add_bench_bridge_parser(sub) -> None:
    p = sub.add_parser("bridge", help="per-frame CPU time of a compiled patch")
    p.add_argument("--patch", metavar="FILE", help="patch to time (default: a built-in 40-node patch)")
    p.add_argument("--frames", type=_positive_int, default=5000)
    p.add_argument("--fps", type=float, default=50.0)
    p.add_argument("--json", action="store_true", help="print p50_us, p99_us, max_us, frames, nodes")
    p.set_defaults(func=cmd_bench_bridge)


def _positive_int(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 10_000_000:
        raise argparse.ArgumentTypeError("must be between 1 and 10000000")
    return value

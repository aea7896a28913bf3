"""The engine's commands: `hambajuba models ...`, `features ...`, `bench engine`.

    hambajuba models download [--dir D] [--part P ...]
    hambajuba models status [--dir D] [--json]
    hambajuba features search TEXT [--block B] [--category C] [--limit N]
    hambajuba features show BLOCK ID [--nearest K]
    hambajuba bench engine [--model preview|sdxl-turbo|sdxl-turbo-random|auto] [--frames N] [--json]

cli.py wires these in with add_models_parser, add_features_parser and
add_bench_engine_parser. Each command's `func(args) -> int` is its exit code:
0 done, 1 an EngineError (printed as one line, no traceback). torch is
imported only when a command runs, so `hambajuba --help` stays fast.
"""
from __future__ import annotations

import argparse
import json
import sys

from graph_runtime.graph.frame import BLOCKS as BLOCK_NAMES  # numpy only, no torch

BENCH_MODELS = ("auto", "preview", "sdxl-turbo", "sdxl-turbo-random")
FEATURE_MODELS = ("auto", "preview", "sdxl-turbo")
PREVIEW_BANNER = "(untrained preview: random SAEs and random labels; run `hambajuba models download`)"


def add_models_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("models", help="download or inspect the model weights")
    sub = p.add_subparsers(dest="models_command", required=True)
    d = sub.add_parser("download", help="fetch SDXL-Turbo, TAESDXL, the SAEs and labels from Hugging Face")
    d.add_argument("--dir", help="download into this folder instead of the hub cache")
    d.add_argument("--part", action="append", choices=("sdxl-turbo", "taesdxl", "sdxl-saes", "sae-labels"),
                   help="only this part (repeatable)")
    d.set_defaults(func=_cmd_models_download)
    s = sub.add_parser("status", help="say which weights are present and where")
    s.add_argument("--dir", help="also look in this folder")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_cmd_models_status)
    return p


def add_features_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("features", help="search and inspect SAE features")
    sub = p.add_subparsers(dest="features_command", required=True)
    s = sub.add_parser("search", help="features whose label matches TEXT (or a feature id)")
    s.add_argument("text")
    s.add_argument("--block", choices=BLOCK_NAMES)
    s.add_argument("--category")
    s.add_argument("--limit", type=int, default=20)
    _feature_source_args(s)
    s.set_defaults(func=_cmd_features_search)
    w = sub.add_parser("show", help="one feature: label, category, confidence, mean, neighbours")
    w.add_argument("block", help="one of " + ", ".join(BLOCK_NAMES))
    w.add_argument("id", type=int)
    w.add_argument("--nearest", type=int, default=5, help="how many nearest features by decoder cosine")
    _feature_source_args(w)
    w.set_defaults(func=_cmd_features_show)
    return p


def add_bench_engine_parser(bench_subparsers) -> argparse.ArgumentParser:
    p = bench_subparsers.add_parser("engine", help="engine frames per second, all four blocks steered")
    p.add_argument("--model", choices=BENCH_MODELS, default="auto",
                   help="sdxl-turbo-random: the real architecture with random weights (same FLOPs)")
    p.add_argument("--frames", type=int, default=100)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--device", help="cuda, cuda:1, cpu (default: cuda if available)")
    p.add_argument("--compile", default="auto",
                   choices=("auto", "none", "reduce-overhead", "default", "max-autotune-no-cudagraphs"),
                   help="auto: reduce-overhead (CUDA graphs) on a GPU, eager on a CPU")
    p.add_argument("--threads", type=int, help="CPU only: torch threads (1 is best on a busy small machine)")
    p.add_argument("--dir", help="local models folder")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_bench_engine)
    return p


# ---- commands --------------------------------------------------------------------------

def _cmd_models_download(args) -> int:
    from graph_runtime.engine.download import download, format_status
    return _guard(lambda: print(format_status(download(args.part, args.dir))))


def _cmd_models_status(args) -> int:
    from graph_runtime.engine.download import format_status, status_dict
    from graph_runtime.engine.models import status

    def show():
        found = status(args.dir)
        print(json.dumps(status_dict(found), indent=2) if args.json else format_status(found))
    return _guard(show)


def _cmd_features_search(args) -> int:
    def search():
        saes, labels, banner = _feature_source(args)
        hits = labels.search(args.text, block=args.block, category=args.category, limit=args.limit)
        if args.json:
            print(json.dumps({"source": labels.source, "preview": bool(banner),
                              "results": [_label_dict(h, saes) for h in hits]}, indent=2))
            return
        if banner:
            print(banner)
        if not hits:
            print(f"no feature label matches {args.text!r}"
                  + ("" if len(labels) else " (no labels present; features work by number)"))
        for h in hits:
            print(f"{h.block:8s} {h.id:5d}  {h.label}  [{h.category}, {h.confidence}]")
    return _guard(search)


def _cmd_features_show(args) -> int:
    def show():
        from graph_runtime.engine.errors import EngineError
        from graph_runtime.engine.labels import nearest_by_decoder
        block = _block_name(args.block)
        saes, labels, banner = _feature_source(args)
        sae = saes[block]
        if not 0 <= args.id < sae.n_features:
            raise EngineError(f"block {block}", f"feature id {args.id} out of range 0..{sae.n_features - 1}")
        lab = labels.get(block, args.id)
        near = nearest_by_decoder(sae.decoder, args.id, max(0, args.nearest)) if args.nearest > 0 else []
        info = {"block": block, "id": args.id, "label": lab.label if lab else None,
                "category": lab.category if lab else None, "confidence": lab.confidence if lab else None,
                "mean_activation": float(sae.means[args.id]),
                "nearest": [{"id": i, "cosine": round(c, 4), "label": labels.describe(block, i)}
                            for i, c in near], "preview": bool(banner)}
        if args.json:
            print(json.dumps(info, indent=2))
            return
        if banner:
            print(banner)
        print(f"{block} feature {args.id}: {info['label'] or '(no label; works by number)'}")
        if lab:
            print(f"  category {lab.category}, confidence {lab.confidence}")
        print(f"  mean activation {info['mean_activation']:.2f} (strength 1 = this much)")
        for n in info["nearest"]:
            print(f"  near {n['id']:5d}  cos {n['cosine']:+.3f}  {n['label']}")
    return _guard(show)


def _cmd_bench_engine(args) -> int:
    from graph_runtime.engine.bench import run_bench

    def bench():
        result = run_bench(args.model, frames=args.frames, size=args.size, device=args.device,
                           models_dir=args.dir, warmup=args.warmup, cpu_threads=args.threads,
                           compile=args.compile)
        print(json.dumps(result.as_dict(), indent=2) if args.json else result.summary())
    return _guard(bench)


# ---- helpers ---------------------------------------------------------------------------

def _feature_source_args(p) -> None:
    p.add_argument("--model", choices=FEATURE_MODELS, default="auto",
                   help="auto: the downloaded SAEs if present, else the untrained preview's")
    p.add_argument("--dir", help="local models folder")
    p.add_argument("--json", action="store_true")


def _feature_source(args):
    """(saes, labels, banner): the real SAEs and labels, or the preview's with a banner."""
    from graph_runtime.engine.errors import EngineError
    from graph_runtime.engine.models import load_features
    from graph_runtime.engine.preview import preview_features
    if args.model == "preview":
        return (*preview_features(), PREVIEW_BANNER)
    try:
        return (*load_features(args.dir), "")
    except EngineError:
        if args.model == "sdxl-turbo":
            raise
        return (*preview_features(), PREVIEW_BANNER)


def _block_name(text: str) -> str:
    from graph_runtime.engine.errors import EngineError
    from graph_runtime.graph.frame import BLOCK_PATHS
    by_path = {v: k for k, v in BLOCK_PATHS.items()}
    if text in BLOCK_PATHS:
        return text
    if text in by_path:
        return by_path[text]
    raise EngineError("features", f"unknown block {text!r}; blocks are {', '.join(BLOCK_PATHS)}")


def _label_dict(lab, saes) -> dict:
    return {"block": lab.block, "id": lab.id, "label": lab.label, "category": lab.category,
            "confidence": lab.confidence, "mean_activation": float(saes[lab.block].means[lab.id])}


def _guard(fn) -> int:
    """Run a command; an EngineError is one line on stderr and exit code 1."""
    from graph_runtime.engine.errors import EngineError
    try:
        fn()
    except EngineError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0

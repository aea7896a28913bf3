"""`hambajuba bench edit`: what an edit costs the window's main thread.

Through the same EditorModel and LiveSession (background builds on) the
window uses, on patches/default.patch with a synthetic analysis M minutes
long, frame by frame:

    param       a slider drag (merge key, one undo step): EditorModel.set_param
                plus that frame's LiveSession.update. Cycles through a dance
                stage, the prompt crossfader, a spring's kick and an LFO's
                rate when the patch has them (all live params).
    structural  add a Smooth node and link a source into it, then delete it:
                the commands, every LiveSession.update until the new plan is
                swapped in (a build needing new per-track work runs on a
                worker thread), and the next frame's advance (which compiles
                the meter twin: the heard time lags the seen time by 0.1 s,
                as with a slow engine).

Milliseconds of main-thread wall time, p99 over all edits (the `_cpu_`
figures: the main thread's CPU time, which a busy machine's other
processes do not inflate). As in the window,
what exists after loading (patch, track, caches) is moved out of the garbage
collector's sight (gc.freeze) before measuring.
"""
from __future__ import annotations

import gc
import json
import sys
import time

FRAME_S = 1.0 / 60.0
LAG_S = 0.1  # heard time behind seen time: a slow engine, so the meter twin runs too
REST_S = 0.002  # the rest of a window frame (drawing) between two updates


def measure_edits(patch, registry, analysis, *, edits: int = 200, fps: float = 60.0) -> dict:
    import numpy as np

    from graph_runtime.show.commands import EditorModel
    from graph_runtime.show.live_plan import LiveSession

    model = EditorModel(registry, patch)
    live = LiveSession(registry, fps=fps, background=True)
    live.follow(model)
    live.set_analysis(analysis)
    clock = _Clock(live, model)
    clock.until_swapped()
    if live.plan is None:
        raise ValueError("the patch does not compile: " + "; ".join(map(str, live.problems)))
    gc.collect()
    gc.freeze()
    targets = _slider_targets(model)
    if not targets:
        raise ValueError("the patch has no dance, prompt, spring or LFO node to drag a slider on")
    param = []  # (wall ms, cpu ms) per edit
    for i in range(edits):
        nid, name, lo, hi = targets[i % len(targets)]
        value = lo + (hi - lo) * ((i * 0.37) % 1.0)
        t0, c0 = time.perf_counter(), time.thread_time()
        model.set_param(nid, name, value, merge=("drag", nid, name))
        live.update(model.patch)
        param.append(((time.perf_counter() - t0) * 1e3, (time.thread_time() - c0) * 1e3))
        clock.frame()
    source = next((s.id for s in model.patch.nodes if s.type == "audio.source"), None)
    structural = []
    for _ in range(edits // 2):
        t0, c0 = time.perf_counter(), time.thread_time()
        added = model.add_node("shape.smooth", (0.0, 900.0))
        if source is not None:
            model.link((source, "energy_smooth"), (added, "x"))
        structural.append(clock.until_swapped(time.perf_counter() - t0, time.thread_time() - c0))
        t0, c0 = time.perf_counter(), time.thread_time()
        model.delete([added])
        structural.append(clock.until_swapped(time.perf_counter() - t0, time.thread_time() - c0))
    live.close()
    gc.unfreeze()
    out = {"edits": len(param) + len(structural), "compiles": live.compiles,
           "nodes": len(model.patch.nodes)}
    for kind, rows in (("param", param), ("structural", structural)):
        wall, cpu = np.array(rows).T
        out[f"{kind}_p99_ms"] = round(float(np.percentile(wall, 99)), 4)
        out[f"{kind}_median_ms"] = round(float(np.percentile(wall, 50)), 4)
        out[f"{kind}_p99_cpu_ms"] = round(float(np.percentile(cpu, 99)), 4)
    return out


class _Clock:
    """Window frames: advance the plans, then update (where swaps happen)."""

    def __init__(self, live, model) -> None:
        self.live, self.model, self.t = live, model, 1.0

    def frame(self) -> tuple[float, float]:
        """One frame; (wall, cpu) seconds its advance() took."""
        self.t += FRAME_S
        t0, c0 = time.perf_counter(), time.thread_time()
        self.live.advance(self.t, self.t - LAG_S, playing=True)
        spent = time.perf_counter() - t0, time.thread_time() - c0
        time.sleep(REST_S)
        return spent

    def until_swapped(self, wall: float = 0.0, cpu: float = 0.0,
                      max_s: float = 300.0) -> tuple[float, float]:
        """Run frames until a new plan is in; (wall ms, cpu ms) of the main
        thread: what the command took (given), every update() until then, and
        the first frame's advance() after it (which compiles the meter twin)."""
        generation, give_up = self.live.generation, time.monotonic() + max_s
        while time.monotonic() < give_up:  # a first build on a long track takes a while
            t0, c0 = time.perf_counter(), time.thread_time()
            self.live.update(self.model.patch)
            wall += time.perf_counter() - t0
            cpu += time.thread_time() - c0
            if self.live.generation != generation or not self.live.ok:
                break
            self.frame()
        w, c = self.frame()
        return (wall + w) * 1e3, (cpu + c) * 1e3


def _slider_targets(model) -> list[tuple[str, str, float, float]]:
    wanted = {"dance.dancer": ("stage_right", 5.0, 40.0), "dest.prompt": ("position", 0.0, 1.0),
              "physics.spring": ("kick", 0.0, 5.0), "time.lfo": ("rate", 0.1, 8.0)}
    out, seen = [], set()
    for spec in model.patch.nodes:
        if spec.type in wanted and spec.type not in seen:
            seen.add(spec.type)
            out.append((spec.id, *wanted[spec.type]))
    return out


def cmd_bench_edit(args) -> int:
    from graph_runtime.analysis.store import synthetic
    from graph_runtime.graph.patch import PatchError, load

    from ..registry import default_registry
    from .common import DEFAULT_PATCH

    path = args.patch or str(DEFAULT_PATCH)
    try:
        patch = load(path)
    except PatchError as e:
        for p in e.problems:
            print(p, file=sys.stderr)
        return 2
    analysis = synthetic(args.minutes * 60.0, bpm=124.0)
    try:
        result = measure_edits(patch, default_registry(), analysis, edits=args.edits)
    except ValueError as e:
        print(f"{path}: {e}", file=sys.stderr)
        return 2
    result.update(minutes=args.minutes, patch=path)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print(f"edit: {result['nodes']} nodes, {args.minutes:g}-minute track, "
              f"{result['edits']} edits, {result['compiles']} compiles")
        for kind in ("param", "structural"):
            print(f"  {kind + ' edit:':17s} p99 {result[kind + '_p99_ms']} ms "
                  f"(median {result[kind + '_median_ms']} ms; main-thread CPU p99 "
                  f"{result[kind + '_p99_cpu_ms']} ms)")
    return 0


def _minutes(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.05 <= value <= 240.0:
        raise argparse.ArgumentTypeError("minutes must be between 0.05 and 240")
    return value


def _edits(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 2 <= value <= 100_000:
        raise argparse.ArgumentTypeError("edits must be between 2 and 100000")
    return value


def add_bench_edit_parser(sub) -> None:
    p = sub.add_parser("edit", help="main-thread cost of a param edit and a structural edit")
    p.add_argument("--minutes", type=_minutes, default=5.0,
                   help="length of the synthetic track (default 5)")
    p.add_argument("--edits", type=_edits, default=200, help="edits of each kind (default 200)")
    p.add_argument("--patch", metavar="FILE", help="patch to edit (default: patches/default.patch)")
    p.add_argument("--json", action="store_true",
                   help="print param_p99_ms, structural_p99_ms, minutes (and medians)")
    p.set_defaults(func=cmd_bench_edit)

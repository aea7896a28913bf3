"""Live editing: params change in place, structure recompiles; plans swap between frames.

The window calls `update(patch)` once at the start of each frame and
`advance(t, playing)` once later in the same frame, both on the main thread,
so a new plan can only ever replace the old one between two `Plan.run`
calls. The audio never stops because the output does not depend on the
plan at all.

Two kinds of edit (the EditorModel's Change says which):

    params      a slider drag, a typed value, a MIDI fader: applied at once
                to the running plan and its twin with edit.set_param (in
                place, microseconds; a node's `reprepare` params re-run its
                prepare only). Nothing is recompiled.
    structure   nodes or links added or removed, a new document, a new
                track: the patch is recompiled. Per-track work is cached
                (graph_runtime/graph/prepare_cache.py), so this costs about a
                millisecond whatever the track's length. With
                `background=True` (the window) a build that would compute
                new per-track work (a new track, an ensemble with new
                ranks) runs on a worker thread (plan_builder.py): the main
                thread waits at most `wait_s` for it, else keeps running
                the old plan and swaps on a later frame. Params edited
                while it is built are applied to the new plan before it
                swaps in.

Recompiling carries state: nodes whose id and type did not change keep their
declared state (a spring keeps swinging while you edit something else).
An edit that does not compile leaves the last good plan playing; its
problems are kept per node for the editor to draw on the node.

Two instances of the same plan run each frame. `plan` is evaluated for the
time its frame will be seen (heard time + the engine's latency) and feeds
the engine; `monitor` is evaluated for the time being heard now and feeds
the meters, so a meter moves with the sound even when the CPU preview
model renders a second ahead (with a fast engine the two times are within
MONITOR_S and the meters read `plan`). The twin is compiled from the same
patch, sharing the cached tables, only when a frame needs it: with a fast
engine a structural edit compiles one plan, not two. Both carry their
state; a plan costs microseconds a frame.

Pure Python: no dearpygui.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from graph_runtime.control.hub import SourceHub
from graph_runtime.graph.compiler import CompileError, Problem, carry_plan_state, compile_patch
from graph_runtime.graph.edit import set_param
from graph_runtime.graph.frame import FrameParams
from graph_runtime.graph.patch import NodeSpec, Patch
from graph_runtime.graph.prepare_cache import CacheMiss

from .plan_builder import PlanBuilder

JUMP_S = 0.5  # a step of more than this (or backwards) is a jump, not playback
MAX_DT = 0.1  # seconds; a stalled frame does not kick every spring at once
MONITOR_S = 0.05  # meters leading the sound by less than this are not worth a second plan
WAIT_S = 0.003  # a background build the main thread waits for: most finish inside it


class LiveSession:
    def __init__(self, registry, *, fps: float = 60.0, background: bool = False,
                 wait_s: float = WAIT_S, hub=None) -> None:
        """hub: the show's control.hub.SourceHub, handed to every plan compiled
        here (the plan and its meter twin read the same controllers)."""
        self.registry = registry
        self.hub = hub if hub is not None else SourceHub()
        self.fps = float(fps)
        self.analysis: Any = None
        self.feature_mean: Callable[[str, int], float] | None = None
        self.base_dir: str | None = None  # the patch file's folder (album art paths)
        self.plan = None  # the last plan that compiled: run for the time a frame is seen
        self.monitor = None  # its twin, run for the time heard now (meters)
        self.ok = True  # whether the current patch compiled
        self.problems: list[Problem] = []  # errors of the last failed compile, or warnings
        self.engine_problem: Problem | None = None  # why the engine refuses the current Scene
        self.generation = 0  # bumps on every swap
        self.compiles = 0  # compile_patch calls (a param edit must not add any)
        self.compile_ms = 0.0
        self.wait_s = float(wait_s)
        self._builder = PlanBuilder() if background else None
        self._epoch = 0  # bumps when what a build depends on (track, means, folder) changes
        self._edited: list[tuple[str, tuple[str, ...]]] = []  # params edited during a build
        self._model = None
        self._dirty = True
        self._last_t: dict[int, float | None] = {0: None, 1: None}
        self._monitoring = False
        self._monitor_gen = -1  # the generation the meter twin was compiled for
        self._patch: Patch | None = None  # the followed document, as of the last update()

    # -- inputs that invalidate the plan ------------------------------------------
    def follow(self, model) -> None:
        """Apply every command on this EditorModel: params in place, the rest by recompiling."""
        self._model = model
        model.listeners.append(self.on_change)

    def on_change(self, change) -> None:
        if change.kind == "positions":
            return  # where a node sits on the canvas changes nothing that plays
        if change.kind == "params" and self.apply_params(change.nodes, change.params):
            return
        self.mark_dirty()

    def mark_dirty(self) -> None:
        self._dirty = True

    def set_analysis(self, analysis) -> None:
        self.analysis = analysis
        self._invalidate()
        self._last_t = {0: None, 1: None}

    def set_feature_mean(self, fn: Callable[[str, int], float] | None) -> None:
        self.feature_mean = fn
        self._invalidate()

    def set_base_dir(self, folder: str | None) -> None:
        """Relative paths in the patch (album art) start at its file's folder."""
        if folder != self.base_dir:
            self.base_dir = folder
            self._invalidate()

    def _invalidate(self) -> None:
        self._epoch += 1  # a build already running is for the old inputs: dropped
        self._dirty = True

    # -- params, in place -------------------------------------------------------------
    def apply_params(self, node_ids, names=()) -> bool:
        """Copy these nodes' params from the followed model into the running
        plan and its twin, in place. False when that cannot be done (no
        plan, the patch does not compile now, a value the node refuses):
        the caller recompiles instead, which reports the problem."""
        if self.plan is None or not self.ok or self._model is None:
            return False
        for nid in node_ids:
            spec = self._model.spec(nid)
            if spec is None or not self._set_params(spec, names or tuple(spec.params)):
                return False
            if self._builder is not None and self._builder.busy:
                self._edited.append((nid, tuple(names)))
        self._refresh_warnings()
        return True

    def _set_params(self, spec: NodeSpec, names: tuple[str, ...], plans=None) -> bool:
        twin = self.monitor if self._monitor_gen == self.generation else None
        for plan in plans or (self.plan, twin):
            if plan is None:
                continue
            node = plan.nodes.get(spec.id)
            if node is None or type(node).type_id != spec.type:
                return False
            for name in names:
                if name not in spec.params:
                    continue
                try:  # per-track work not cached yet: a structural build does it
                    if set_param(plan, spec.id, name, spec.params[name],
                                 cached_only=self._builder is not None):
                        return False
                except CacheMiss:
                    return False
        return True

    def _refresh_warnings(self) -> None:
        """A re-prepared node may file or drop a warning (an album image found)."""
        problems = list(self.plan.warnings)
        if self.engine_problem is not None:
            problems.append(self.engine_problem)
        if problems != self.problems:
            self.problems = problems

    # -- per frame ------------------------------------------------------------------
    def update(self, patch: Patch) -> bool:
        """Recompile if the structure changed since the last frame; True on a swap."""
        self._patch = patch
        if self._builder is not None:
            return self._update_background(patch)
        if not self._dirty:
            return False
        self._dirty = False
        t0 = time.perf_counter()
        try:
            plan = self._build(patch, self._epoch)[1]
        except Exception as e:
            return self._failed(e)
        finally:
            self.compile_ms = (time.perf_counter() - t0) * 1000.0
        carry_plan_state(plan, self.plan)
        return self._swap(plan)

    def _update_background(self, patch: Patch) -> bool:
        """Build on this thread from cached per-track work (about a
        millisecond); only a build that must compute something new (a new
        track, new ensemble ranks, a stem nobody read yet) goes to the worker."""
        builder = self._builder
        swapped = self._finish(patch) if builder.ready else False
        if not self._dirty or builder.busy:
            return swapped
        self._dirty = False
        t0 = time.perf_counter()
        try:
            plan = self._build(patch, self._epoch, cached_only=True)[1]
        except CacheMiss:
            self._edited = []
            snap, epoch = _snapshot(patch), self._epoch
            builder.start(lambda: self._build(snap, epoch))
            if builder.wait(self.wait_s):
                swapped = self._finish(patch) or swapped
            return swapped  # else the old plan plays on; a later frame swaps
        except Exception as e:
            return self._failed(e)
        finally:
            self.compile_ms = (time.perf_counter() - t0) * 1000.0
        carry_plan_state(plan, self.plan)
        return self._swap(plan)

    def _finish(self, patch: Patch) -> bool:
        """Swap in what the builder made (main thread, between two frames)."""
        result = self._builder.take()
        if result is None:
            return False
        if isinstance(result, BaseException):
            return self._failed(result)
        epoch, plan = result
        if epoch != self._epoch:  # the track or the means changed meanwhile: build again
            self._dirty = True
            return False
        carry_plan_state(plan, self.plan)
        for nid, names in self._edited:  # edited while it was built: apply the values now
            spec = patch.node(nid)
            if spec is not None and not self._set_params(spec, names or tuple(spec.params),
                                                         (plan,)):
                self._dirty = True
        self._edited = []
        return self._swap(plan)

    def _build(self, patch: Patch, epoch: int, cached_only: bool = False):
        """(epoch, plan); raises what the compile raised. Any thread."""
        t0 = time.perf_counter()
        plan = compile_patch(patch, self.registry, analysis=self.analysis,
                             feature_mean=self.feature_mean, fps=self.fps,
                             base_dir=self.base_dir, cached_only=cached_only, control_hub=self.hub)
        self.compiles += 1  # plans built (a cached-only try that missed is not one)
        self.compile_ms = (time.perf_counter() - t0) * 1000.0
        return epoch, plan

    def _current_monitor(self, ran_last_frame: bool) -> bool:
        """Make sure the meter twin matches the plan; False: meters read the plan.

        It is compiled only when a frame needs it (a slow engine) and after a
        swap: with a fast engine a structural edit compiles one plan, not two.
        It takes over the state of the twin that ran last frame, else of the
        plan (the twin has been resting)."""
        if self._monitor_gen == self.generation:
            return self.monitor is not None
        if self._dirty or self._patch is None or self.plan is None:
            return False  # a newer plan is on its way: meters read the plan until then
        try:
            monitor = compile_patch(self._patch, self.registry, analysis=self.analysis,
                                    feature_mean=self.feature_mean, fps=self.fps,
                                    base_dir=self.base_dir, cached_only=self._builder is not None,
                                    control_hub=self.hub)
            self.compiles += 1
        except CacheMiss:
            return False  # the worker is computing what it needs; a later frame
        except Exception:
            monitor = None  # does not happen (the plan compiled); meters then read `plan`
        self._monitor_gen = self.generation
        if monitor is not None:
            carry_plan_state(monitor, self.monitor if ran_last_frame and self.monitor else self.plan)
            if not ran_last_frame:
                self._last_t[1] = None
        self.monitor = monitor
        return monitor is not None

    def _failed(self, e: BaseException) -> bool:
        self.ok = False
        if isinstance(e, CompileError):
            self.problems = list(e.problems)
        else:  # a node's prepare failing in a way it did not declare
            self.problems = [Problem(None, None, f"compile failed: {type(e).__name__}: {e}")]
        return False

    def _swap(self, plan) -> bool:
        self.plan, self.ok = plan, True  # the meter twin follows when a frame needs it
        self.problems = list(plan.warnings)
        if self.engine_problem is not None:
            self.problems.append(self.engine_problem)
        self.generation += 1
        return True

    def engine_refused(self, message: str | None) -> None:
        """The engine will not apply the Scene this plan made (an unreadable
        album image, a feature id it lacks) and keeps showing the last good
        one: say why, on the node that asked for it. None: it took the Scene."""
        self.engine_problem = None if message is None else \
            Problem(scene_node(self.plan, message), None, f"engine: {message}", True)
        if self.plan is not None and self.ok:
            self._refresh_warnings()

    def close(self) -> None:
        if self._builder is not None:
            self._builder.close()

    @property
    def meter_plan(self):
        return self.monitor if self.monitor is not None and self._monitoring else self.plan

    def advance(self, t_seen: float, t_heard: float, *, playing: bool,
                dt_idle: float = 1.0 / 60.0) -> FrameParams | None:
        """Run the plan for track time t_seen and its monitor for t_heard
        (seconds); return the FrameParams for the engine. When the two are
        less than MONITOR_S apart (a fast engine) the meters read the plan
        itself and the monitor rests."""
        if self.plan is None:
            return None
        want = abs(t_seen - t_heard) >= MONITOR_S
        self._monitoring = want and self._current_monitor(self._monitoring)
        if self._monitoring:
            self._run(1, self.monitor, t_heard, playing, dt_idle)
        return self._run(0, self.plan, t_seen, playing, dt_idle)

    def _run(self, which: int, plan, t: float, playing: bool, dt_idle: float) -> FrameParams:
        """A backwards step or a leap (seek, loop wrap) makes the channel bank
        forget the previous frame, so no beat fires for the skipped span.
        While paused t stands still and so does every node (dt = 0): the
        picture holds, except for nodes set to run while paused."""
        last = self._last_t[which]
        if last is None or t < last - 1e-6 or t - last > JUMP_S:
            plan.bank.seek()
            dt = dt_idle
        elif playing and t > last:
            dt = min(t - last, MAX_DT)
        else:
            dt = dt_idle
        self._last_t[which] = t
        if not playing:  # pause means pause: the patch's clock stands, nothing drifts on stage
            return plan.run(t, 0.0, paused=True, idle_dt=dt_idle)
        return plan.run(t, dt)

    def reset(self) -> None:
        """A user seek: forget dynamics as well as the previous frame."""
        for plan in (self.plan, self.monitor):
            if plan is not None:
                plan.reset()
        self._last_t = {0: None, 1: None}

    # -- what the editor shows ----------------------------------------------------------
    def node_problems(self) -> dict[str, list[Problem]]:
        out: dict[str, list[Problem]] = {}
        for p in self.problems:
            if p.node:
                out.setdefault(p.node, []).append(p)
        return out

    def general_problems(self) -> list[Problem]:
        return [p for p in self.problems if not p.node]

    def values(self, node_id: str) -> dict[str, Any] | None:
        plan = self.meter_plan
        if plan is None or node_id not in plan.nodes:
            return None
        return plan.values(node_id)


def scene_node(plan, message: str) -> str | None:
    """Which node's part of the Scene an engine error is about, or None.

    Engine errors name their part: "latent image cover.jpg: ...", "block
    mid.0: feature id 9000 out of range ...". Scene fields come from
    known node types: the latent destination, the block sinks."""
    if plan is None:
        return None
    parts = message.split(": ")
    if parts[0] == "remote engine" and len(parts) > 1:  # the server's text, behind the client's
        parts = parts[1:]
    part = parts[0]
    for nid, node in plan.nodes.items():
        tid = type(node).type_id
        if part.startswith("latent image") and tid == "dest.latent":
            return nid
        if part.startswith("block ") and tid == "sae.block" and node.p.get("block") == part[6:] \
                and f"feature id {node.p.get('feature_id')} " in message + " ":
            return nid
    return None


def _snapshot(patch: Patch) -> Patch:
    """What a build reads, detached from later edits: node specs with their
    own params dicts, the link list. Values are replaced, never mutated, by
    the EditorModel, so a shallow copy of each dict is enough (~50 us)."""
    return Patch(nodes=[NodeSpec(n.id, n.type, dict(n.params), n.pos) for n in patch.nodes],
                 links=list(patch.links), engine=dict(patch.engine), meta=patch.meta)

"""Live editing: recompile after every edit, swap plans between two frames.

The window calls `update(patch)` once at the start of each frame and
`advance(t, playing)` once later in the same frame, both on the main thread,
so a new plan can only ever replace the old one between two `Plan.run`
calls. Recompiling passes the running plan as `previous`: nodes whose id and
type did not change keep their state (a spring keeps swinging while you edit
something else), and the audio never stops because the output does not
depend on the plan at all.

An edit that does not compile leaves the last good plan playing; its
problems are kept per node for the editor to draw on the node.

Two instances of the same plan run each frame. `plan` is evaluated for the
time its frame will be seen (heard time + the engine's latency) and feeds
the engine; `monitor` is evaluated for the time being heard now and feeds
the meters, so a meter moves with the sound even when the CPU preview
model renders a second ahead (with a fast engine the two times are within
MONITOR_S and the meters read `plan`). Both are compiled from the same patch and
both carry their state across recompiles; a plan costs microseconds a frame.

Pure Python: no dearpygui.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from graph_runtime.compiler import CompileError, Problem, compile_patch
from graph_runtime.frame_params import FrameParams
from graph_runtime.patch import Patch

JUMP_S = 0.5  # a step of more than this (or backwards) is a jump, not playback
MAX_DT = 0.1  # seconds; a stalled frame does not kick every spring at once
MONITOR_S = 0.05  # meters leading the sound by less than this are not worth a second plan


class LiveSession:
    def __init__(self, registry, *, fps: float = 60.0) -> None:
        self.registry = registry
        self.fps = float(fps)
        self.analysis: Any = None
        self.feature_mean: Callable[[str, int], float] | None = None
        self.plan = None  # the last plan that compiled: run for the time a frame is seen
        self.monitor = None  # its twin, run for the time heard now (meters)
        self.ok = True  # whether the current patch compiled
        self.problems: list[Problem] = []  # errors of the last failed compile, or warnings
        self.generation = 0  # bumps on every swap
        self.compile_ms = 0.0
        self._dirty = True
        self._last_t: dict[int, float | None] = {0: None, 1: None}
        self._monitoring = False

    # -- inputs that invalidate the plan ------------------------------------------
    def follow(self, model) -> None:
        """Recompile after every command on this EditorModel."""
        model.listeners.append(lambda change: self.mark_dirty())

    def mark_dirty(self) -> None:
        self._dirty = True

    def set_analysis(self, analysis) -> None:
        self.analysis = analysis
        self._dirty = True
        self._last_t = {0: None, 1: None}

    def set_feature_mean(self, fn: Callable[[str, int], float] | None) -> None:
        self.feature_mean = fn
        self._dirty = True

    # -- per frame ------------------------------------------------------------------
    def update(self, patch: Patch) -> bool:
        """Recompile if anything changed since the last frame; True on a swap."""
        if not self._dirty:
            return False
        self._dirty = False
        t0 = time.perf_counter()
        try:
            plan = compile_patch(patch, self.registry, analysis=self.analysis,
                                 feature_mean=self.feature_mean, fps=self.fps,
                                 previous=self.plan)
        except CompileError as e:
            self.ok, self.problems = False, list(e.problems)
            return False
        except Exception as e:  # a node's prepare failing in a way it did not declare
            self.ok = False
            self.problems = [Problem(None, None, f"compile failed: {type(e).__name__}: {e}")]
            return False
        finally:
            self.compile_ms = (time.perf_counter() - t0) * 1000.0
        try:
            monitor = compile_patch(patch, self.registry, analysis=self.analysis,
                                    feature_mean=self.feature_mean, fps=self.fps,
                                    previous=self.monitor)
        except Exception:
            monitor = None  # same patch, so this does not happen; meters then read `plan`
        self.plan, self.monitor, self.ok, self.problems = plan, monitor, True, list(plan.warnings)
        self.generation += 1
        return True

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
        self._monitoring = self.monitor is not None and abs(t_seen - t_heard) >= MONITOR_S
        if self._monitoring:
            self._run(1, self.monitor, t_heard, playing, dt_idle)
        return self._run(0, self.plan, t_seen, playing, dt_idle)

    def _run(self, which: int, plan, t: float, playing: bool, dt_idle: float) -> FrameParams:
        """A backwards step or a leap (seek, loop wrap) makes the channel bank
        forget the previous frame, so no beat fires for the skipped span.
        While paused t stands still and the physics keep settling at the
        window's frame period."""
        last = self._last_t[which]
        if last is None or t < last - 1e-6 or t - last > JUMP_S:
            plan.bank.seek()
            dt = dt_idle
        elif playing and t > last:
            dt = min(t - last, MAX_DT)
        else:
            dt = dt_idle
        self._last_t[which] = t
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

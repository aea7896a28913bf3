"""The main thread's side of agent control: calls from the inbox, the freeze, fades.

An agent call travels like an OSC message: the thread that received it (an
endpoint connection, or the in-process link) posts a `Call` into the
control inbox under its own key ("agent", n), one call in flight per key so
coalescing never drops one, and waits on `done`. The control session's
drain, at the start of a frame, hands it to `AgentDesk.handle`, which runs
it against the show (ops.py) and answers. So an agent's edit reaches the
very next FrameParams, goes through the editor's validation and undo, and
shows in the window's Messages marked "agent".

`frozen` (the panic key, or the agent's own `release_agent`) refuses every
call and stops the agent's fades (and a scene recall it started) where they
are, until the performer enables agents again. A call the show did not
answer in time (link.py: "busy") may still run when the show gets to it.
Param fades are stepped once a frame after the scene fade, on the beat grid.
"""
from __future__ import annotations

import math
import threading
from typing import Any

from .errors import AgentError
from .fade import ParamFade


class Call:
    """One request: op name + JSON-able args; filled in by the main thread."""

    __slots__ = ("args", "done", "error", "op", "result")

    def __init__(self, op: str, args: dict | None = None) -> None:
        self.op, self.args = str(op), dict(args or {})
        self.done = threading.Event()
        self.result: Any = None
        self.error: dict | None = None

    def answer(self, result: Any = None, error: AgentError | None = None) -> None:
        self.result, self.error = result, (error.to_json() if error is not None else None)
        self.done.set()

    def refuse(self, code: str, message: str) -> None:
        self.answer(error=AgentError(code, message))


class AgentDesk:
    MAX_FADES = 64  # params fading at once

    def __init__(self, session, host) -> None:
        from .ops import AgentOps

        self.session = session
        self.frozen = False
        self.fades: list[ParamFade] = []
        self.calls = 0  # answered
        self.scene_fade = None  # the session's scene Fade when an agent started it
        self.ops = AgentOps(host, session, self)
        session.agent = self

    # -- the frame (main thread) ------------------------------------------------------
    def handle(self, call: Call) -> None:
        """Run one call (from ControlSession._dispatch); always answers it."""
        self.calls += 1
        if self.frozen:
            call.answer(error=AgentError("frozen", "agent input is frozen: the performer took "
                                         "control back; they re-enable it in the window"))
            return
        try:
            call.answer(self.ops.run(call.op, call.args))
        except AgentError as e:
            call.answer(error=e)
        except Exception as e:  # a bug in one op never stops the show
            call.answer(error=AgentError("refused", f"{call.op} failed: {type(e).__name__}: {e}"))

    def step(self, t: float) -> None:
        """Advance param fades to track time t (after the session's scene fade)."""
        if not self.fades:
            return
        grid = self.session.grid
        keep = []
        for f in self.fades:
            if t < f.start_t:
                keep.append(f)
                continue
            merge = ("agent-fade", f.node, f.param, f.start_t)
            if not f.started:
                f.started = True
                f.start_pos = grid.position(f.start_t)
                now = self.session.model.param_value(f.node, f.param)
                f.lerp = f.lerp and isinstance(now, (int, float)) and not isinstance(now, bool) \
                    and math.isfinite(now)
                f.source = float(now) if f.lerp else 0.0
            p = 1.0 if not f.lerp or f.beats <= 0 else \
                min(max((grid.position(t) - f.start_pos) / f.beats, 0.0), 1.0)
            value = f.target
            if f.lerp and p < 1.0:
                value = (1.0 - p) * f.source + p * float(f.target)
                value = round(value) if f.whole else value
            reason = self.session.write(f.node, f.param, value, merge=merge)
            if reason is None and p < 1.0:
                keep.append(f)
        self.fades = keep

    def schedule(self, fade: ParamFade) -> None:
        self.fades = [f for f in self.fades if (f.node, f.param) != (fade.node, fade.param)]
        if len(self.fades) >= self.MAX_FADES:
            raise AgentError("busy", f"{self.MAX_FADES} params are already fading; wait for one "
                             "to land")
        self.fades.append(fade)

    # -- the performer's hand ------------------------------------------------------------
    def freeze(self, why: str = "the performer pressed the panic key") -> None:
        self.frozen = True
        self.fades.clear()
        if self.scene_fade is not None and self.session.fade is self.scene_fade:
            self.session.fade = None  # an agent's scene recall stops where it is
        self.scene_fade = None
        self.session.report(f"agent: frozen ({why}); agent calls are refused until re-enabled")

    def enable(self) -> None:
        if self.frozen:
            self.frozen = False
            self.session.report("agent: enabled again by the performer")

"""A show without a window: the same per-frame path the window takes.

App.tick does, in this order: drain the control inbox (ControlSession.drain),
recompile or apply edits (LiveSession.update), run the plan
(LiveSession.advance) -> FrameParams. Tests and `hambajuba bench control`
drive exactly that, minus Dear PyGui. Pure Python: no dearpygui.
"""
from __future__ import annotations

from graph_runtime.graph.frame import FrameParams
from graph_runtime.graph.patch import Patch
from graph_runtime.show.control_session import ControlSession

from .commands import EditorModel
from .live_plan import LiveSession


class HeadlessShow:
    def __init__(self, patch: Patch, *, registry, analysis=None, fps: float = 60.0,
                 background: bool = False) -> None:
        """background: compile new per-track work on the plan builder, as the window does."""
        self.registry = registry
        self.model = EditorModel(registry, patch)
        self.live = LiveSession(registry, fps=fps, background=background)
        self.live.follow(self.model)
        self.live.set_analysis(analysis)
        self.control = ControlSession(self.model, registry)
        self.control.set_analysis(analysis)
        self.fps = float(fps)

    def tick(self, t: float, *, playing: bool = True, lookahead: float = 0.0) -> FrameParams | None:
        """One frame heard at track time t (seconds), shown at t + lookahead (a
        slow engine renders ahead; then the meter twin of the plan runs too)."""
        self.control.drain(t + lookahead, t)
        self.live.update(self.model.patch)
        return self.live.advance(t + lookahead, t, playing=playing)

"""A running show without a window: the per-frame path the window takes.

One frame, in this order: drain the control inbox (ControlSession.drain),
recompile or apply edits (LiveSession.update), run the plan
(LiveSession.advance) -> FrameParams. The window (hambajuba_nodes/editor/
app.py) drives these same three steps, adding only its views between them;
tests, `hambajuba mcp` and `hambajuba bench control` call `tick`, which is
all three. Pure Python: no dearpygui.

The show owns what every part of it shares: the control hub (controllers as
sources: the session writes its wires, every plan compiled here reads them)
and the frame fan-out (each shown frame once to every stage sink; the
window's Stage menu and the agent add sinks to it).
"""
from __future__ import annotations

from graph_runtime.control.hub import SourceHub
from graph_runtime.graph.frame import FrameParams
from graph_runtime.graph.patch import Patch
from graph_runtime.show.control_session import ControlSession
from graph_runtime.stage.fanout import FrameFanout

from .commands import EditorModel
from .live_plan import LiveSession


class HeadlessShow:
    def __init__(self, patch: Patch | None = None, *, registry, analysis=None, fps: float = 60.0,
                 background: bool = False) -> None:
        """patch: None starts an empty document. background: compile new
        per-track work on the plan builder's thread, as the window does."""
        self.registry = registry
        self.hub = SourceHub()
        self.model = EditorModel(registry, patch)
        self.live = LiveSession(registry, fps=fps, background=background, hub=self.hub)
        self.live.follow(self.model)
        self.live.set_analysis(analysis)
        self.control = ControlSession(self.model, registry, hub=self.hub)
        self.control.set_analysis(analysis)
        self.fanout = FrameFanout()  # sinks join when first used: until then publish() costs nothing
        self.fps = float(fps)

    # -- one frame, step by step (the window runs its views between them) -------------------
    def drain(self, t_seen: float, heard: float, *, playing: bool = True) -> int:
        """Controls first: what arrived since the last frame reaches this one."""
        return self.control.drain(t_seen, heard, playing=playing)

    def update(self) -> bool:
        """Recompile or apply edits; True when a new plan swapped in."""
        return self.live.update(self.model.patch)

    def advance(self, t_seen: float, heard: float, *, playing: bool = True) -> FrameParams | None:
        """Run the plan for the time this frame will be seen (and its meter twin for heard)."""
        return self.live.advance(t_seen, heard, playing=playing)

    def tick(self, t: float, *, playing: bool = True, lookahead: float = 0.0) -> FrameParams | None:
        """One frame heard at track time t (seconds), shown at t + lookahead (a
        slow engine renders ahead; then the meter twin of the plan runs too)."""
        self.drain(t + lookahead, t, playing=playing)
        self.update()
        return self.advance(t + lookahead, t, playing=playing)

    def close(self) -> None:
        """Stop the plan builder and the fan-out (which closes its sinks)."""
        self.fanout.close()
        self.live.close()

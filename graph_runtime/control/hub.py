"""Controllers as sources in the graph: the wires midi.cc, midi.note and osc.in read.

A node asks the hub for a wire in `prepare` (compile time); the control
session writes the wires at the start of each frame, after draining the
inbox and before the plan runs, so a pad drives physics like any stem.
Each running show owns one hub (graph_runtime/show/headless_show.py) and
hands it to every plan it compiles (the running plan and its meter twin read
the same controller); nodes find it through the prepare context. Note triggers are true for
exactly one frame: the session clears them at the next drain.

MIDI channel -1 and note -1 mean "any". Values: CC 0..1 (value / 127),
velocity 0..1, OSC the first numeric argument as sent.
"""
from __future__ import annotations

import math

from graph_runtime.graph.node import Wire


class SourceHub:
    def __init__(self) -> None:
        self.cc: dict[tuple[int, int], Wire] = {}
        self.notes: dict[tuple[int, int], tuple[Wire, Wire]] = {}  # (trigger, velocity)
        self.osc: dict[str, Wire] = {}
        self._fired: list[Wire] = []  # trigger wires to clear next frame (bounded by self.notes)
        self.frame = 0  # frames drained by a control session; 0: none runs (headless render)
        self.sent: dict[str, int] = {}  # osc.out node id -> frame it last sent in

    # -- compile time (node prepare) --------------------------------------------------
    def cc_wire(self, channel: int, control: int) -> Wire:
        return self.cc.setdefault((channel, control), Wire(0.0))

    def note_wires(self, channel: int, note: int) -> tuple[Wire, Wire]:
        return self.notes.setdefault((channel, note), (Wire(False), Wire(0.0)))

    def osc_wire(self, address: str) -> Wire:
        return self.osc.setdefault(address, Wire(0.0))

    # -- per frame (the control session, main thread) ---------------------------------
    def clear_triggers(self) -> None:
        """Start of a frame (the session calls this once per drain)."""
        self.frame += 1
        for w in self._fired:
            w.v = False
        self._fired.clear()

    def on_cc(self, channel: int, control: int, value: int) -> None:
        x = value / 127.0
        for key in ((channel, control), (-1, control)):
            w = self.cc.get(key)
            if w is not None:
                w.v = x

    def on_note(self, channel: int, note: int, velocity: int) -> None:
        """velocity 0: note off (velocity output falls to 0, no trigger)."""
        for key in ((channel, note), (-1, note), (channel, -1), (-1, -1)):
            pair = self.notes.get(key)
            if pair is None:
                continue
            trig, vel = pair
            vel.v = velocity / 127.0
            if velocity > 0 and not trig.v:
                trig.v = True
                self._fired.append(trig)

    def first_send(self, node_id: str) -> bool:
        """True for the first osc.out evaluation of node_id in this frame. The
        window evaluates a twin of the plan for the meters; only one of the
        two sends. Without a session (a headless render) every call sends."""
        if not self.frame:
            return True
        if self.sent.get(node_id) == self.frame:
            return False
        self.sent[node_id] = self.frame
        return True

    def on_osc(self, address: str, args: tuple) -> bool:
        """True when an osc.in node listens to this address."""
        w = self.osc.get(address)
        if w is None:
            return False
        if args and isinstance(args[0], (int, float)) and not isinstance(args[0], bool) \
                and math.isfinite(args[0]):
            w.v = float(args[0])
        return True


def hub_of(ctx) -> SourceHub:
    """The hub a node binds its wires to at prepare: the running show's
    (HeadlessShow hands it to every compile); a plan compiled without a show
    (a render, `patch check`) gets one of its own, which no controller writes."""
    hub = getattr(ctx, "control_hub", None)
    if hub is None:
        hub = ctx.control_hub = SourceHub()
    return hub

"""midi.*: a MIDI fader or pad as a node.

midi.cc / midi.note read wires the control session writes at the start of
each frame (graph_runtime/control/hub.py), so a pad can drive physics like
any stem. Channels are shown 1..16 here; 0 means any channel.
"""
from __future__ import annotations

from graph_runtime.control.hub import hub_of
from graph_runtime.graph.node import Node, Param, signal, trigger


class MidiCC(Node):
    type_id = "midi.cc"
    family = "control"
    title = "MIDI CC"
    doc = "A MIDI controller (fader, knob) as a signal in [0, 1]: the CC value / 127."
    outputs = (signal("value", doc="CC value / 127, held between messages"),)
    params = (Param("channel", "int", 0, 0, 16, doc="MIDI channel 1-16; 0 = any"),
              Param("control", "int", 1, 0, 127, doc="CC number"))

    def prepare(self, ctx) -> None:
        self._w = hub_of(ctx).cc_wire(self.p["channel"] - 1, self.p["control"])

    def process(self, t: float, dt: float) -> None:
        self.value.v = self._w.v


class MidiNote(Node):
    type_id = "midi.note"
    family = "control"
    title = "MIDI note"
    doc = "A pad or key: a trigger on each note-on and its velocity in [0, 1] (0 after note-off)."
    outputs = (trigger("hit", doc="true on the frame a note-on arrives"),
               signal("velocity", doc="velocity / 127 of the last note-on; 0 after its note-off"))
    params = (Param("channel", "int", 0, 0, 16, doc="MIDI channel 1-16; 0 = any"),
              Param("note", "int", -1, -1, 127, doc="note number; -1 = any note"))

    def prepare(self, ctx) -> None:
        self._trig, self._vel = hub_of(ctx).note_wires(self.p["channel"] - 1, self.p["note"])

    def process(self, t: float, dt: float) -> None:
        self.hit.v = self._trig.v
        self.velocity.v = self._vel.v


NODES = (MidiCC, MidiNote)

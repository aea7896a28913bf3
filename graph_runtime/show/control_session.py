"""The control session: drains the inbox once a frame and plays the patch.

The main thread calls `drain(t)` at the very start of each frame (before
the live session updates and runs the plan), with t the track time that
frame shows. In order it:
  1. clears last frame's note triggers on the hub;
  2. reads every source that moved since last frame (one coalesced value
     per CC / note / OSC address, see inbox.py) and applies it: hub wires
     for midi.* / osc.in nodes, learn, bindings, /hambajuba/... addresses;
  3. steps the scene fade.
Param values go through the show's document (commands.py, EditorModel):
`set_param(node, name, value, merge=KEY)`, so undo and save see them and the running plan takes them
in place. The session never touches the window.

`model` is anything with `.patch`, `.param_value(node, name)`,
`.set_param(...)`, `.set_params(...)`, `.apply(label, fn)` and `.listeners`
(the show's EditorModel, or a stand-in for it).
"""
from __future__ import annotations

import math
import time
from collections import deque
from typing import Any, Callable

from graph_runtime.control.apply import Takeover, note_value
from graph_runtime.control.beat_times import BeatGrid
from graph_runtime.control.bindings import Binding, dangling, parse_bindings
from graph_runtime.control.hub import SourceHub
from graph_runtime.control.inbox import Inbox
from graph_runtime.control.midi import RelativeMap
from graph_runtime.control.midi_clock import ClockIn, ClockReading, Lead, LeadSlot
from graph_runtime.control.routes import route_osc
from graph_runtime.control.scenes import Fade, capture, fade_values, plan_fade, scene_named
from graph_runtime.control.tempo import TapTempo
from graph_runtime.control.web import route_web

from .control_learn import LearnAndBindings

MAX_REPORTED = 1024  # distinct "reported once" messages remembered


class ControlSession(LearnAndBindings):
    def __init__(self, model, registry, *, inbox: Inbox | None = None,
                 hub: SourceHub | None = None) -> None:
        self.model, self.registry = model, registry
        self.inbox = inbox or Inbox()
        self.hub = hub if hub is not None else SourceHub()  # the show passes the one its plans read
        self.relative = RelativeMap()
        self.takeover = Takeover()
        self.tempo = TapTempo()
        self.grid = BeatGrid()
        self.analysis: Any = None
        self.transport: dict[str, Callable] = {}  # "play", "pause", "seek" -> callables
        self.commands: dict[str, Callable] = {}  # the window's: "tempo", "downbeat", "record", "view"
        self.on_tap: Callable[[float], None] | None = None  # a track's grid correction (tempo.py)
        self.on_nudge: Callable[[int], None] | None = None
        self.t = 0.0  # track time of the last drain (the time being rendered)
        self.heard = 0.0  # track time the speaker played at the last drain
        self.playing = True  # the transport ran at the last drain
        self._drain_at = 0.0  # time.perf_counter() of the last drain
        self._stamp: float | None = None  # arrival (perf_counter) of the message being handled
        self.fade: Fade | None = None
        self.cue: tuple[str, float] | None = None  # (scene, track time) a recall waits for, as heard
        self.scene_now = ""  # the scene last recalled, once it is heard
        self.learning = False
        self.learn_target: tuple[str, str] | None = None
        self.reports: deque[str] = deque(maxlen=200)  # newest last; the window shows them
        self.recall_listeners: list = []  # fn(scene name) per recall (the recorder's sidecar)
        self._reported: set = set()
        self.consumed = 0  # messages taken from the inbox (all of them reach a frame)
        self.bindings: list[Binding] = []
        self.problems: list[str] = []
        self._by_source: dict[tuple, list[Binding]] = {}
        self._bindings_of: Any = None
        self._known_of: Any = None
        self._snapshot: dict[str, dict] = {}
        self.last_touched: tuple[str, str] | None = None  # the param last edited in the window
        self._held: dict[Binding, int] = {}  # CC buttons bound to actions: last value
        self.agent: Any = None  # an AgentDesk (graph_runtime/agent) when agents may play
        # who leads the tempo ("tracker", "tap", "midi clock"): the MIDI clock in takes over
        # while it runs (follow_clock), use_tracker() hands it back; `lead` is what the
        # clock out and OSC beats follow (midi_clock.py)
        self.clock_in = ClockIn()
        self.clock_reading = ClockReading(False)
        self.follow_clock = True
        self.tempo_source = "tracker"
        self.lead = LeadSlot()
        self.on_clock: Callable[[float, float], None] | None = None   # (bpm, a beat's track time)
        # t -> (source, bpm, a beat's track time, its index, beats per bar, downbeat anchor) or
        # None: the live tracker's clock when the input is live (else the grid below)
        self.beat_source: Callable[[float], tuple | None] | None = None
        self._known_osc: frozenset[str] = frozenset()  # addresses that get inbox slots
        self.strays_seen = 0  # unknown OSC messages looked at (inbox.unknown counts them all)
        self.inbox.osc_known = self.osc_known
        self.watch_edits()
        self._writing = False
        model.listeners.append(self._on_change)
        self._publish_known_osc()

    # -- reporting ----------------------------------------------------------------
    def report(self, text: str) -> None:
        self.reports.append(text)

    def report_once(self, key: Any, text: str) -> None:
        if key in self._reported or len(self._reported) >= MAX_REPORTED:
            return
        self._reported.add(key)
        self.report(text)

    # -- bindings --------------------------------------------------------------------
    def _on_change(self, change) -> None:
        if change.kind in ("structure", "document"):
            self._bindings_of = None  # re-read on the next drain
        if change.kind != "params":
            self.watch_edits()
        elif self._writing:  # our own write: keep the snapshot level with it
            for nid in change.nodes:
                spec = self.model.patch.node(nid)
                if spec is not None:
                    self._snapshot[nid] = dict(spec.params)
        else:
            self._touched(change.nodes, getattr(change, "params", ()))  # learn, perform pins

    def refresh_bindings(self) -> None:
        """Parse the patch's bindings (after an edit, undo, open); report dangling ones."""
        patch = self.model.patch
        self._bindings_of = (id(patch), id(patch.bindings), len(patch.bindings))
        self._known_of = (len(patch.nodes), len(patch.scenes))
        self.bindings, self.problems = parse_bindings(patch.bindings, "patch")
        self.problems += dangling(self.bindings, patch, self.registry)
        for p in self.problems:
            self.report_once(("binding", p), p)
        index: dict[tuple, list[Binding]] = {}
        styles = {}
        for b in self.bindings:
            index.setdefault(b.source_key, []).append(b)
            if b.source == "cc" and b.takeover == "relative":
                styles[(b.channel, b.control)] = b.relative
        self._by_source = index
        self.relative.styles = styles  # one reference store: the MIDI threads see old or new
        self.takeover.forget()
        self._publish_known_osc()

    def osc_known(self, address: str) -> bool:
        """Whether an OSC address may take an inbox slot. Called on the OSC receive
        thread: reads one published frozenset and the hub's dict, writes nothing."""
        return address in self._known_osc or address in self.hub.osc

    def _publish_known_osc(self) -> None:
        """Every address this patch answers (rebuilt when its structure, scenes or
        bindings change; one reference store, so the OSC thread sees old or new)."""
        from graph_runtime.control.routes import known_addresses

        self._known_osc = frozenset(known_addresses(self.model.patch, self.registry,
                                                    self.bindings))

    @property
    def unknown_osc(self) -> int:
        """OSC messages to addresses the show does not know (ignored, no slot taken)."""
        return self.inbox.unknown

    def bound(self, source: str, channel: int, control) -> list[Binding]:
        found = self._by_source.get((source, channel, control), ())
        anyc = self._by_source.get((source, -1, control), ())
        return [*found, *anyc] if anyc else list(found)

    def _check_bindings(self) -> None:
        patch = self.model.patch
        if self._bindings_of != (id(patch), id(patch.bindings), len(patch.bindings)):
            self.refresh_bindings()
        elif self._known_of != (len(patch.nodes), len(patch.scenes)):
            self._publish_known_osc()

    # -- the frame ----------------------------------------------------------------------
    def drain(self, t: float, heard: float | None = None, *, playing: bool = True) -> int:
        """Apply everything that arrived since the last frame; returns messages taken.
        t: the track time this frame renders; heard: the time the speaker plays now
        (taps are placed on it, by their arrival stamps)."""
        self.t = t
        self.heard = t if heard is None else heard
        self.playing = bool(playing)
        self._drain_at = time.perf_counter()
        self._check_bindings()
        self.hub.clear_triggers()
        n = 0
        for key, value, count, delta, stamp in self.inbox.drain():
            n += count
            self._stamp = stamp
            try:
                self._dispatch(key, value, count, delta)
            except Exception as e:  # a bad message never stops the show
                self.report_once(("crash", key[0], type(e).__name__),
                                 f"control: {key[0]} message failed: {type(e).__name__}: {e}")
        self._stamp = None
        self.consumed += n
        if self.inbox.unknown != self.strays_seen:
            self._strays()
        if self.inbox.refused:
            self.report_once("inbox-full", f"control: more than {self.inbox.capacity} distinct "
                             "controls/addresses; the rest are ignored")
        self._step_fade(t)
        self._lead_tempo(t)
        if self.agent is not None:
            self.agent.step(t)  # agent param fades, after the scene's
        return n

    # -- who leads the tempo ---------------------------------------------------------------
    def use_tracker(self) -> None:
        """The way back from a MIDI clock: the tracker (or tap) leads again, and an
        incoming clock is ignored until use_midi_clock()."""
        self.follow_clock = False
        if self.tempo_source == "midi clock":
            self.tempo_source = "tracker"
            self.report("tempo: back to the tracker (MIDI clock ignored)")

    def use_midi_clock(self) -> None:
        self.follow_clock = True

    def _lead_tempo(self, t: float) -> None:
        """Follow the MIDI clock while it runs, else the tracker / grid; publish the lead."""
        now = time.perf_counter()
        r = self.clock_reading = self.clock_in.read(now)
        if r.running and self.follow_clock:
            if self.tempo_source != "midi clock":
                self.tempo_source = "midi clock"
                self.report(f"tempo: following the MIDI clock ({r.bpm:.1f} BPM)")
            beat_t = t + (r.beat_wall - now)
            self.grid = BeatGrid(bpm=r.bpm, phase_s=beat_t, beats_per_bar=self.grid.beats_per_bar)
            if self.on_clock is not None:
                self.on_clock(r.bpm, beat_t)
            self.lead.value = Lead("midi clock", r.bpm, r.beat_wall, r.beat_index,
                                   self.grid.beats_per_bar, 0)
            return
        if self.tempo_source == "midi clock":
            self.tempo_source = "tracker"
            self.report("tempo: the MIDI clock stopped; the tracker leads again")
            self.grid = BeatGrid.of(self.analysis, bpm=self.tempo.bpm or 120.0,
                                    phase_s=self.tempo.phase_s)
        found = self.beat_source(t) if self.beat_source is not None else None
        if found is None:
            found = self._grid_lead(t)
        source, bpm, beat_t, index, bpb, anchor = found
        if source != "midi clock":
            self.tempo_source = source
        self.lead.value = Lead(source, float(bpm), now + (beat_t - t), int(index), int(bpb),
                               int(anchor))

    def _grid_lead(self, t: float) -> tuple:
        g = self.grid
        k = math.floor(g.position(t))
        beat_t = g.time_at(k)
        period = g.time_at(k + 1) - beat_t
        bpm = 60.0 / period if period > 0 else g.bpm
        anchor = round(g.position(g.downs[0])) if g.analysed and g.downs else 0
        source = "tap" if self.tempo.bpm and not g.analysed else "tracker"
        return source, bpm, beat_t, k, g.beats_per_bar, anchor
    def _strays(self) -> None:
        """Unknown OSC addresses: learn from them, or report each once (the newest
        STRAYS since the last frame; the rest are only counted)."""
        seen, self.strays_seen = self.strays_seen, self.inbox.unknown
        for address, args, bad in self.inbox.new_strays(seen):
            if bad:
                self.report_once(("oscbad", address), f"OSC {address}: {args}; ignored")
            else:
                route_osc(self, address, args, 1)

    def _dispatch(self, key: tuple, value: Any, count: int, delta: float) -> None:
        kind = key[0]
        if kind == "osc":
            route_osc(self, key[1], value, count)
            return
        if kind == "agent":  # an MCP call (graph_runtime/agent/desk.py): answered here
            if self.agent is None:
                value.refuse("unavailable", "this show takes no agent calls")
            else:
                self.agent.handle(value)
            return
        if kind == "web":  # the web surface (control/web.py)
            route_web(self, key, value, count, delta)
            return
        if kind == "tap":  # post_tap: the web surface
            self.tap()
            return
        if kind == "oscbad":
            self.report_once(("oscbad", key[1]), f"OSC {key[1]}: {value}; ignored")
            return
        _, _port, channel, control = key
        if kind == "cc":
            self.hub.on_cc(channel, control, value)
        elif kind == "note":
            self.hub.on_note(channel, control, value)
        elif kind == "noteoff":
            self.hub.on_note(channel, control, 0)
            return
        if self.learning and self.learn_target is not None:
            self.learn(kind, channel, control)
            return
        for b in self.bound(kind, channel, control):
            self.play(b, value, count, delta)

    # -- a binding's input --------------------------------------------------------------
    def play(self, b: Binding, value: Any, count: int = 1, delta: float = 0.0) -> None:
        """One source's coalesced input on one binding."""
        if b.is_action:
            if self._pressed(b, value, count):
                self.action(b.node, b.param, source=b.describe())
            return
        spec = self.model.patch.node(b.node)
        cls = self.registry.get(spec.type) if spec is not None else None
        prm = cls.param(b.param) if cls is not None else None
        if prm is None:
            return  # a dangling binding: reported when read, drives nothing
        current = self.model.param_value(b.node, b.param)
        if b.source == "note":
            new = note_value(prm, current, int(value), count, b)
        elif b.takeover == "relative":
            new = self.takeover.relative_value(b, prm, current, delta)
        else:
            x = value / 127.0 if b.source == "cc" else _first_number(value)
            if x is None:
                self.report_once(("bad-x", b.source_key), f"{b.describe()}: expects a finite "
                                 f"number, got {value!r:.40}; ignored")
                return
            new = self.takeover.position_value(b, prm, current, x)
        if new is not None:
            self.write(b.node, b.param, new, merge=("control", b.source_key))

    def _pressed(self, b: Binding, value: Any, count: int) -> bool:
        """A button press: any note-on or OSC message (0 = release is filtered by
        routes), a CC rising through 64, or a press and release inside one frame."""
        if b.source in ("note", "osc"):
            return count > 0 and not (b.source == "osc" and _first_number(value) == 0.0)
        was = self._held.get(b, 0)
        now = value if isinstance(value, (int, float)) else 0
        self._held[b] = now
        return (now >= 64 > was) or (count >= 2 and now < 64)

    def write(self, node: str, name: str, value: Any, *, merge: Any,
              checked: bool = False) -> str | None:
        """checked: the caller already checked value against the Param (see EditorModel.set_params)."""
        self._writing = True
        try:
            reason = self.model.set_param(node, name, value, merge=merge, checked=checked)
        finally:
            self._writing = False
        if reason:
            self.report_once(("refused", node, name, reason), f"control: {reason}")
        return reason

    def action(self, what: str, arg: str = "", *, source: str = "") -> None:
        if what == "@scene":
            self.recall(arg, source=source)
        elif what == "@tap":
            self.tap()
        elif what in ("@nudge_early", "@nudge_late"):
            self.nudge(-1 if what == "@nudge_early" else 1)
        elif what in ("@play", "@pause") and what[1:] in self.transport:
            self.transport[what[1:]]()

    # -- scenes ------------------------------------------------------------------------------
    def store_scene(self, name: str, node_ids=None) -> str | None:
        doc = capture(self.model.patch, self.registry, node_ids, name)

        def edit(patch):
            patch.scenes[:] = [s for s in patch.scenes if s.get("name") != doc["name"]] + [doc]

        return self.model.apply(f"store scene {doc['name']}", edit)[1]

    def scene_names(self) -> list[str]:
        return [str(s.get("name", "")) for s in self.model.patch.scenes]

    def recall(self, name: str, when: str = "now", *, beats: float = 0.0,
               seconds: float = 0.0, source: str = "") -> str | None:
        """Schedule a scene: at the next 'beat' / 'bar' or 'now', fading over beats or seconds.

        The start is quantised on the time being rendered (self.t, the drain's
        time: the heard time plus the engine's lead), so the first frame made
        for a time at or after the downbeat is the first to change, and it is
        shown when the listener hears that downbeat. source: who asked (an OSC
        address, a MIDI binding), logged in Messages with when it lands."""
        if scene_named(self.model.patch, name) is None:
            reason = f"no scene {name!r} (scenes: {', '.join(self.scene_names()) or 'none'})"
            self.report(reason)
            return reason
        if when not in ("now", "beat", "bar"):
            return f"recall when must be now, beat or bar, not {when!r}"
        for v in (beats, seconds):
            if not (isinstance(v, (int, float)) and math.isfinite(v) and 0 <= v <= 1e4):
                return "fade length must be a finite number >= 0"
        start = self.grid.start_of(when, self.t)
        self.fade = Fade(name, start, float(beats), float(seconds))
        self.cue = (name, start) if start > self.t else None
        if self.cue is None:
            self.scene_now = name
        if source:
            fade = f", fading over {beats:g} beats" if beats else \
                f", fading over {seconds:g} s" if seconds else ""
            at = "now" if when == "now" else f"on the next {when} (track {start:.2f} s)"
            self.report(f"{source}: scene {name!r} {at}{fade}")
        for tell in self.recall_listeners:
            tell(name)
        return None

    def countdown(self, heard: float) -> tuple[str, float] | None:
        """(scene, beats to go) while a quantised recall waits for the listener
        to reach its start (heard: the track time the speaker plays); else None."""
        cue = self.cue
        if cue is None:
            return None
        name, start = cue
        if heard >= start - 1e-6:
            self.cue, self.scene_now = None, name
            return None
        return name, max(0.0, self.grid.position(start) - self.grid.position(heard))

    def _step_fade(self, t: float) -> None:
        fade = self.fade
        if fade is None or t < fade.start_t:
            return
        merge = ("scene", fade.name, fade.start_t)
        if not fade.started:
            fade.started = True
            fade.start_pos = self.grid.position(fade.start_t)
            plan_fade(fade, scene_named(self.model.patch, fade.name) or {}, self.model.patch,
                      self.registry, lambda m: self.report_once(("scene", m), m))
            for node, values in fade.switch.items():  # switch at the start of the fade
                self._set_many(node, values, merge)
        p = fade.progress(t, self.grid)
        for node, values in fade_values(fade, p).items():
            self._set_many(node, values, merge)
        if p >= 1.0:
            self.fade = None

    def write_many(self, node: str, values: dict, *, merge: Any) -> str | None:
        """Several params of one node as one undo step, like `write`."""
        self._writing = True
        try:
            return self.model.set_params(node, values, merge=merge)
        finally:
            self._writing = False

    def _set_many(self, node: str, values: dict, merge) -> None:
        self._writing = True
        try:
            reason = self.model.set_params(node, values, merge=merge)
        finally:
            self._writing = False
        if reason:
            self.report_once(("scene-set", node, reason), f"scene: {reason}")

    # -- tempo ----------------------------------------------------------------------------------
    def set_analysis(self, analysis) -> None:
        self.analysis = analysis
        self.grid = BeatGrid.of(analysis, bpm=self.tempo.bpm or 120.0, phase_s=self.tempo.phase_s)

    def tap(self, t: float | None = None) -> float | None:
        """A tap at track time t; by default when the message being handled
        arrived (its input thread's stamp), else the time heard at this frame."""
        if t is None and not self.playing:  # the track clock stands: tempo by the wall clock
            t = self._stamp if self._stamp is not None else time.perf_counter()
        elif t is None:
            late = self._drain_at - self._stamp if self._stamp is not None else 0.0
            t = self.heard - max(0.0, late)
        bpm = self.tempo.tap(t)
        if bpm is not None and self.analysis is None:
            self.grid = BeatGrid(bpm=bpm, phase_s=self.tempo.phase_s)
        if bpm is not None:
            self.report(f"tap tempo: {bpm:.1f} BPM")
            if self.on_tap is not None:
                self.on_tap(t)
        return bpm

    def nudge(self, direction: int) -> None:
        self.tempo.nudge(direction)
        if self.analysis is None:
            self.grid = BeatGrid(bpm=self.tempo.bpm or self.grid.bpm, phase_s=self.tempo.phase_s)
        if self.on_nudge is not None:
            self.on_nudge(direction)


def _first_number(args) -> float | None:
    v = args[0] if isinstance(args, tuple) and args else args
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return float(v)

"""The control session: drains the inbox once a frame and plays the patch.

The main thread calls `drain(t)` at the very start of each frame (before
the live session updates and runs the plan), with t the track time that
frame shows. In order it:
  1. clears last frame's note triggers on the hub;
  2. reads every source that moved since last frame (one coalesced value
     per CC / note / OSC address, see inbox.py) and applies it: hub wires
     for midi.* / osc.in nodes, learn, bindings, /hambajuba/... addresses;
  3. steps the scene fade.
Param values go through the editor model's `set_param(node, name, value,
merge=KEY)` (C1), so undo and save see them and the running plan takes them
in place. The session never touches the window.

`model` is anything with `.patch`, `.param_value(node, name)`,
`.set_param(...)`, `.set_params(...)`, `.apply(label, fn)` and `.listeners`
(hambajuba_nodes/editor/commands.EditorModel).
"""
from __future__ import annotations

import math
from collections import deque
from typing import Any, Callable

from .apply import Takeover, note_value
from .beatgrid import BeatGrid
from .bindings import Binding, dangling, parse_bindings
from .hub import HUB, SourceHub
from .inbox import Inbox
from .mapping import default_range
from .midi import RelativeMap
from .routes import route_osc
from .scenes import Fade, capture, fade_values, plan_fade, scene_named
from .tempo import TapTempo

MAX_REPORTED = 1024  # distinct "reported once" messages remembered


class ControlSession:
    def __init__(self, model, registry, *, inbox: Inbox | None = None,
                 hub: SourceHub | None = None) -> None:
        self.model, self.registry = model, registry
        self.inbox = inbox or Inbox()
        self.hub = hub or HUB
        self.relative = RelativeMap()
        self.takeover = Takeover()
        self.tempo = TapTempo()
        self.grid = BeatGrid()
        self.analysis: Any = None
        self.transport: dict[str, Callable] = {}  # "play", "pause", "seek" -> callables
        self.on_tap: Callable[[float], None] | None = None  # a track's grid correction (tempo.py)
        self.on_nudge: Callable[[int], None] | None = None
        self.t = 0.0  # track time of the last drain
        self.fade: Fade | None = None
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
        from .routes import known_addresses

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
    def drain(self, t: float) -> int:
        """Apply everything that arrived since the last frame; returns messages taken."""
        self.t = t
        self._check_bindings()
        self.hub.clear_triggers()
        n = 0
        for key, value, count, delta, _stamp in self.inbox.drain():
            n += count
            try:
                self._dispatch(key, value, count, delta)
            except Exception as e:  # a bad message never stops the show
                self.report_once(("crash", key[0], type(e).__name__),
                                 f"control: {key[0]} message failed: {type(e).__name__}: {e}")
        self.consumed += n
        if self.inbox.unknown != self.strays_seen:
            self._strays()
        if self.inbox.refused:
            self.report_once("inbox-full", f"control: more than {self.inbox.capacity} distinct "
                             "controls/addresses; the rest are ignored")
        self._step_fade(t)
        return n

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
                self.action(b.node, b.param)
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

    def write(self, node: str, name: str, value: Any, *, merge: Any) -> str | None:
        self._writing = True
        try:
            reason = self.model.set_param(node, name, value, merge=merge)
        finally:
            self._writing = False
        if reason:
            self.report_once(("refused", node, name, reason), f"control: {reason}")
        return reason

    def action(self, what: str, arg: str = "") -> None:
        if what == "@scene":
            self.recall(arg)
        elif what == "@tap":
            self.tap()
        elif what in ("@nudge_early", "@nudge_late"):
            self.nudge(-1 if what == "@nudge_early" else 1)
        elif what in ("@play", "@pause") and what[1:] in self.transport:
            self.transport[what[1:]]()

    # -- learn ---------------------------------------------------------------------------
    def arm_learn(self, target: tuple[str, str] | None = None) -> None:
        """Learn on: the target is given, or the next param edited in the window."""
        self.learning, self.learn_target = True, target

    def watch_edits(self) -> None:
        """Take the snapshot `last_touched` compares against (cheap: a few kB)."""
        self._snapshot = {n.id: dict(n.params) for n in self.model.patch.nodes}

    def cancel_learn(self) -> None:
        self.learning, self.learn_target = False, None

    def _touched(self, nodes: tuple[str, ...], names: tuple[str, ...] = ()) -> None:
        """Which param the user just edited (a params change not made by us)."""
        for nid in nodes:
            spec = self.model.patch.node(nid)
            if spec is None:
                continue
            before = self._snapshot.get(nid, {})
            self._snapshot[nid] = dict(spec.params)
            moved = list(names) or [k for k, v in spec.params.items() if before.get(k) != v]
            if not moved:
                continue
            self.last_touched = (nid, moved[0])
            if self.learning and self.learn_target is None:
                self.learn_target = (nid, moved[0])
                self.report(f"learn: move a control for {nid}.{moved[0]}")

    def learn(self, source: str, channel: int, control) -> str | None:
        """Bind the armed target to this source (replacing the target's old binding)."""
        node, param = self.learn_target
        spec = self.model.patch.node(node)
        cls = self.registry.get(spec.type) if spec is not None else None
        prm = cls.param(param) if cls is not None else None
        if prm is None:
            self.cancel_learn()
            return f"learn: {node}.{param} is gone"
        lo, hi = default_range(prm)
        b = Binding(source, control, node, param, channel, lo, hi)
        raw = b.to_json()

        def edit(patch):
            patch.bindings[:] = [x for x in patch.bindings
                                 if (x.get("node"), x.get("param")) != (node, param)]
            patch.bindings.append(raw)

        _, reason = self.model.apply(f"learn {b.describe()} -> {node}.{param}", edit)
        self.cancel_learn()
        self.report(reason or f"learned {b.describe()} -> {node}.{param}")
        return reason

    def remove_binding(self, index: int) -> str | None:
        if not 0 <= index < len(self.model.patch.bindings):
            return f"no binding {index}"
        _, reason = self.model.apply("remove binding", lambda p: p.bindings.pop(index) and None)
        return reason

    def edit_binding(self, index: int, **fields) -> str | None:
        """Change a binding's range, curve, takeover... (validated; one undo step)."""
        from .bindings import parse_binding

        if not 0 <= index < len(self.model.patch.bindings):
            return f"no binding {index}"
        raw = dict(self.model.patch.bindings[index], **fields)
        b, reason = parse_binding(raw, f"binding {index}")
        if reason:
            return reason

        def edit(patch):
            patch.bindings[index] = b.to_json()

        return self.model.apply("edit binding", edit)[1]

    def bindings_for(self, node: str, param: str) -> list[Binding]:
        self._check_bindings()
        return [b for b in self.bindings if b.node == node and b.param == param]

    # -- scenes ------------------------------------------------------------------------------
    def store_scene(self, name: str, node_ids=None) -> str | None:
        doc = capture(self.model.patch, self.registry, node_ids, name)

        def edit(patch):
            patch.scenes[:] = [s for s in patch.scenes if s.get("name") != doc["name"]] + [doc]

        return self.model.apply(f"store scene {doc['name']}", edit)[1]

    def scene_names(self) -> list[str]:
        return [str(s.get("name", "")) for s in self.model.patch.scenes]

    def recall(self, name: str, when: str = "now", *, beats: float = 0.0,
               seconds: float = 0.0) -> str | None:
        """Schedule a scene: at the next 'beat' / 'bar' or 'now', fading over beats or seconds."""
        if scene_named(self.model.patch, name) is None:
            reason = f"no scene {name!r} (scenes: {', '.join(self.scene_names()) or 'none'})"
            self.report(reason)
            return reason
        if when not in ("now", "beat", "bar"):
            return f"recall when must be now, beat or bar, not {when!r}"
        for v in (beats, seconds):
            if not (isinstance(v, (int, float)) and math.isfinite(v) and 0 <= v <= 1e4):
                return "fade length must be a finite number >= 0"
        self.fade = Fade(name, self.grid.start_of(when, self.t), float(beats), float(seconds))
        for tell in self.recall_listeners:
            tell(name)
        return None

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
        t = self.t if t is None else t
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

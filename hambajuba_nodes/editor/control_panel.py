"""The Control tab: MIDI ports, OSC, learn, bindings, scenes, tap tempo, perform pins.

A view of the show's ControlSession (graph_runtime/show/control_session.py). MIDI and OSC
threads only post into its inbox; `drain()` is called once at the start of
App.tick, before the live session updates and runs the plan, so a control
reaches the very next FrameParams. Every Dear PyGui call here is on the
main thread.

Learn: right-click a param on its node, or press Learn and then click (or
drag a little) a param in the node editor; then move a control: the next CC, note, pitch bend or OSC
address binds it. Keys (when no text field is active): 1-9 recall scenes
with the tab's "when" and fade, T taps tempo, [ and ] nudge the beat.
"""
from __future__ import annotations

import time

import dearpygui.dearpygui as dpg

from graph_runtime.control.mapping import CURVES, RELATIVE_STYLES, TAKEOVERS
from graph_runtime.control.midi import MidiError, MidiInputs
from graph_runtime.control.osc import OscError, OscListener, parse_endpoint
from graph_runtime.control.rig import RigClock
from graph_runtime.control.scenes import cue_text
from graph_runtime.control.tap_correction import TapCorrector

from . import theme
from .badges import Badges
from .key_presses import fresh
from .perform_panel import PerformPanel

WHEN = ("now", "beat", "bar")
WRAP = 360  # px: the tab shares the right column with the output
UNITS = ("beats", "seconds")
_DIGITS = {getattr(dpg, f"mvKey_{i}", None): i for i in range(1, 10)}


class ControlPanel:
    def __init__(self, app, *, midi: tuple[str, ...] = (), osc: str | None = None,
                 clock_out: str | None = None, beat_out: str | None = None) -> None:
        self.app = app
        self.session = app.show.control  # the show's; this tab is its view
        s = self.session
        s.transport = {"play": app.transport.play, "pause": app.transport.pause,
                       "seek": app.seek}
        self.corrector = TapCorrector(s, status=app.status, on_analysis=self._grid_changed)
        s.on_tap, s.on_nudge = self.corrector.tapped, self.corrector.nudged
        s.commands.update(tempo=self.corrector.scaled, downbeat=self.corrector.bar_shifted)  # web surface
        self.midi = MidiInputs(s.inbox, s.relative, clock=s.clock_in)   # clock in: midi_clock.py
        self.rig = RigClock(s)                  # MIDI clock out, OSC beats out
        self.osc: OscListener | None = None
        self.tags: dict[str, int] = {}
        self.perform = PerformPanel(app, s)
        self.badges = Badges(app.view)
        self._analysis = None
        self._shown = -1  # model revision the tab was last drawn for
        self._shut_menu = False
        self._reported = 0
        self.problems: list[str] = []  # devices that did not open (the window shows them too)
        self._wanted = (tuple(midi), osc, clock_out, beat_out)

    def start(self) -> None:
        """Open the devices asked for on the command line (after the window is built)."""
        midi, osc, clock_out, beat_out = self._wanted
        for name in midi:
            self.open_midi(name)
        if osc:
            self.listen_osc(osc)
        if clock_out or beat_out:
            reason = self.rig.start(clock_out, beat_out)
            if reason:
                self.problems.append(reason)
                self.app.status("error", reason)
            else:
                self.app.status("info", self.rig.describe())

    # -- devices -------------------------------------------------------------------------
    def open_midi(self, name: str) -> str | None:
        try:
            real = self.midi.open(name)
        except MidiError as e:
            self.problems.append(str(e))
            self.app.status("error", str(e))
            return str(e)
        self.app.status("info", f"MIDI in: {real}")
        self.midi.start_watch()  # from now on: reconnect it if it vanishes
        return None

    def listen_osc(self, endpoint: str) -> str | None:
        try:
            host, port = parse_endpoint(endpoint)
            self.osc = OscListener(self.session.inbox, host, port).start()
        except OscError as e:
            self.problems.append(str(e))
            self.app.status("error", str(e))
            return str(e)
        self.app.status("info", f"OSC in on {host}:{self.osc.port} (/hambajuba/<node>/<param>)")
        return None

    # -- per frame -------------------------------------------------------------------------
    def drain(self) -> None:
        """Once per frame, first thing after the queued callbacks."""
        app, s = self.app, self.session
        tr = app.transport
        if tr.analysis is not self._analysis:
            self._analysis = tr.analysis
            s.set_analysis(tr.analysis)
            self.corrector.track(getattr(tr, "path", "") or None, tr.analysis)
        heard = tr.time()
        bar = getattr(app, "bar", None)
        if bar is not None and bar.cue_text is None:  # the transport shows a waiting recall
            bar.cue_text = lambda h: "   ".join(x for x in (cue_text(s.countdown(h)),
                                                            self._paused_text()) if x)
        w, d = app.worker, app.delivery
        t = tr.predict(heard, d.lookahead()) if (w is not None and w.ready and d is not None
                                                 and tr.playing) else heard
        app.show.drain(t, heard, playing=tr.playing)
        self.corrector.tick()  # a tapped grid is saved once tapping has ended
        if self._shut_menu:
            self._shut_menu = False
            self.app.add_menu.close()
        messages = self.midi.messages  # appended by the MIDI watch thread
        while messages:
            s.report(messages.popleft())
        self._show_reports()
        if self.tags:
            self._refresh()
        self.badges.tick(s.bindings, s.learn_target if s.learning else None)
        self.perform.tick()

    def _paused_text(self) -> str:
        """Paused, the patch's clock stands: say so, and name what still moves."""
        tr = self.app.transport
        if tr.playing or tr.track is None:
            return ""
        free = sum(1 for n in self.app.model.patch.nodes if n.params.get("run_while_paused"))
        return "paused: the picture holds" + (
            f" ({free} node{'s run' if free != 1 else ' runs'} while paused)" if free else "")

    def _grid_changed(self, analysis) -> None:
        """A grid correction (tempo x2, a tapped grid, ...): the whole show follows
        at once: the plan's beat channels, the transport's BPM and bars, scenes."""
        self.app.live.set_analysis(analysis)
        self.app.transport.analysis = analysis
        self._analysis = analysis  # already given to the session and the track's grid

    def _show_reports(self) -> None:
        reports = self.session.reports
        while reports:
            text = reports.popleft()
            level = "info" if text.startswith(("learn", "tap tempo", "MIDI port", "agent: ")) \
                and not text.startswith("agent: frozen") or ": scene '" in text else "warn"
            self.app.status(level, text)

    # -- building ---------------------------------------------------------------------------
    def build(self, parent) -> None:
        t = self.tags
        with dpg.group(parent=parent):
            with dpg.group(horizontal=True):
                t["port"] = dpg.add_combo([], width=170, label="", default_value="")
                dpg.add_button(label="Refresh", callback=lambda: self._list_ports())
                dpg.add_button(label="Open", callback=lambda: self.open_midi(dpg.get_value(t["port"])))
            t["devices"] = dpg.add_text("", color=theme.DIM, wrap=WRAP)
            with dpg.group(horizontal=True):
                t["learn"] = dpg.add_checkbox(label="Learn", callback=lambda s, a: self._learn(a))
                t["learn_text"] = dpg.add_text("", color=theme.PREVIEW)
            dpg.add_text("bindings (stored in the patch; right-click a param to learn)")
            t["bindings"] = dpg.add_group()
            dpg.add_separator()
            with dpg.group(horizontal=True):
                t["scene_name"] = dpg.add_input_text(width=140, default_value="scene 1", hint="name")
                dpg.add_button(label="Store all", callback=lambda: self._store(False))
                dpg.add_button(label="Store selected", callback=lambda: self._store(True))
            with dpg.group(horizontal=True):
                t["when"] = dpg.add_combo(WHEN, default_value="beat", width=70)
                t["fade"] = dpg.add_input_float(default_value=0.0, width=90, step=0, min_value=0.0,
                                                min_clamped=True, format="%.2f")
                t["unit"] = dpg.add_combo(UNITS, default_value="beats", width=80)
            t["scenes"] = dpg.add_group()
            dpg.add_separator()
            with dpg.group(horizontal=True):
                dpg.add_button(label="Tap (T)", width=80, callback=lambda: self.session.tap())
                dpg.add_button(label="< [", callback=lambda: self.session.nudge(-1))
                dpg.add_button(label="] >", callback=lambda: self.session.nudge(1))
                t["tempo"] = dpg.add_text("", color=theme.DIM)
            with dpg.group(horizontal=True):   # who leads the tempo, and the way back
                t["lead"] = dpg.add_text("tempo led by the tracker", color=theme.DIM)
                t["lead_button"] = dpg.add_button(label="Use tracker", show=False,
                                                  callback=lambda: self._toggle_lead())
            with dpg.group(horizontal=True):  # the track's grid, saved beside its analysis
                dpg.add_text("grid:")
                dpg.add_button(label="tempo x2", callback=lambda: self.corrector.scaled(2.0))
                dpg.add_button(label="tempo /2", callback=lambda: self.corrector.scaled(0.5))
                dpg.add_button(label="one earlier", callback=lambda: self.corrector.bar_shifted(-1))
                dpg.add_button(label="one later", callback=lambda: self.corrector.bar_shifted(1))
            dpg.add_button(label="Pin last touched param (perform panel)",
                           callback=lambda: self.perform.pin_last())
        with dpg.handler_registry():
            dpg.add_key_press_handler(callback=self._on_key)
            dpg.add_mouse_click_handler(button=dpg.mvMouseButton_Left, callback=self._on_click)
            dpg.add_mouse_click_handler(button=dpg.mvMouseButton_Right,
                                        callback=self._on_right_click)
        self.perform.build()
        self._list_ports()

    def build_menu(self) -> None:
        with dpg.menu(label="Control"):
            dpg.add_menu_item(label="Learn (then touch a param, move a control)",
                              callback=lambda: self._learn(True))
            dpg.add_menu_item(label="Tap tempo", shortcut="T", callback=lambda: self.session.tap())
            dpg.add_menu_item(label="Nudge earlier", shortcut="[",
                              callback=lambda: self.session.nudge(-1))
            dpg.add_menu_item(label="Nudge later", shortcut="]", callback=lambda: self.session.nudge(1))

    def _list_ports(self) -> None:
        try:
            names = self.midi.names()
            text = f"MIDI open: {', '.join(self.midi.open_ports) or 'none'}"
        except MidiError as e:
            names, text = [], str(e)
        if self.osc is not None:
            text += f"; OSC on {self.osc.host}:{self.osc.port}"
        self._devices = text
        dpg.configure_item(self.tags["port"], items=names)
        self._show_unknown(force=True)

    def _show_unknown(self, force: bool = False) -> None:
        """The devices line, with how many OSC messages went to unknown addresses (a
        sweep of addresses is ignored and counted, never given a slot); twice a second."""
        n, now = self.session.unknown_osc, time.monotonic()
        if not force and (n == getattr(self, "_unknown_shown", 0)
                          or now < getattr(self, "_unknown_next", 0.0)):
            return
        self._unknown_shown, self._unknown_next = n, now + 0.5
        extra = f"; {n} OSC messages to unknown addresses ignored" if n else ""
        dpg.set_value(self.tags["devices"], getattr(self, "_devices", "") + extra)

    # -- actions --------------------------------------------------------------------------------
    def _learn(self, on: bool) -> None:
        if on:
            self.session.arm_learn()
        else:
            self.session.cancel_learn()

    def _store(self, selected: bool) -> None:
        name = dpg.get_value(self.tags["scene_name"]).strip() or "scene"
        ids = self.app.selected if selected else None
        reason = self.session.store_scene(name, ids)
        self.app.status("error" if reason else "info", reason or f"stored scene {name!r}")

    def recall(self, name: str) -> None:
        when = dpg.get_value(self.tags["when"]) if self.tags else "now"
        amount = float(dpg.get_value(self.tags["fade"])) if self.tags else 0.0
        unit = dpg.get_value(self.tags["unit"]) if self.tags else "beats"
        kw = {"beats": amount} if unit == "beats" else {"seconds": amount}
        reason = self.session.recall(name, when, **kw)
        self.app.status("error" if reason else "info", reason or f"scene {name!r} ({when})")

    def _on_key(self, sender, key) -> None:
        if not fresh(key) or not self.app.input.canvas_takes_keys():
            return
        ctrl = dpg.is_key_down(dpg.mvKey_LControl) or dpg.is_key_down(dpg.mvKey_RControl)
        if ctrl:
            return
        if key in _DIGITS and _DIGITS[key] is not None:
            names = self.session.scene_names()
            i = _DIGITS[key] - 1
            if i < len(names):
                self.recall(names[i])
        elif key == dpg.mvKey_T:
            self.session.tap()
        elif key == getattr(dpg, "mvKey_Open_Brace", None):
            self.session.nudge(-1)
        elif key == getattr(dpg, "mvKey_Close_Brace", None):
            self.session.nudge(1)

    def _on_click(self, sender=None, app_data=None) -> None:
        """Learn armed: a click on a param widget picks it as the target."""
        if self.session.learning:
            hit = self._hovered_param()
            if hit is not None:
                self.session.arm_learn(hit)

    def _on_right_click(self, sender=None, app_data=None) -> None:
        """Right-click a param: learn it (the canvas's add-node menu stays shut)."""
        hit = self._hovered_param()
        if hit is not None:
            self.session.arm_learn(hit)
            self._shut_menu = True  # the canvas handler may open it in this same frame

    def _hovered_param(self) -> tuple[str, str] | None:
        for nid, items in getattr(self.app.view, "_nodes", {}).items():
            for name, w in getattr(items, "params", {}).items():
                if dpg.does_item_exist(w.tag) and dpg.is_item_hovered(w.tag):
                    return nid, name
        return None

    # -- refreshing the tab --------------------------------------------------------------------
    def _refresh(self) -> None:
        s = self.session
        self._show_unknown()
        learn = ("move a control for " + ".".join(s.learn_target)) if s.learn_target else \
            "touch a param" if s.learning else ""
        bpm = s.tempo.bpm
        lead = self._lead_text()
        shown = (learn, s.learning, bpm, lead)
        if shown != getattr(self, "_texts", None):  # touch Dear PyGui only on a change
            self._texts = shown
            dpg.set_value(self.tags["learn_text"], learn)
            dpg.set_value(self.tags["learn"], s.learning)
            dpg.set_value(self.tags["tempo"], f"tapped {bpm:.1f} BPM" if bpm else "")
            dpg.set_value(self.tags["lead"], lead[0])
            dpg.configure_item(self.tags["lead"], color=theme.PREVIEW if lead[1] else theme.DIM)
            dpg.configure_item(self.tags["lead_button"], show=lead[2] is not None,
                               label=lead[2] or "")
        if self.app.model.revision == self._shown:
            return
        self._shown = self.app.model.revision
        structural = (tuple(map(str, self.app.model.patch.bindings)),
                      tuple(self.session.scene_names()))
        if structural == getattr(self, "_structural", None):
            return  # a param moved: nothing to redraw here
        self._structural = structural
        self._rebuild_bindings()
        self._rebuild_scenes()

    def _rebuild_bindings(self) -> None:
        group = self.tags["bindings"]
        dpg.delete_item(group, children_only=True)
        s = self.session
        s.refresh_bindings()
        for i, b in enumerate(s.bindings):
            with dpg.group(horizontal=True, parent=group):
                dpg.add_text(f"{b.describe()} -> {_target(b)}")
                dpg.add_button(label="x", callback=lambda _s, _a, i=i: s.remove_binding(i))
            if b.is_action:
                continue
            with dpg.group(horizontal=True, parent=group, indent=12):
                dpg.add_input_float(width=56, default_value=b.min, step=0, format="%.3g",
                                    callback=lambda _s, a, i=i: self._edit(i, min=a))
                dpg.add_input_float(width=56, default_value=b.max, step=0, format="%.3g",
                                    callback=lambda _s, a, i=i: self._edit(i, max=a))
                dpg.add_combo(CURVES, default_value=b.curve, width=48,
                              callback=lambda _s, a, i=i: self._edit(i, curve=a))
                dpg.add_combo(TAKEOVERS, default_value=b.takeover, width=72,
                              callback=lambda _s, a, i=i: self._edit(i, takeover=a))
                dpg.add_combo(RELATIVE_STYLES, default_value=b.relative, width=60,
                              callback=lambda _s, a, i=i: self._edit(i, relative=a))
        for p in s.problems:
            dpg.add_text(p, parent=group, color=theme.WARNING, wrap=WRAP)

    def _edit(self, index: int, **fields) -> None:
        reason = self.session.edit_binding(index, **fields)
        if reason:
            self.app.status("error", reason)

    def _rebuild_scenes(self) -> None:
        group = self.tags["scenes"]
        dpg.delete_item(group, children_only=True)
        for i, name in enumerate(self.session.scene_names()):
            with dpg.group(horizontal=True, parent=group):
                dpg.add_text(f"{i + 1}" if i < 9 else " ", color=theme.DIM)
                dpg.add_button(label=name, width=160, callback=lambda _s, _a, n=name: self.recall(n))

    def _lead_text(self) -> tuple[str, bool, str | None]:
        """(what leads the tempo, whether the MIDI clock does, the button's label or None)."""
        s = self.session
        r = s.clock_reading
        if s.tempo_source == "midi clock":
            return f"tempo led by the MIDI clock: {r.bpm:.1f} BPM", True, "Use tracker"
        if r.running and not s.follow_clock:
            return (f"tempo led by the {s.tempo_source} (MIDI clock {r.bpm:.1f} BPM ignored)",
                    False, "Follow MIDI clock")
        return f"tempo led by the {s.tempo_source}", False, None

    def _toggle_lead(self) -> None:
        s = self.session
        if s.tempo_source == "midi clock":
            s.use_tracker()
        else:
            s.use_midi_clock()

    def close(self) -> None:
        self.rig.stop()
        self.midi.stop()
        if self.osc is not None:
            self.osc.stop()


def _target(b) -> str:
    if b.node == "@scene":
        return f"scene {b.param!r}"
    return b.node[1:] if b.is_action else f"{b.node}.{b.param}"

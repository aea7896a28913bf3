"""The "Input" tab: play from the track or from live input.

Source picker (track / live input / a file at real-time pace), device,
channels, gain, a level meter, the live tempo with its confidence (and
"holding" through silence), overflows and clipping, the input's state and
messages (device lost, reconnecting), and which live channels are
approximations. Tap tempo is the control panel's (the T key, `/tap`): while
live input plays, a new tapped tempo overrides the tracker's (its level holds
30 s, its phase keeps locking to the onsets); the Tap button here does the same.
Monitor out (--monitor-out): the live input played to an output device (a
headphone cue) with its gain, the latency heard (input + output + one block)
and its underruns; no such device is a warning, and the show goes on.

Threads: the audio callback and the analysis worker never touch Dear PyGui;
tick() (main thread, once per frame) reads their counters and the newest
channel row.
"""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from graph_runtime.live.analyser import BEAT_GATE_DBFS
from graph_runtime.live.layout import APPROXIMATIONS
from graph_runtime.live.monitor import latency_text

from . import theme

WRAP = 330
TRACK, LIVE, FILE = "track", "live input", "file (real time)"
UPDATE_EVERY = 5      # frames between UI refreshes of the readouts
MONITOR_OFF, MONITOR_DEFAULT = "off", "default output"


class LiveInputPanel:
    def __init__(self, app, *, spec: str | None = None, monitor_out: str | None = None,
                 monitor_gain_db: float = 0.0) -> None:
        self.app = app
        self.spec = spec              # from --input: None (track), "" (default device), a device, a file
        self.monitor_out = monitor_out       # the cue: None off, "" the default output, a device
        self.monitor_gain_db = float(monitor_gain_db)
        self.monitor_factory = None          # the cue's stream factory (tests: a fake device)
        self.input = None             # the running LiveInput
        self.source = None            # its LiveSource
        self.tags: dict[str, int] = {}
        self.problem = ""
        self._frames = 0
        self._taps_seen = None        # (bpm, phase) of the control panel's tap tempo last applied
        self._clock_led = False       # the MIDI clock has been handed to the tracker
        self.loop = False             # a rehearsal file starts again at its end
        self._ended_said = False      # "input ended" posted once per run

    @property
    def active(self) -> bool:
        return self.source is not None

    # -- start / stop -------------------------------------------------------------
    def start(self, spec: str | None, *, channels: int = 2, gain_db: float = 0.0) -> str | None:
        """Play from live input (spec: '' default device, a device name or index, or an
        audio file fed at real-time pace). Returns None, or the one-line reason."""
        import os

        from graph_runtime.analysis.errors import AnalysisError
        from graph_runtime.live.input import LiveInput, LiveInputError
        self.stop()
        device = None if not spec else (int(spec) if spec.isdigit() else spec)
        is_file = bool(spec) and os.path.isfile(spec)
        inp = LiveInput(file=spec if is_file else None, device=None if is_file else device,
                        channels=channels, gain=10.0 ** (gain_db / 20.0), loop=self.loop,
                        monitor=self._monitor())
        self._ended_said = False
        try:
            source = inp.start()
        except (LiveInputError, AnalysisError, OSError, ValueError) as e:
            self.problem = str(e)
            self.app.status("error", f"live input: {e}")
            return self.problem
        self.input, self.source, self.problem = inp, source, ""
        self._taps_seen = self._tap_state()      # only taps from now on override the tracker
        self._clock_led = False
        session = getattr(self.app.control, "session", None)
        if session is not None:                  # the rig's clock out follows the live tracker
            session.beat_source = self._beat_lead
        if getattr(self.app.transport, "playing", False):
            self.app.transport.pause()               # one source at a time
        self.app.live.set_analysis(source)       # recompiles the plan against the live bank
        self.app.live.reset()
        note = f" ({inp.message})" if inp.message else ""
        self.app.status("info", f"live input: {inp.name}, {inp.channels} ch, {inp.samplerate} Hz{note}")
        self._say_monitor()
        return None

    # -- the cue --------------------------------------------------------------------
    def _monitor(self):
        """A new Monitor for the chosen output device, or None when the cue is off."""
        if self.monitor_out is None:
            return None
        from graph_runtime.live.monitor import Monitor
        return Monitor(self.monitor_out, gain=10.0 ** (self.monitor_gain_db / 20.0),
                       stream_factory=self.monitor_factory)

    def set_monitor(self, device: str | None) -> None:
        """Cue the live input to `device` (None: off; "" the default output), now if
        it plays, else from the next start."""
        self.monitor_out = device
        if self.input is not None:
            self.input.set_monitor(self._monitor())
            self._say_monitor()

    def set_monitor_gain(self, db: float) -> None:
        self.monitor_gain_db = float(db)
        m = self.input.monitor if self.input is not None else None
        if m is not None:
            m.gain = 10.0 ** (self.monitor_gain_db / 20.0)   # one float: read per output block

    def _say_monitor(self) -> None:
        inp = self.input
        if inp is None:
            return
        if inp.monitor_message:                  # no such device: a warning, the show goes on
            self.app.status("warn", inp.monitor_message)
        elif inp.monitor is not None:
            self.app.status("info", latency_text(inp.stats()["monitor"]))

    def set_loop(self, on: bool) -> None:
        """A rehearsal file starts again at its end (also while it plays)."""
        self.loop = bool(on)
        if self.input is not None:
            self.input.loop = self.loop

    def stop(self) -> None:
        if self.input is None:
            return
        self.input.stop()
        self.input = self.source = None
        session = getattr(self.app.control, "session", None)
        if session is not None:
            session.beat_source = None
        self.app.live.set_analysis(self.app.transport.analysis)   # back to the track
        self.app.live.reset()

    def clock(self) -> float:
        """The frame clock while live input plays: the stream time heard now."""
        return self.source.clock() if self.source is not None else 0.0

    def tap(self) -> None:
        session = getattr(self.app.control, "session", None)
        if session is not None:
            session.tap(self.clock())

    # -- per frame (main thread) ---------------------------------------------------
    def tick(self, lookahead_s: float) -> None:
        if self.source is not None:
            self.source.lookahead_s = lookahead_s    # the engine's latency: beats land on time
            self._follow_taps()
        self._frames += 1
        if self._frames % UPDATE_EVERY == 0 and self.tags:
            self._refresh()

    def _tap_state(self):
        """(bpm, phase) of the control panel's tap tempo; a new tap or nudge changes it."""
        tempo = getattr(getattr(self.app.control, "session", None), "tempo", None)
        return (getattr(tempo, "bpm", None), getattr(tempo, "phase_s", 0.0))

    def _beat_lead(self, t: float):
        """The live tracker's clock as the control session's lead (clock out, OSC beats):
        (source, bpm, the next beat in the session's time t, its index, meter, anchor)."""
        if self.source is None:
            return None
        s = self.source.status()
        if s["period"] <= 0:
            return None
        source = "tap" if self._taps_seen[0] else "tracker"
        beat_t = t + (s["next_beat"] - self.source.clock())
        return source, 60.0 / s["period"], beat_t, int(s["bar_pos"]), max(1, int(s["meter"])), 0

    def _follow_clock(self) -> None:
        """A MIDI clock leads: the tracker takes its tempo and phase once a second. When
        it stops or is handed back, the tracker leads again at once (not when the
        clock's 30 s hold runs out)."""
        session = getattr(self.app.control, "session", None)
        if session is None or session.tempo_source != "midi clock":
            if self._clock_led:
                self._clock_led = False
                self.input.release_tempo()
            return
        self._clock_led = True
        import time
        now = time.perf_counter()
        if now < getattr(self, "_clock_due", 0.0):
            return
        self._clock_due = now + 1.0
        r = session.clock_reading
        self.input.set_tempo(r.bpm, self.source.clock() + (r.beat_wall - now), lead=2)

    def _follow_taps(self) -> None:
        self._follow_clock()
        state = self._tap_state()
        if state == self._taps_seen:
            return
        self._taps_seen = state
        bpm, phase = state
        if bpm:
            self.input.set_tempo(bpm, phase)
            self.app.status("info", f"live tempo set by tap: {bpm:.1f} BPM")

    # -- the tab ------------------------------------------------------------------
    def build(self, parent) -> None:
        t = self.tags
        with dpg.group(parent=parent):
            t["source"] = dpg.add_radio_button((TRACK, LIVE, FILE), horizontal=True,
                                               default_value=TRACK, callback=lambda s, a: self._pick(a))
            with dpg.group(horizontal=True):
                t["device"] = dpg.add_combo([], width=220, default_value="", label="")
                dpg.add_button(label="Refresh", callback=lambda: self._list_devices())
            with dpg.group(horizontal=True):
                t["file"] = dpg.add_input_text(width=260, hint="audio file for rehearsal", label="")
                t["loop"] = dpg.add_checkbox(label="loop the file", default_value=self.loop,
                                             callback=lambda s, a: self.set_loop(a))
            with dpg.group(horizontal=True):
                t["channels"] = dpg.add_radio_button(("stereo", "mono"), horizontal=True,
                                                     default_value="stereo")
                t["gain"] = dpg.add_slider_float(label="gain dB", width=140, min_value=-24.0,
                                                 max_value=24.0, default_value=0.0,
                                                 callback=lambda s, a: self._gain(a))
            with dpg.group(horizontal=True):
                dpg.add_text("monitor out")
                t["monitor"] = dpg.add_combo([MONITOR_OFF], width=130, label="",
                                             default_value=self._monitor_choice(),
                                             callback=lambda s, a: self._pick_monitor(a))
                t["monitor_gain"] = dpg.add_slider_float(
                    label="dB", width=60, min_value=-48.0, max_value=12.0,
                    default_value=self.monitor_gain_db, callback=lambda s, a: self.set_monitor_gain(a))
            t["monitor_state"] = dpg.add_text("monitor: off", wrap=WRAP, color=theme.DIM)
            t["level"] = dpg.add_progress_bar(default_value=0.0, width=-1, overlay="-inf dBFS")
            with dpg.group(horizontal=True):
                t["tempo"] = dpg.add_text("tempo: -", color=theme.DIM)
                dpg.add_button(label="Tap (T)", callback=lambda: self.tap())
            t["state"] = dpg.add_text("", wrap=WRAP, color=theme.DIM)
            dpg.add_separator()
            dpg.add_text("live channels that are approximations of the offline analysis:")
            t["approx"] = dpg.add_text("\n".join(f"- {k}: {v}" for k, v in APPROXIMATIONS.items()),
                                       wrap=WRAP, color=theme.PREVIEW)
        self._list_devices()

    def begin(self) -> None:
        """Start the input given on the command line (--input), once the window is up."""
        if self.spec is None:
            return
        import os
        is_file = os.path.isfile(self.spec)
        if self.tags:
            dpg.set_value(self.tags["source"], FILE if is_file else LIVE)
            dpg.set_value(self.tags["file" if is_file else "device"], self.spec)
        if self.start(self.spec) is not None:
            self.app.exit_problems.append(f"live input: {self.problem}")
            if self.tags:
                dpg.set_value(self.tags["source"], TRACK)
        elif self.input.monitor_message:             # --monitor-out without a device: one line
            import sys
            print(f"hambajuba: warning: {self.input.monitor_message}", file=sys.stderr, flush=True)

    def _list_devices(self) -> None:
        from graph_runtime.live.input import LiveInputError, list_devices
        try:
            devices = list_devices()
        except LiveInputError as e:
            devices = []
            self.problem = str(e)
        names = [f"{d['index']}: {d['name']}" for d in devices if d["inputs"] > 0]
        dpg.configure_item(self.tags["device"], items=names or ["(no input devices)"])
        outs = [f"{d['index']}: {d['name']}" for d in devices if d["outputs"] > 0]
        dpg.configure_item(self.tags["monitor"], items=[MONITOR_OFF, MONITOR_DEFAULT, *outs])

    def _monitor_choice(self) -> str:
        return {None: MONITOR_OFF, "": MONITOR_DEFAULT}.get(self.monitor_out, str(self.monitor_out))

    def _pick_monitor(self, chosen: str) -> None:
        """The monitor combo: off, the default output, or "INDEX: name"."""
        if chosen == MONITOR_OFF:
            self.set_monitor(None)
        elif chosen == MONITOR_DEFAULT:
            self.set_monitor("")
        else:
            self.set_monitor(chosen.split(":", 1)[0] if chosen[:1].isdigit() else chosen)

    def _pick(self, which: str) -> None:
        if which == TRACK:
            self.stop()
            self.app.status("info", "playing from the track's offline analysis")
            return
        channels = 1 if dpg.get_value(self.tags["channels"]) == "mono" else 2
        gain = float(dpg.get_value(self.tags["gain"]))
        if which == FILE:
            spec = dpg.get_value(self.tags["file"]).strip()
            if not spec:
                self.app.status("error", "live input: type the path of an audio file first")
                dpg.set_value(self.tags["source"], TRACK)
                return
        else:
            chosen = dpg.get_value(self.tags["device"])
            spec = chosen.split(":", 1)[0] if chosen and chosen[0].isdigit() else ""
        if self.start(spec, channels=channels, gain_db=gain) is not None:
            dpg.set_value(self.tags["source"], TRACK)

    def _gain(self, db: float) -> None:
        if self.input is not None:
            self.input.gain = 10.0 ** (float(db) / 20.0)   # one float: read by the worker per block

    def _refresh(self) -> None:
        t = self.tags
        if self.source is None:
            dpg.set_value(t["level"], 0.0)
            dpg.configure_item(t["level"], overlay="track")
            dpg.set_value(t["tempo"], "tempo: from the track")
            dpg.set_value(t["state"], self.problem)
            dpg.set_value(t["monitor_state"], "monitor: off (no live input)" if self.monitor_out
                          is not None else "monitor: off")
            return
        s = self.source.status()
        db = s["level_db"]
        dpg.set_value(t["level"], max(0.0, min(1.0, (db + 60.0) / 60.0)))
        dpg.configure_item(t["level"], overlay=f"{db:.0f} dBFS" + (" CLIP" if s["clipped"] else ""))
        dpg.set_value(t["tempo"], tempo_text(s))
        m = s["monitor"]
        dpg.set_value(t["monitor_state"], latency_text(m))
        dpg.configure_item(t["monitor_state"], color=theme.WARNING if m.get("message") or
                           m.get("underruns") else theme.DIM)
        state = (f"{s['state']}: {s['device']}, {s['channels']} ch, {s['samplerate']} Hz; "
                 f"overflows {s['overflows']}, clipped samples {s['clipped']}")
        dpg.set_value(t["state"], state + (f"\n{s['message']}" if s["message"] else ""))
        dpg.configure_item(t["state"], color=theme.WARNING if s["state"] in ("lost", "finished")
                           else theme.DIM)
        if s["state"] == "finished" and not self._ended_said:  # the picture holds: say why
            self._ended_said = True
            self.app.status("warn", f"live input: {s['message']}")

    def close(self) -> None:
        self.stop()


LEADS = {0: "the tracker", 1: "tap", 2: "the MIDI clock"}
QUIET_SAID_S = 2.0      # s under the tracker's gate before the panel says so


def tempo_text(s: dict) -> str:
    """What the tracker knows, from one status row (live/layout.STATUS): tempo, whether it
    is locked and to what (and whether it follows a moving tempo: a rubato), its
    confidence and metrical level, the last correction."""
    quiet = ""
    if s.get("under_gate_s", 0.0) >= QUIET_SAID_S:    # say why nothing is tracked, and what to do
        quiet = (f"input under {BEAT_GATE_DBFS:.0f} dBFS for {s['under_gate_s']:.0f} s: silence to "
                 "the beat tracker (if music plays, raise the gain)\n")
    if s["bpm"] <= 0:
        return quiet + "tempo: listening..."
    hold = ", holding (silence)" if s["tempo_holding"] else ""
    hold += ", following a moving tempo" if s.get("tempo_moving") else ""
    lead = LEADS.get(int(s["tempo_lead"]), "the tracker")
    state = f"locked to {lead}" if s["tempo_locked"] or s["tempo_lead"] else f"finding the beat ({lead})"
    meter = int(s["meter"]) or 4
    since = s["frame_time"] - s["last_correction"]
    fixed = f"last correction {since:.1f} s ago" if s["last_correction"] >= 0 else "no correction yet"
    return (quiet + f"tempo: {s['bpm']:.1f} BPM, {state}{hold}\n"
            f"confidence {s['tempo_confidence']:.2f}; level {s['bpm']:.0f} BPM in {meter} "
            f"({100 * s['level_share']:.0f} % of estimates); {fixed}")

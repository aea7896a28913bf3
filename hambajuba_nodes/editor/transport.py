"""Transport: the track, its analysis, play / pause / seek / loop, time and beat.

`Transport` is the controller (no window calls): opening a track decodes it
and runs the analysis on a background thread, reporting progress; the main
thread picks the result up in `poll()` between two frames and only then
swaps track, output and analysis, so a failing open leaves the playing
track untouched. `TransportBar` is the row of widgets at the top of the
window; it only calls Transport methods.

Loop A-B: the checkbox always says what the output does. A new track clears
the loop (the output forgets it), so the box unticks and the status bar
says so; a loop the output refuses unticks it too. The region is drawn as a
strip under the seek bar (bright while looping, dim when only set), and
with "bars" ticked A and B snap to the nearest downbeat.

Analysis comes from graph_runtime.analysis.pipeline.analyze (cached on disk
by content hash there), run by show/analysis_worker.py.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable

import numpy as np

from graph_runtime.media.audio_file import AudioFileError
from graph_runtime.media.playback import Output, Track, load_track

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")


class _Load:
    """One background open: decode, then analyse."""

    def __init__(self, token: int, path: str) -> None:
        self.token = token
        self.path = path
        self.progress = 0.0
        self.stage = "decoding audio"
        self.track: Track | None = None
        self.analysis: Any = None
        self.notice = ""
        self.error = ""
        self.done = False


def default_analyze(path: str, progress: Callable[..., None], duration: float):
    """(analysis, notice): the pipeline in a niced child process, so the
    window keeps its frame rate (analysis_worker.py)."""
    from graph_runtime.show.analysis_worker import default_analyze as niced

    return niced(path, progress, duration)


class Transport:
    def __init__(self, output: Output, *,
                 analyze: Callable[[str, Callable[..., None], float], tuple] = default_analyze) -> None:
        self.output = output
        self.analyze = analyze
        self.track: Track | None = None
        self.analysis: Any = None
        self.path = ""
        self.notice = ""
        self._load: _Load | None = None
        self._token = 0
        self.loads = 0  # tracks installed so far
        self.error = ""  # why the last open failed ("" once a track is in)

    # -- opening ----------------------------------------------------------------------
    @property
    def loading(self) -> _Load | None:
        return self._load if self._load is not None and not self._load.done else None

    def open(self, path: str) -> None:
        """Start opening a track in the background; poll() installs it."""
        self._token += 1
        job = _Load(self._token, os.fspath(path))
        self._load = job
        threading.Thread(target=self._work, args=(job,), name="hambajuba-track", daemon=True).start()

    def _work(self, job: _Load) -> None:
        try:
            job.track = load_track(job.path)
            job.stage, job.progress = "analysing", 0.05

            def progress(*args, **kwargs):
                """The pipeline reports (stage, done, total); a bare fraction works too."""
                args = list(args) + list(kwargs.values())
                nums = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
                words = [a for a in args if isinstance(a, str)]
                if words:
                    job.stage = words[0][:80]
                if len(nums) >= 2 and nums[1] > 0:
                    job.progress = float(min(max(nums[0] / nums[1], 0.0), 1.0))
                elif nums:
                    job.progress = float(min(max(nums[0], 0.0), 1.0))

            job.analysis, job.notice = self.analyze(job.path, progress, job.track.duration)
            job.progress = 1.0
        except AudioFileError as e:
            job.error = str(e)
        except Exception as e:  # AnalysisError and anything the pipeline raises
            kind = "analysis failed" if job.track is not None else "cannot open"
            job.error = f"{kind}: {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}"
        job.done = True

    def poll(self) -> tuple[str, str] | None:
        """Between frames: install a finished open. Returns (level, message) or None."""
        job = self._load
        if job is None or not job.done:
            return None
        self._load = None
        if job.token != self._token:
            return None  # superseded by a newer open
        if job.error:
            keep = f"; still playing {os.path.basename(self.path)}" if self.track else ""
            self.error = f"{os.path.basename(job.path)}: {job.error}"
            return "error", job.error + keep
        self.error = ""
        self.output.load(job.track)
        self.track, self.analysis, self.path = job.track, job.analysis, job.path
        self.notice = job.notice
        self.loads += 1
        msg = f"opened {os.path.basename(job.path)} ({job.track.duration:.1f} s)"
        return ("warn", f"{msg}; {job.notice}") if job.notice else ("info", msg)

    def install(self, track: Track, analysis) -> None:
        """Use an already decoded track and analysis (tests, scripted runs)."""
        self.output.load(track)
        self.track, self.analysis, self.path = track, analysis, track.path
        self.loads += 1

    # -- playing ------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self.output.playing

    @property
    def duration(self) -> float:
        return self.output.duration

    def time(self) -> float:
        return self.output.time()

    def played(self) -> float:
        """Seconds played since the track came in: loops and seeks included, never jumps."""
        return self.output.clock.time()

    def toggle(self) -> None:
        self.output.toggle()

    def play(self) -> None:
        self.output.play()

    def pause(self) -> None:
        self.output.pause()

    def seek(self, t: float) -> None:
        self.output.seek(t)

    def set_loop(self, a: float | None, b: float | None = None) -> None:
        self.output.set_loop(a, b)

    def predict(self, heard: float, ahead: float) -> float:
        """Track time `ahead` seconds after `heard`, wrapped into the loop."""
        t = heard + ahead
        loop = self.output.loop
        if loop is not None and self.playing and t >= loop[1] > loop[0]:
            t = loop[0] + (t - loop[0]) % (loop[1] - loop[0])
        return min(t, self.duration) if self.duration else t

    # -- musical position ---------------------------------------------------------------
    def beat_at(self, t: float) -> tuple[int, int, float]:
        """(bar, beat in bar, bpm), 1-based; (0, 0, bpm) before the first beat."""
        a = self.analysis
        bpm = float(getattr(a, "bpm", 0.0) or 0.0)
        beats = getattr(a, "beats", None)
        if beats is None or len(beats) == 0:
            return 0, 0, bpm
        i = int(np.searchsorted(beats, t, side="right"))
        if i == 0:
            return 0, 0, bpm
        downs = getattr(a, "downbeats", None)
        if downs is None or len(downs) == 0:
            return (i - 1) // 4 + 1, (i - 1) % 4 + 1, bpm
        bar = int(np.searchsorted(downs, t, side="right"))
        if bar == 0:
            return 0, i, bpm
        first = int(np.searchsorted(beats, downs[bar - 1] - 1e-3, side="left"))
        return bar, i - first, bpm


def snap_to_bar(analysis, t: float) -> float:
    """The downbeat nearest t (every 4th beat without downbeats); t without beats."""
    downs = getattr(analysis, "downbeats", None)
    if downs is None or len(downs) == 0:
        beats = getattr(analysis, "beats", None)
        downs = beats[::4] if beats is not None and len(beats) else None
    if downs is None or len(downs) == 0:
        return t
    i = int(np.argmin(np.abs(np.asarray(downs, dtype=np.float64) - t)))
    return float(downs[i])


def clock_text(t: float) -> str:
    t = max(0.0, t)
    m, s = divmod(t, 60.0)
    return f"{int(m):02d}:{s:05.2f}"


class TransportBar:
    """The widgets: open, play/pause, stop, time, beat, seek, loop, progress."""

    def __init__(self, transport: Transport, *, on_open: Callable[[], None],
                 on_seek: Callable[[float], None], status: Callable[[str, str], None]) -> None:
        self.tr = transport
        self.on_open = on_open
        self.on_seek = on_seek
        self.status = status
        self.tags: dict[str, int] = {}
        self._last: dict[str, Any] = {}
        self._frame = 0
        self._loads_seen = transport.loads
        self.loop_px: tuple[float, float] | None = None  # the strip's drawn region (px), for tests
        self.cue_text: Callable[[float], str] | None = None  # heard -> "next: drop in 3 beats"
        from .transport_badges import Badges

        self.badges = Badges(transport)

    def build(self, parent) -> None:
        import dearpygui.dearpygui as dpg

        t = self.tags
        with dpg.group(horizontal=True, parent=parent):
            t["open"] = dpg.add_button(label="Open track...", callback=lambda: self.on_open())
            t["play"] = dpg.add_button(label="  Play  ", width=70, callback=lambda: self.toggle())
            dpg.add_button(label="|<", callback=lambda: self.seek(0.0))
            t["time"] = dpg.add_text("00:00.00 / 00:00.00")
            t["beat"] = dpg.add_text("bar - beat -", color=(245, 190, 60, 255))
            with dpg.group():  # the seek bar over the loop strip
                t["seek"] = dpg.add_slider_float(width=-470, min_value=0.0, max_value=1.0,
                                                 format="", callback=lambda s, a: self.seek(a))
                t["strip"] = dpg.add_drawlist(width=100, height=4)
            t["loop"] = dpg.add_checkbox(label="loop", callback=lambda s, a: self.apply_loop())
            t["snap"] = dpg.add_checkbox(label="bars", default_value=False,
                                         callback=lambda s, a: self.apply_loop())
            with dpg.tooltip(t["snap"]):
                dpg.add_text("A and B snap to the nearest bar (downbeat)")
            t["a"] = dpg.add_input_float(width=70, step=0, format="%.2f", default_value=0.0,
                                         callback=lambda: self.apply_loop())
            dpg.add_button(label="A", callback=lambda: self.set_point("a"))
            t["b"] = dpg.add_input_float(width=70, step=0, format="%.2f", default_value=8.0,
                                         callback=lambda: self.apply_loop())
            dpg.add_button(label="B", callback=lambda: self.set_point("b"))
            t["audio"] = dpg.add_text("", color=(150, 150, 160, 255))
        with dpg.group(horizontal=True, parent=parent):
            t["track"] = dpg.add_text("no track: File > Open track (or drop one on the command line)",
                                      color=(150, 150, 160, 255))
            t["progress"] = dpg.add_progress_bar(width=300, show=False, overlay="analysing")
            self.badges.build()

    # -- the handlers (buttons and keys call these) -------------------------------------------
    def toggle(self) -> None:
        if self.tr.track is None:
            self.status("warn", "open a track first (File > Open track)")
            return
        self.tr.toggle()

    def seek(self, t: float) -> None:
        self.on_seek(t)

    def set_point(self, which: str) -> None:
        import dearpygui.dearpygui as dpg

        dpg.set_value(self.tags[which], round(self.tr.time(), 2))
        self.apply_loop()

    def apply_loop(self) -> None:
        import dearpygui.dearpygui as dpg

        t = self.tags
        if dpg.get_value(t["snap"]):
            for k in ("a", "b"):
                dpg.set_value(t[k], round(snap_to_bar(self.tr.analysis, dpg.get_value(t[k])), 3))
        if dpg.get_value(t["loop"]):
            a, b = dpg.get_value(t["a"]), dpg.get_value(t["b"])
            self.tr.set_loop(a, b)
            if self.tr.output.loop is None:
                dpg.set_value(t["loop"], False)  # the box says what plays: no loop
                self.status("warn", "loop needs B at least 50 ms after A, inside the track")
        else:
            self.tr.set_loop(None)
        self._draw_loop()

    def _sync_loop(self) -> None:
        """Make the checkbox match the output's loop (a new track clears it)."""
        import dearpygui.dearpygui as dpg

        new_track = self.tr.loads != self._loads_seen
        self._loads_seen = self.tr.loads
        looping = self.tr.output.loop is not None
        if dpg.get_value(self.tags["loop"]) != looping:
            dpg.set_value(self.tags["loop"], looping)
            if new_track and not looping:
                self.status("info", "loop off: a new track starts without a loop (tick loop to set one)")
            self._draw_loop()
        elif new_track:
            self._draw_loop()

    def _draw_loop(self) -> None:
        """The A-B region as a strip under the seek bar."""
        import dearpygui.dearpygui as dpg

        t = self.tags
        strip, dur = t["strip"], self.tr.duration
        w = float(dpg.get_item_rect_size(t["seek"])[0] or dpg.get_item_width(strip) or 100)
        if int(w) != dpg.get_item_width(strip):
            dpg.configure_item(strip, width=int(w))
        dpg.delete_item(strip, children_only=True)
        self.loop_px = None
        a, b = dpg.get_value(t["a"]), dpg.get_value(t["b"])
        if dur <= 0 or b <= a:
            return
        x0, x1 = w * min(max(a / dur, 0.0), 1.0), w * min(max(b / dur, 0.0), 1.0)
        on = self.tr.output.loop is not None
        colour = (245, 190, 60, 255) if on else (110, 100, 70, 160)
        dpg.draw_rectangle((x0, 0), (max(x1, x0 + 2), 4), fill=colour, color=colour, parent=strip)
        self.loop_px = (x0, x1)

    # -- per frame ------------------------------------------------------------------------------
    def update(self, heard: float) -> None:
        import dearpygui.dearpygui as dpg

        t, tr = self.tags, self.tr
        dur = tr.duration
        self._set("time", f"{clock_text(heard)} / {clock_text(dur)}")
        bar, beat, bpm = tr.beat_at(heard)
        cue = self.cue_text(heard) if self.cue_text is not None else ""
        self._set("beat", (f"bar {bar} beat {beat}  {bpm:.1f} BPM" if bar or beat else
                           (f"{bpm:.1f} BPM" if bpm else "no beats")) + (f"   {cue}" if cue else ""))
        self._set("play", "  Pause " if tr.playing else "  Play  ", label=True)
        job = tr.loading
        if job is not None:
            self._set("progress_show", True, show_of="progress")
            dpg.set_value(t["progress"], job.progress)
            dpg.configure_item(t["progress"], overlay=f"{job.stage} {job.progress * 100:.0f}%")
        else:
            self._set("progress_show", False, show_of="progress")
        self._sync_loop()
        self._frame += 1
        if self._frame % 4:
            return  # the rest moves slowly: 15 Hz is plenty
        self.badges.update()
        if int(dpg.get_item_rect_size(t["seek"])[0]) != dpg.get_item_width(t["strip"]):
            self._draw_loop()  # the seek bar changed width (window resized, longer texts)
        if dur > 0 and not dpg.is_item_active(t["seek"]):
            if self._last.get("dur") != dur:
                self._last["dur"] = dur
                dpg.configure_item(t["seek"], max_value=dur)
            dpg.set_value(t["seek"], heard)
        name = os.path.basename(tr.path) if tr.path else ""
        if tr.track is None and tr.error:  # a track given at start that did not open: say why here
            self._set("track", f"no track: {tr.error}  (File > Open track)")
            self._set("track_colour", True, colour_of="track")
        else:
            self._set("track", f"{name}  {tr.notice}" if name else None)
            self._set("track_colour", False, colour_of="track")
        self._set("audio", tr.output.description)

    def _set(self, key: str, value, *, label: bool = False, show_of: str | None = None,
             colour_of: str | None = None) -> None:
        import dearpygui.dearpygui as dpg

        if value is None or self._last.get(key, False if colour_of else None) == value:
            return
        self._last[key] = value
        if colour_of:
            dpg.configure_item(self.tags[colour_of], color=(230, 80, 70, 255) if value else (150, 150, 160, 255))
        elif show_of:
            dpg.configure_item(self.tags[show_of], show=value)
        elif label:
            dpg.configure_item(self.tags[key], label=value)
        else:
            dpg.set_value(self.tags[key], value)


def wait_for(transport: Transport, timeout: float = 60.0) -> tuple[str, str] | None:
    """Block until a pending open finishes (scripted runs); returns poll()'s answer."""
    end = time.monotonic() + timeout
    while transport._load is not None and not transport._load.done and time.monotonic() < end:
        time.sleep(0.01)
    return transport.poll()

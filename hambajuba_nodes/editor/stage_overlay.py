"""The F11 stage overlay: a thin line over perform mode, for the operator only.

Drawn by this window over its own perform view (never into a frame), so the
output window, the MJPEG stream and the recording never carry it. I toggles
it in perform mode (View > Stage overlay too). The text comes from
graph_runtime/show/stage_line.py; this module only gathers the facts and
draws them, updating a widget only when its text changes.
"""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from graph_runtime.control.scenes import cue_text
from graph_runtime.show.stage_line import StageFacts, beat_flash, clock, link_text, stage_line

from . import theme
from .key_presses import fresh

STRIP_H = 24  # px kept above the image in perform mode for this line
FLASH_ON = (255, 200, 60, 255)
FLASH_OFF = (70, 60, 40, 255)


class StageOverlay:
    def __init__(self, app) -> None:
        self.app = app
        self.enabled = True
        self.group = self.dot = self.text = None
        self.facts = StageFacts()
        self._last = ("", None)

    def build(self, perform_window) -> None:
        with dpg.group(horizontal=True, parent=perform_window, pos=[10, 4]) as self.group:
            self.dot = dpg.add_text("o", color=FLASH_OFF)
            self.text = dpg.add_text("", color=theme.DIM)
        with dpg.handler_registry():
            dpg.add_key_press_handler(callback=self._on_key)

    def _on_key(self, sender, key) -> None:
        if key == dpg.mvKey_I and self.app.output.performing and fresh(key):
            self.toggle()

    def toggle(self) -> None:
        self.enabled = not self.enabled
        if self.group is not None:
            dpg.configure_item(self.group, show=self.enabled)

    # -- every frame (main thread) ---------------------------------------------------------
    def tick(self) -> None:
        if self.group is None or not self.enabled or not self.app.output.performing:
            return
        f = self.gather()
        line, flash = stage_line(f), beat_flash(f)
        if (line, flash) != self._last:
            self._last = (line, flash)
            dpg.set_value(self.text, line)
            dpg.configure_item(self.dot, color=FLASH_ON if flash else FLASH_OFF)

    def gather(self) -> StageFacts:
        app, f = self.app, self.facts
        tr = app.transport
        f.heard, f.playing = tr.time(), tr.playing
        f.bar, f.beat, f.bpm = tr.beat_at(f.heard)
        session = getattr(getattr(app, "control", None), "session", None)
        if session is not None:
            f.beat_phase = session.grid.position(f.heard) % 1.0
            f.bpm = f.bpm or (session.grid.bpm if session.tempo.bpm else 0.0)
            f.cue = cue_text(session.countdown(f.heard))
            f.scene = session.scene_now
        w = app.worker
        f.link = link_text(w.engine, w.state) if w else "none"
        f.output_fps = app.output.fps()
        rec = app.stage.recorder
        behind = rec.behind_s
        f.recording = (f"REC {clock(rec.recorded_s)}" + (f", {behind:.1f} s behind" if behind >= 0.5 else "")
                       if rec.recording else "")
        f.problems = sum(1 for p in app.live.problems if not getattr(p, "warning", False))
        return f

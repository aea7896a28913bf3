"""The character view in the window: hambajuba around the shown frame.

With the view on (`perform --view character`, the output panel's checkbox,
or F8), each shown frame is composed once (graph_runtime.stage.character)
and that canvas is what goes everywhere: the fan-out (output window, MJPEG,
recording) gets it whole, the output panel shows it at half size (one
strided float conversion into a buffer made once). The view cannot change
while a recording runs: a video keeps one frame size.

He grows while the track plays: per window frame a few adds into the
creature grower (which stems are active, the local tempo, the features the
patch steers), saved atomically every 30 s of music and when the window closes.
Main thread only.
"""
from __future__ import annotations

import hashlib
import os

import numpy as np

from graph_runtime.stage.character.compositor import Compositor
from graph_runtime.stage.character.creature import STEMS, CreatureGrower
from graph_runtime.stage.character.skin import load_skin

KEY_HELP = "F8"


class CharacterPanel:
    def __init__(self, app, *, view: str = "image", skin: str | None = None,
                 canvas: tuple[int, int] = (1280, 720)) -> None:
        self.app = app
        self.on = view == "character"
        self.skin = load_skin(skin)  # checked by the CLI before the window opens
        self.size = canvas
        self.grower = CreatureGrower(say=lambda line: app.status("warning", line))
        self.comp: Compositor | None = None
        self._analysis: object = object()  # the analysis the compositor and grower read
        self._track: object = None
        self._last_shown: float | None = None
        self._last_tick: float | None = None
        w, h = canvas
        self.panel = np.zeros(((h + 1) // 2, (w + 1) // 2, 4), np.float32)  # half size, for DPG
        self._activity = np.zeros((len(STEMS), 1), np.float32)
        self._bpm = np.zeros(1, np.float32)
        self.toggle_tag: int | None = None
        self._steer_dt = 0.0

    # -- the window ---------------------------------------------------------------------
    def build_toggle(self) -> None:
        import dearpygui.dearpygui as dpg

        from .key_presses import fresh

        self.toggle_tag = dpg.add_checkbox(label=f"Character ({KEY_HELP})", default_value=self.on,
                                           callback=lambda: self.toggle())
        with dpg.handler_registry():
            dpg.add_key_press_handler(key=dpg.mvKey_F8, callback=lambda: fresh(dpg.mvKey_F8) and self.toggle())

    def toggle(self) -> None:
        import dearpygui.dearpygui as dpg

        stage = getattr(self.app, "stage", None)
        if stage is not None and stage.recorder.recording:
            self.app.status("warning", "the view cannot change while recording (a video keeps "
                            "one frame size); stop the recording first (F10)")
        else:
            self.on = not self.on
            self.app.status("info", "character view" if self.on else "image view")
        if self.toggle_tag is not None:
            dpg.set_value(self.toggle_tag, self.on)

    # -- per shown frame -------------------------------------------------------------------
    def compose(self, rgba: np.ndarray, t: float, now: float) -> tuple[np.ndarray, np.ndarray]:
        """(canvas uint8 for the fan-out, half-size float copy for the panel)."""
        self._bind()
        dt = 1.0 / 60.0 if self._last_shown is None else min(max(now - self._last_shown, 0.0), 0.25)
        self._last_shown = now
        canvas = self.comp.frame(rgba, t, dt)
        np.multiply(canvas[::2, ::2], 1.0 / 255.0, out=self.panel)
        return canvas, self.panel

    def _bind(self) -> None:
        live = getattr(self.app, "live_input", None)
        analysis = live.source if live is not None and live.active else self.app.transport.analysis
        if analysis is self._analysis and self.comp is not None:
            return
        self._analysis = analysis
        if self.comp is None:
            self.comp = Compositor(self.skin, self.size[0], self.size[1],
                                   self.grower.creature, analysis)
        else:
            self.comp.bind(analysis)
        self.comp.drive.seek()

    # -- growing ---------------------------------------------------------------------------
    def tick(self, heard: float, playing: bool, now: float) -> None:
        """Once per window frame: he hears what plays (whatever the view)."""
        dt = 0.0 if self._last_tick is None or not playing else now - self._last_tick
        self._last_tick = now
        analysis = self.app.transport.analysis
        if analysis is None:
            return
        if analysis is not self._track:
            self._track = analysis
            self._read_track(analysis)
        if dt <= 0.0:
            return
        i = min(max(int(heard * float(getattr(analysis, "fps", 50.0))), 0),
                self._activity.shape[1] - 1)
        act = self._activity[:, i]
        self.grower.frame(dt, (act[0] > 0.5, act[1] > 0.5, act[2] > 0.5, act[3] > 0.5),
                          float(self._bpm[min(i, len(self._bpm) - 1)]))
        self._steer_dt += dt
        if self._steer_dt >= 0.5:  # twice a second: the keys are strings
            self._steered(self._steer_dt)
            self._steer_dt = 0.0

    def _read_track(self, analysis) -> None:
        """A new track: its activity and tempo channels (read once), and one more track heard."""
        self._activity = np.stack([analysis.channel_or_zeros(f"{s}/activity")
                                   for s in STEMS]).astype(np.float32)
        self._bpm = analysis.channel_or_zeros("global/bpm_local").astype(np.float32)
        if not len(self._bpm):
            self._bpm = np.zeros(1, np.float32)
        path = getattr(self.app.transport, "path", "") or ""
        key = hashlib.sha256(f"{os.path.basename(path)}:{analysis.n_frames}".encode()).hexdigest()
        self.grower.track(key[:16])

    def _steered(self, dt: float) -> None:
        """The features the patch steers with some strength now, by block and id."""
        plan = getattr(getattr(self.app, "live", None), "plan", None)
        frame = getattr(plan, "frame", None)
        if frame is None:
            return
        from graph_runtime.graph.frame import BLOCKS

        strength, ids = frame.strength, frame.scene.feature_ids
        for b in range(strength.shape[0]):
            for s in range(strength.shape[1]):
                if abs(strength[b, s]) > 1e-3 and ids[b, s] >= 0:
                    self.grower.steered(f"{BLOCKS[b]}#{int(ids[b, s])}", dt)

    def close(self) -> None:
        self.grower.flush()

"""The engine tab and the engine's life in the window: start, restart,
model and address, readiness, a refused scene, the feature preview.

A part of App (mixed in): it reads the window's widgets and the show's
worker and live plan. The engine renders on its own thread (show/engine_thread.py).
"""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from graph_runtime.graph.frame import BLOCKS
from graph_runtime.graph.patch import ENGINE_MODELS
from graph_runtime.render.engines import engine_factory
from graph_runtime.show.delivery import Delivery
from graph_runtime.show.engine_thread import EngineWorker

from . import theme
from .features import engine_index
from .layout import RIGHT_W, UI_FPS


class EnginePanel:
    """The engine tab and the engine worker's lifecycle (part of App)."""

    def _build_engine_tab(self) -> None:
        dpg.add_text("model (saved in the patch)")
        self.model_combo = dpg.add_combo(list(ENGINE_MODELS), default_value="auto", width=160,
                                         callback=lambda s, a: self.set_engine_model(a))
        dpg.add_text("the preview model is tiny and untrained (random weights): it shows the "
                     "whole dataflow on a CPU, not pictures", wrap=RIGHT_W - 30, color=theme.PREVIEW)
        self.seed_input = dpg.add_input_int(label="seed", width=160, min_value=0, min_clamped=True,
                                            callback=lambda s, a: self._engine_setting("seed", a))
        self.engine_info = dpg.add_text("", wrap=RIGHT_W - 30, color=theme.DIM)
        self.engine_link = dpg.add_text("link: -", color=theme.DIM)  # remote: RTT and fps
        self.engine_address_input = dpg.add_input_text(
            label="engine (HOST:PORT, empty = this machine)", width=160, on_enter=True,
            default_value=self._engine_address or "",
            callback=lambda s, a: self.set_engine_address(a))
        self.engine_in_flight_input = dpg.add_input_int(
            label="frames in flight (remote)", width=160, min_value=1, max_value=32,
            min_clamped=True, max_clamped=True, default_value=self._engine_in_flight,
            on_enter=True, callback=lambda s, a: self.set_engine_in_flight(a))
        dpg.add_separator()
        dpg.add_text("patch problems")
        self.problems_text = dpg.add_text("none", wrap=RIGHT_W - 30)

    def start_engine(self, restart: bool = False) -> None:
        if self.worker is not None:
            if not restart:
                return
            # let a frame in flight finish: two SDXL engines at once may not fit in GPU memory
            self.worker.stop(timeout=10.0)
            self.worker = None
        arg = self._engine_arg
        if arg is False or arg is None:
            self.output.set_model_text("engine off: patch and meters only", preview=False)
            return
        model, size = self._engine_spec()
        self._running_spec = (model, size)
        factory = arg if callable(arg) else engine_factory(  # an address: `hambajuba serve`
            model, size, address=self._engine_address, token=self._engine_token,
            in_flight=self._engine_in_flight)
        self.worker = EngineWorker(factory)
        self.delivery = Delivery(self.worker.release, ui_period=1.0 / UI_FPS)
        self._engine_seen = "starting"
        self.output.set_model_text(f"engine: loading {model} model...", preview=False)
        self.worker.start()

    def _engine_spec(self) -> tuple[str, int]:
        """(model, image size): the command line's choice, else the patch's."""
        model = self._model_choice or self.model.patch.engine.get("model", "auto")
        size = self._size or self.model.patch.engine.get("size", 512)
        return str(model), int(size) if isinstance(size, int) and not isinstance(size, bool) else 512

    def set_engine_model(self, model: str) -> None:
        reason = self.model.set_engine("model", model)
        if reason:
            self.status("error", reason)
            return
        self._model_choice = model
        self.start_engine(restart=True)

    def set_engine_address(self, address: str) -> None:
        """Render on `hambajuba serve` at HOST:PORT (empty: the local engine); restarts it."""
        self._engine_address = address.strip() or None
        self.start_engine(restart=True)

    def set_engine_in_flight(self, n: int) -> None:
        """Frames kept on the wire to a remote engine (1..32); restarts a remote engine."""
        self._engine_in_flight = max(1, min(32, int(n)))
        if self._engine_address:
            self.start_engine(restart=True)

    def _engine_setting(self, key: str, value) -> None:
        reason = self.model.set_engine(key, value)
        if reason:
            self.status("error", reason)

    def _poll_engine(self) -> None:
        w = self.worker
        if w is not None and w.scene_refusal != self._refusal_seen:  # shown on the node, in Messages
            self._refusal_seen = w.scene_refusal
            self.live.engine_refused(w.scene_refusal)
            if w.scene_refusal:
                self.status("warn", f"engine keeps the last good scene: {w.scene_refusal}")
        if w is None or w.state == self._engine_seen:
            if w is not None and w.ready and w.errors and w.message:
                self.status(getattr(w, "message_level", "error"), f"engine: {w.message}")
                w.message, w.message_level = "", "error"  # good news (connected) is not an error
            return
        self._engine_seen = w.state
        if w.state == "ready":
            eng = w.engine
            desc = eng.description or ("preview model" if w.is_preview else "SDXL-Turbo")
            note = eng.note
            label = f"PREVIEW MODEL (untrained, random weights): {desc}" if w.is_preview else desc
            self.output.set_model_text(label, preview=w.is_preview)
            dpg.set_value(self.engine_info, f"{desc}\n{note}".strip())
            if note:
                self.status("warn", note)
            self.live.set_feature_mean(eng.feature_mean)
            self._settle_garbage()
            try:
                self.features.set_index(engine_index(eng))
            except Exception as e:
                self.status("warn", f"feature labels unavailable: {e}")
        elif w.state == "failed":
            self.output.set_model_text(f"engine failed: {w.message}", preview=False, error=True)
            self.status("error", f"engine: {w.message}")
            if (self._model_choice or self.model.patch.engine.get("model")) == "sdxl-turbo":
                self.dialogs.ask("SDXL-Turbo is not available",
                                 f"{w.message}\n\nThe preview model (tiny, untrained, random weights) "
                                 "runs the whole patch on this machine so you can keep working.",
                                 [("Use the preview model", lambda: self._use_preview()),
                                  ("Keep without an engine", lambda: None)])

    def _use_preview(self) -> None:
        self._model_choice = "preview"
        self.start_engine(restart=True)

    def preview_feature(self, block: str, fid: int, strength: float) -> str | None:
        w = self.worker
        if w is None or not w.ready or self.live.plan is None:
            self.status("warn", "the feature preview needs the engine running")
            return "engine not running"
        self._preview_version -= 1
        # scaled by the feature's mean as a sink scales it (a sink at s writes s x mean)
        mean = self.live.feature_mean(block, int(fid)) if self.live.feature_mean else 1.0
        w.request_preview(self.live.plan.frame, BLOCKS.index(block), int(fid),
                          float(strength) * float(mean), self._preview_version)
        self.status("info", f"previewing {block} #{fid} at strength {strength:.0f}")
        return None

"""The instrument window: one Dear PyGui viewport, one main loop.

Layout: menu bar; transport (open, play, time, beat, seek, loop, analysis
progress); the node editor on the left; on the right the output image with
its frame rate, then tabs (feature browser, mask painter, engine settings,
messages); a status bar at the bottom.

Threads: the main thread owns every Dear PyGui call. Callbacks are queued by
Dear PyGui (manual callback management) and run at the start of each frame
by `_run_callbacks`; the engine renders on its thread (engine_thread.py),
the audio plays on PortAudio's, and tracks are decoded and analysed on a
loader thread (transport.py). None of them touch the window.

One frame (`tick`, then Dear PyGui draws):
    1. run queued callbacks: user edits become commands on the EditorModel
    2. install a finished track; notice the engine becoming ready
    3. recompile when the patch changed (swap plans between two frames)
    4. heard = audio clock; t_seen = heard + delivery lookahead
    5. run the plan for t_seen (-> engine) and its monitor for heard (meters)
    6. take the newest finished frame: show it, hold it, or drop it if late
    7. meters, transport, autosave, status
"""
from __future__ import annotations

import gc
import inspect
import os
import sys
import time
from collections import deque
from typing import Any, Callable

import dearpygui.dearpygui as dpg

from graph_runtime.frame_params import BLOCKS
from graph_runtime.patch import ENGINE_MODELS
from graph_runtime.playback import Output, open_output

from . import theme
from .add_menu import AddNodeMenu
from .audio_files import ask_open_track
from .commands import Change, EditorModel
from .control_panel import ControlPanel
from .dialogs import Dialogs
from .delivery import Delivery
from .engine_thread import EngineWorker
from .features import FeatureBrowser, engine_index
from .files import Files
from .input import SHORTCUTS, InputBindings
from .layout import arrange, on_screen
from .live import LiveSession
from .mask_painter import MaskPainter, mask_param
from .meters import Meters
from .node_editor import NodeEditorView
from .output import OutputView
from .plan_notice import PlanNotice
from .stage_menu import StageControls
from .status_bar import StatusBar
from .transport import Transport, TransportBar

RIGHT_W = 540
UI_FPS = 60.0
SINK_TYPE = "sae.block"


def engine_factory(model: str, size: int) -> Callable[[], Any]:
    """Builds the real engine on the engine thread (imports torch there)."""
    def make():
        try:
            import torch

            from graph_runtime.engine.engine import Engine
        except ModuleNotFoundError as e:
            raise RuntimeError(f"the engine is not in this checkout ({e.name})") from None
        if not torch.cuda.is_available():  # leave a core to the window
            torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
        return Engine.create(model=model, size=size)
    return make


class App:
    def __init__(self, *, registry=None, patch_path: str | None = None, track_path: str | None = None,
                 model: str | None = None, engine: bool | Callable[[], Any] = True,
                 output: Output | None = None, audio: str = "auto", size: int | None = None,
                 width: int = 1600, height: int = 960, config: str | None = None,
                 autosave_every: float = 30.0, vsync: bool = True, title: str = "hambajuba",
                 autoplay: bool = False, analyze: Callable | None = None,
                 engine_address: str | None = None, engine_token: bytes | None = None,
                 engine_in_flight: int = 2,
                 output_window: bool = False, monitor: int | None = None, fullscreen: bool = False,
                 serve_output: str | None = None, record: str | None = None,
                 midi: tuple[str, ...] = (), osc: str | None = None,
                 live_input: str | None = None) -> None:
        if registry is None:
            from hambajuba_nodes.registry import default_registry

            registry = default_registry()
        self.registry = registry
        self.messages: deque[tuple[str, str, str]] = deque(maxlen=300)
        self.status_bar = StatusBar(self.messages)
        self.plan_notice = PlanNotice()
        self.frame_us: deque[float] = deque(maxlen=600)  # UI work per frame, wall clock
        self.frame_cpu_us: deque[float] = deque(maxlen=600)  # the same, this thread's CPU time
        self.frames = 0
        self._quit = False
        self._arg_cache: dict[Any, int] = {}
        self._problems_key: Any = None
        self._refusal_seen: str | None = None
        self._title = ""
        self._model_choice = model
        self._engine_arg = engine
        self._size = size
        self._engine_address, self._engine_token = engine_address, engine_token  # remote engine
        self._engine_in_flight = engine_in_flight  # frames on the wire to a remote engine
        self.exit_problems: list[str] = []
        self.autoplay = autoplay  # play as soon as the track given is in
        self.upload_us = 0.0  # texture copy of the last shown frame (not UI work)
        self._last_tick = 0.0
        self._period = 1.0 / UI_FPS
        self._opened = time.monotonic()

        # the engine and loader threads hold the GIL in short bursts; a 1 ms
        # switch interval (Python's default is 5 ms) bounds how long the window
        # waits to get it back
        sys.setswitchinterval(0.001)
        dpg.create_context()
        dpg.configure_app(manual_callback_management=True)
        self.themes = theme.Themes()
        self.model = EditorModel(registry)
        self.live = LiveSession(registry, fps=UI_FPS, background=True)  # new per-track work off-thread
        self.live.follow(self.model)
        self.meters = Meters()
        self.dialogs = Dialogs()
        self.view = NodeEditorView(self.model, self.meters, self.themes, status=self.status,
                                   on_special=self._special)
        self.model.listeners.append(self._on_change)
        self.transport = Transport(output or open_output(audio),
                                   **({"analyze": analyze} if analyze is not None else {}))
        self.files = Files(self.model, config=config, autosave_every=autosave_every)
        self.files.before_save = self.view.sync_positions
        self.output = OutputView()
        self.features = FeatureBrowser(on_pick=self.pick_feature, on_preview=self.preview_feature,
                                       status=self.status)
        self.painter = MaskPainter(self.model, status=self.status)
        self.add_menu = AddNodeMenu(registry, self._add_from_menu)
        # the stage (issue 12): output window, MJPEG, recorder, fed once per shown frame
        self.stage = StageControls(self, output_window=output_window, monitor=monitor,
                                   fullscreen=fullscreen, serve_output=serve_output, record=record)
        # MIDI / OSC / scenes / tap (issue 11): its inbox is drained first thing in tick
        self.control = ControlPanel(self, midi=midi, osc=osc)
        self.control.session.recall_listeners.append(self.stage.note_scene)  # recording sidecar
        # live input (issue 13): the source picker; --input starts it once the window is up
        from .live_input_panel import LiveInputPanel
        self.live_input = LiveInputPanel(self, spec=live_input)
        self.worker: EngineWorker | None = None
        self.delivery: Delivery | None = None
        self._engine_seen = "idle"
        self._running_spec: tuple[str, int] | None = None
        self._preview_version = -1
        self.selected: list[str] = []

        self._build(width, height, title)
        dpg.create_viewport(title=title, **on_screen(width, height), disable_close=True,
                            vsync=vsync, clear_color=(18, 18, 22, 255))
        dpg.set_exit_callback(self.request_quit)
        dpg.set_viewport_resize_callback(lambda: self.layout())
        dpg.setup_dearpygui()
        dpg.show_viewport()
        dpg.set_primary_window(self.main, True)
        self.layout()
        self.status("info", "ready: right-click the canvas to add nodes; drag from a pin to link")
        if patch_path:
            self.open_patch(patch_path, offer_recovery=True)
        else:
            self._offer_recovery(None)
        if track_path:
            self.open_track(track_path)
        self.live_input.begin()
        self.start_engine()
        self.stage.start()
        self.control.start()
        self.exit_problems += self.control.problems
        self._settle_garbage()

    # ------------------------------------------------------------------ building
    def _build(self, width: int, height: int, title: str) -> None:
        with dpg.window(tag="hambajuba_main", menubar=True, no_scrollbar=True) as self.main:
            self._build_menus()
            self.bar = TransportBar(self.transport, on_open=self.ask_open_track, on_seek=self.seek,
                                    status=self.status)
            self.bar.build(self.main)
            with dpg.group(horizontal=True):
                self.left = dpg.add_child_window(width=width - RIGHT_W - 24, height=height - 140,
                                                 border=False, no_scrollbar=True)
                self.view.build(self.left)
                with dpg.child_window(width=RIGHT_W, height=height - 140, border=False) as self.right:
                    self.output.build(self.right)
                    with dpg.group(horizontal=True):
                        dpg.add_button(label="Perform (F11)", callback=lambda: self.toggle_perform())
                        self.engine_button = dpg.add_button(label="Restart engine",
                                                            callback=lambda: self.start_engine(restart=True))
                        self.stage.build_buttons()
                    with dpg.tab_bar() as self.tabs:
                        with dpg.tab(label="Feature") as self.tab_features:
                            self.features.build(self.tab_features)
                        with dpg.tab(label="Mask") as self.tab_mask:
                            self.painter.build(self.tab_mask)
                        with dpg.tab(label="Engine") as self.tab_engine:
                            self._build_engine_tab()
                        with dpg.tab(label="Control") as self.tab_control:
                            self.control.build(self.tab_control)
                        with dpg.tab(label="Input") as self.tab_input:
                            self.live_input.build(self.tab_input)
                        with dpg.tab(label="Messages") as self.tab_messages:
                            self.messages_text = dpg.add_text("", wrap=RIGHT_W - 20)
                            self.status_bar.bind_messages(self.messages_text)
            with dpg.group(horizontal=True):
                self.status_bar.build()
            dpg.bind_item_theme(self.main, self.themes.global_theme)
        self.add_menu.build()
        self.input = InputBindings(self)
        self.input.install()

    def _build_menus(self) -> None:
        with dpg.menu_bar():
            with dpg.menu(label="File"):
                dpg.add_menu_item(label="New", shortcut="Ctrl+N", callback=lambda: self.new_patch())
                dpg.add_menu_item(label="Open patch...", shortcut="Ctrl+O", callback=lambda: self.ask_open_patch())
                self.recent_menu = dpg.add_menu(label="Open recent")
                dpg.add_menu_item(label="Save", shortcut="Ctrl+S", callback=lambda: self.save())
                dpg.add_menu_item(label="Save as...", shortcut="Ctrl+Shift+S", callback=lambda: self.ask_save_as())
                dpg.add_separator()
                dpg.add_menu_item(label="Open track...", callback=lambda: self.ask_open_track())
                dpg.add_separator()
                dpg.add_menu_item(label="Quit", shortcut="Ctrl+Q", callback=lambda: self.request_quit())
            with dpg.menu(label="Edit"):
                dpg.add_menu_item(label="Undo", shortcut="Ctrl+Z", callback=lambda: self.undo())
                dpg.add_menu_item(label="Redo", shortcut="Ctrl+Shift+Z", callback=lambda: self.redo())
                dpg.add_separator()
                dpg.add_menu_item(label="Cut", shortcut="Ctrl+X", callback=lambda: self.view.cut_selected())
                dpg.add_menu_item(label="Copy", shortcut="Ctrl+C", callback=lambda: self.view.copy_selected())
                dpg.add_menu_item(label="Paste", shortcut="Ctrl+V", callback=lambda: self.view.paste_at())
                dpg.add_menu_item(label="Duplicate", shortcut="Ctrl+D", callback=lambda: self.view.duplicate_selected())
                dpg.add_menu_item(label="Delete selected", shortcut="Del", callback=lambda: self.view.delete_selected())
                dpg.add_separator()
                dpg.add_menu_item(label="Add comment", callback=lambda: self.add_comment())
            with dpg.menu(label="Add") as add:
                dpg.add_menu_item(label="Search nodes...", shortcut="Tab / right-click",
                                  callback=lambda: self.input.open_add_menu(centre=True))
                dpg.add_menu_item(label="Auto chain (stem -> block)...",
                                  callback=lambda: self.ask_auto_chain())
                dpg.add_separator()
                self.add_menu.build_menu(add)
            with dpg.menu(label="Play"):
                dpg.add_menu_item(label="Play / pause", shortcut="Space", callback=lambda: self.bar.toggle())
                dpg.add_menu_item(label="Back to start", callback=lambda: self.seek(0.0))
            self.control.build_menu()
            with dpg.menu(label="View"):
                dpg.add_menu_item(label="Perform mode", shortcut="F11", callback=lambda: self.toggle_perform())
                self.meters_item = dpg.add_menu_item(label="Live meters", check=True, default_value=True,
                                                     callback=lambda s, a: setattr(self.meters, "enabled", a))
                dpg.add_menu_item(label="Fullscreen window", callback=lambda: dpg.toggle_viewport_fullscreen())
            self.stage.build_menu()
            with dpg.menu(label="Help"):
                dpg.add_menu_item(label="Shortcuts and mouse", callback=lambda: self.dialogs.message(
                    "Shortcuts", SHORTCUTS, width=700))
        self._refresh_recent()

    def _build_engine_tab(self) -> None:
        dpg.add_text("model (saved in the patch)")
        self.model_combo = dpg.add_combo(list(ENGINE_MODELS), default_value="auto", width=160,
                                         callback=lambda s, a: self.set_engine_model(a))
        dpg.add_text("the preview model is tiny and untrained (random weights): it shows the "
                     "whole dataflow on a CPU, not pictures", wrap=RIGHT_W - 30, color=theme.PREVIEW)
        self.seed_input = dpg.add_input_int(label="seed", width=160, min_value=0, min_clamped=True,
                                            callback=lambda s, a: self._engine_setting("seed", a))
        self.engine_info = dpg.add_text("", wrap=RIGHT_W - 30, color=theme.DIM)
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

    # ------------------------------------------------------------------ layout
    def layout(self) -> None:
        arrange(self)  # layout.py: canvas, right column, image and feature table

    # ------------------------------------------------------------------ status
    def status(self, level: str, text: str) -> None:
        self.status_bar.post(level, text)  # an error stands until replaced or dismissed

    def last_status(self) -> str:
        """The newest message (the bar may still show a standing error)."""
        return self.status_bar.last

    # ------------------------------------------------------------------ the loop
    def run(self, *, quit_after: float | None = None, screenshot: str | None = None) -> int:
        """Run until the window closes, or for quit_after seconds of playing
        (counted from when the track and the engine are in); 0 when all went well."""
        start, opened = None, time.monotonic()
        while dpg.is_dearpygui_running() and not self._quit:
            self.step()
            if start is None and self._settled(time.monotonic() - opened):
                start = time.monotonic()
            if quit_after is not None and start is not None and time.monotonic() - start >= quit_after:
                break
        if screenshot:
            self.screenshot(screenshot)
        self.close()
        return 2 if self.exit_problems else 0

    def _settled(self, waited: float) -> bool:
        """The track is in and the engine is up (or failed): a scripted run's
        clock starts here, so its screenshot shows the performance, not loading."""
        engine_busy = self.worker is not None and self.worker.state == "starting"
        return self.transport.loading is None and (not engine_busy or waited > 300.0)

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            self.tick()
            dpg.render_dearpygui_frame()

    def tick(self) -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        if self._last_tick:  # the window's real frame period: frames are shown that late
            self._period = 0.9 * self._period + 0.1 * min(t0 - self._last_tick, 0.5)
            if self.delivery is not None:
                self.delivery.ui_period = self._period
        self._last_tick = t0
        self._run_callbacks()
        self._poll_track()
        self._poll_engine()
        self.control.drain()  # MIDI/OSC values, scenes: before the plan updates and runs (C2)
        if self.autoplay and self.transport.track is not None and \
                self._settled(time.monotonic() - self._opened):
            self.autoplay = False  # the track given at start plays once the model is up
            self.transport.play()
        path = self.files.path  # album art and other relative paths start at the patch's folder
        self.live.set_base_dir(os.path.dirname(os.path.abspath(path)) if path else None)
        if self.live.update(self.model.patch) or self.live.problems is not self._problems_key:
            self._show_problems()
        tr = self.transport
        playing = tr.playing
        heard = tr.time()
        worker, delivery = self.worker, self.delivery
        engine_on = worker is not None and worker.ready
        t_seen = tr.predict(heard, delivery.lookahead()) if engine_on and playing else heard
        if self.live_input.active:  # live input: its stream clock drives the frames (issue 13)
            playing, heard = True, self.live_input.clock()
            t_seen = heard + (delivery.lookahead() if engine_on else 0.0)
        self.live_input.tick(delivery.lookahead() if engine_on else 0.0)
        frame = self.live.advance(t_seen, heard, playing=playing)
        if engine_on:
            if frame is not None:
                worker.submit(frame, t_seen)
            self._deliver(heard, playing)
        self.meters.update(self.live.meter_plan, self.live.generation)
        self.bar.update(heard)
        self.view.tick()  # fit / reveal once nodes are measured
        self._housekeeping()
        self.frames += 1
        self.frame_us.append((time.perf_counter() - t0) * 1e6 - self.upload_us)
        self.frame_cpu_us.append((time.thread_time() - c0) * 1e6 - self.upload_us)
        self.upload_us = 0.0

    def _deliver(self, heard: float, playing: bool) -> None:
        shown = self.delivery.offer(self.worker.poll(), heard, playing=playing)
        if shown is not None:
            t0 = time.perf_counter()
            self.output.show_frame(shown.image, time.monotonic())  # the texture upload
            self.stage.fanout.publish(shown.rgba, time.monotonic(), heard)  # once per shown frame
            self.worker.release(shown)
            self.upload_us = (time.perf_counter() - t0) * 1e6
        self.stage.fanout.heard(time.monotonic(), heard, playing)  # the recorder's audio
        preview = self.worker.poll_preview()
        if preview is not None:
            self.features.show_preview(preview.image)

    def _housekeeping(self) -> None:
        self.stage.tick(self.frames)
        if self.files.tick():
            self.status("info", f"autosaved to {self.files.last_autosave_path}")
        if self.frames % 15 == 0:
            title = f"hambajuba - {self.files.title}"
            if title != self._title:
                self._title = title
                dpg.set_viewport_title(title)
            self._update_stats()

    def _update_stats(self) -> None:
        w, d = self.worker, self.delivery
        ui = sorted(self.frame_us)[len(self.frame_us) // 2] if len(self.frame_us) > 10 else 0
        parts = [f"window {dpg.get_frame_rate():.0f} fps (ui work {ui / 1000:.2f} ms)"]
        if w is not None and w.ready and d is not None:
            parts.append(f"output {self.output.fps():.1f} fps, render {w.render_s * 1000:.0f} ms, "
                         f"latency {d.latency * 1000:.0f} ms, dropped {d.dropped}, skipped {w.skipped}")
        self.output.set_stats("  |  ".join(parts))

    def _run_callbacks(self) -> None:
        """Run Dear PyGui's queued callbacks; one failing never stops the window."""
        jobs = dpg.get_callback_queue()
        if not jobs:
            return
        for job in jobs:
            fn = job[0]
            if fn is None:
                continue
            n = self._arg_cache.get(fn)
            if n is None:
                n = _positional_args(fn)
                self._arg_cache[fn] = n
            try:
                fn(*job[1:1 + n])
            except Exception as e:  # a bug in one handler: say it, keep playing
                self.status("error", f"{type(e).__name__}: {e}")

    # ------------------------------------------------------------------ engine
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
        factory = arg if callable(arg) else engine_factory(model, size)
        if self._engine_address and not callable(arg):  # `hambajuba serve` elsewhere
            from graph_runtime.remote.client import remote_factory

            factory = remote_factory(self._engine_address, self._engine_token,
                                     in_flight=self._engine_in_flight)  # JPEG: the default
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
                self.status("error", f"engine: {w.message}")
                w.message = ""
            return
        self._engine_seen = w.state
        if w.state == "ready":
            eng = w.engine
            desc = getattr(eng, "description", "") or ("preview model" if w.is_preview else "SDXL-Turbo")
            note = getattr(eng, "note", "")
            label = f"PREVIEW MODEL (untrained, random weights): {desc}" if w.is_preview else desc
            self.output.set_model_text(label, preview=w.is_preview)
            dpg.set_value(self.engine_info, f"{desc}\n{note}".strip())
            if note:
                self.status("warn", note)
            self.live.set_feature_mean(getattr(eng, "feature_mean", None))
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

    @staticmethod
    def _settle_garbage() -> None:
        """Move what exists now (the window, the registry, torch, the track)
        out of the collector's sight: a full collection then walks only what
        came since, a few ms instead of tens in the middle of a frame. Done at
        start, when the engine is up and when a track is in."""
        gc.collect()
        gc.freeze()

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

    # ------------------------------------------------------------------ patch files
    def new_patch(self) -> None:
        self._unsaved_then(lambda: (self.files.new(), self.status("info", "new patch")))

    def open_patch(self, path: str, *, offer_recovery: bool = True) -> list[str]:
        problems = self.files.open(path)
        if problems:
            self.exit_problems += problems
            self.status("error", f"cannot open {os.path.basename(path)}: {problems[0]}")
            self.dialogs.message("Patch not opened", "\n".join(problems[:12]) +
                                 "\n\nThe current patch is unchanged.")
            return problems
        self._refresh_recent()
        self.status("info", f"opened {path}")
        if offer_recovery:
            self._offer_recovery(self.files.path)
        if self.worker is not None and self._engine_spec() != self._running_spec:
            self.start_engine(restart=True)  # the patch asks for another model or size
        return []

    def _offer_recovery(self, path: str | None) -> None:
        side = self.files.recovery_for(path)
        if side is None:
            return
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(side)))
        self.dialogs.ask("Recover unsaved changes?",
                         f"hambajuba did not close cleanly. An autosave from {when} has changes "
                         f"that were never saved:\n{side}",
                         [("Recover", lambda: self._recover(side)),
                          ("Discard", lambda: self.files.discard_recovery(path))])

    def _recover(self, side: str) -> None:
        problems = self.files.recover(side)
        self.status("error" if problems else "info",
                    problems[0] if problems else "recovered the autosave; save to keep it")

    def save(self) -> str | None:
        reason = self.files.save()
        if reason == "no path":
            self.ask_save_as()
            return reason
        self._saved(reason)
        return reason

    def save_as(self, path: str) -> str | None:
        reason = self.files.save_as(path)
        self._saved(reason)
        return reason

    def _saved(self, reason: str | None) -> None:
        if reason:
            self.status("error", reason)
            self.dialogs.message("Not saved", reason + "\n\nYour patch is still open; try another place.")
        else:
            self._refresh_recent()
            self.status("info", f"saved {self.files.path}")

    def ask_open_patch(self) -> None:
        self._unsaved_then(lambda: self.dialogs.choose_file(
            "Open patch", (".patch",), lambda p: self.open_patch(p), default=self.files.path or ""))

    def ask_save_as(self) -> None:
        self.dialogs.choose_file("Save patch as", (".patch",), lambda p: self.save_as(p), save=True,
                                 default=self.files.path or os.path.join(os.getcwd(), "untitled.patch"))

    def ask_open_track(self) -> None:
        ask_open_track(self.dialogs, self.transport.path, lambda p: self.open_track(p))

    def _refresh_recent(self) -> None:
        dpg.delete_item(self.recent_menu, children_only=True)
        for p in self.files.recent:
            dpg.add_menu_item(label=p, parent=self.recent_menu, user_data=p,
                              callback=lambda s, a, u: self._unsaved_then(lambda: self.open_patch(u)))
        if not self.files.recent:
            dpg.add_menu_item(label="(none yet)", parent=self.recent_menu, enabled=False)

    def _unsaved_then(self, action: Callable[[], Any]) -> None:
        """Run action, asking first when there are unsaved changes."""
        if not self.model.dirty:
            action()
            return

        def save_then():
            if self.save() is None:
                action()

        self.dialogs.ask("Unsaved changes", f"{self.files.title} has unsaved changes.",
                         [("Save", save_then), ("Discard", action), ("Cancel", lambda: None)])

    def request_quit(self) -> None:
        self._unsaved_then(self.quit)

    def quit(self) -> None:
        self._quit = True
        self.files.close()
        dpg.stop_dearpygui()

    # ------------------------------------------------------------------ tracks
    def open_track(self, path: str) -> None:
        self.transport.open(path)
        self.status("info", f"opening {os.path.basename(path)}: decoding and analysing...")

    def _poll_track(self) -> None:
        event = self.transport.poll()
        if event is None:
            return
        level, text = event
        self.status(level, text)
        if level == "error":
            self.exit_problems.append(text)
            return
        self.live.set_analysis(self.transport.analysis)
        self.live.reset()
        self._settle_garbage()

    def seek(self, t: float) -> None:
        self.transport.seek(t)
        self.live.reset()

    # ------------------------------------------------------------------ editing
    def undo(self) -> None:
        if self.model.undo():
            self.status("info", f"undid {self.model.redo_label}")

    def redo(self) -> None:
        if self.model.redo():
            self.status("info", f"redid {self.model.undo_label}")

    def add_comment(self, text: str = "a note about this patch") -> str:
        return self.model.add_comment(text, self.view.view_centre())

    def _add_from_menu(self, type_id: str, at) -> None:
        self.view.add_node_at(type_id, at)

    def pick_feature(self, node_id: str, block: str, fid: int) -> str | None:
        reason = self.model.set_params(node_id, {"block": block, "feature_id": int(fid)})
        if reason:
            self.status("error", reason)
        else:
            self.status("info", f"{node_id} now steers {block} #{fid}")
            self.features.set_target(node_id, block, fid)
        return reason

    def _special(self, what: str, node_id: str, name: str) -> None:
        """Buttons inside nodes: browse features, paint a mask, choose a file."""
        if what == "browse_features":
            self.select_target(node_id)
            dpg.set_value(self.tabs, self.tab_features)
        elif what == "paint_mask":
            self.painter.set_node(node_id)
            dpg.set_value(self.tabs, self.tab_mask)
        elif what == "choose_path":
            self.dialogs.choose_file(f"Choose {name}", (".png", ".jpg", ".jpeg", ".webp"),
                                     lambda p: self.view.on_param(node_id, name, p))

    def select_target(self, node_id: str) -> None:
        spec = self.model.patch.node(node_id)
        if spec is not None and spec.type == SINK_TYPE:
            self.features.set_target(node_id, self.model.param_value(node_id, "block"),
                                     self.model.param_value(node_id, "feature_id"))
        if mask_param(self.model, node_id):
            self.painter.set_node(node_id)

    def _on_change(self, change: Change) -> None:
        if change.kind in ("document", "params", "structure"):
            self.painter.sync()
            t = self.features.target
            if t is not None and self.model.patch.node(t) is None:
                self.features.set_target(None)
        if change.kind in ("document", "engine"):
            dpg.set_value(self.model_combo, self.model.patch.engine.get("model", "auto"))
            dpg.set_value(self.seed_input, int(self.model.patch.engine.get("seed", 0)))

    def _show_problems(self) -> None:
        live = self.live
        self._problems_key = live.problems
        self.view.show_problems(live.node_problems())
        lines = [str(p) for p in live.problems]
        dpg.set_value(self.problems_text, "\n".join(lines) if lines else "none")
        said = self.plan_notice.update(live, (id(self.model.patch), os.path.basename(
            self.files.path or "untitled.patch")))  # plan_notice.py: which patch drives the image
        self.output.set_notice(said[0] if said else "")
        self.status("error", said[1]) if said else self.status_bar.resolve("does not compile")

    def ask_auto_chain(self) -> None:
        """A small form: which stem drives which block."""
        from graph_runtime.analysis.store import ALL_STEMS

        if dpg.does_item_exist("hambajuba_auto_chain"):
            dpg.delete_item("hambajuba_auto_chain")
        with dpg.window(label="Auto chain", tag="hambajuba_auto_chain", modal=True, autosize=True,
                        no_saved_settings=True, pos=[300, 160]):
            dpg.add_text("source -> blended physics -> dance -> SAE block (+ mask),\n"
                         "configured from the stem's classification", color=theme.DIM)
            stem = dpg.add_combo(list(ALL_STEMS), default_value="bass", label="stem", width=160)
            block = dpg.add_combo(list(BLOCKS), default_value="down.2.1", label="block", width=160)
            with dpg.group(horizontal=True):
                dpg.add_button(label="Add chain", callback=lambda: (
                    self.auto_chain(dpg.get_value(stem), dpg.get_value(block)),
                    dpg.delete_item("hambajuba_auto_chain")))
                dpg.add_button(label="Cancel", callback=lambda: dpg.delete_item("hambajuba_auto_chain"))

    def auto_chain(self, stem: str, block: str) -> list[str]:
        try:
            from hambajuba_nodes.auto_chain import auto_chain
        except ImportError as e:
            self.status("error", f"auto chain is not in this checkout ({e})")
            return []
        analysis = self.transport.analysis
        at = self.view.free_spot((1100.0, 320.0))  # free, visible space (else below the patch)
        ids, reason = self.model.apply(f"auto chain {stem} -> {block}",
                                       lambda patch: auto_chain(patch, stem, block, analysis, pos=at))
        if reason:
            self.status("error", f"auto chain: {reason}")
            return []
        self.status("info", f"auto chain {stem} -> {block}: added {', '.join(ids)}")
        self.view.reveal(ids)  # scrolled into view once drawn
        return ids

    def toggle_perform(self) -> None:
        self.output.set_perform(not self.output.performing, self.main)
        if self.output.performing:
            dpg.set_primary_window(self.output.perform_window, True)
        else:
            dpg.set_primary_window(self.main, True)
            self.layout()

    # ------------------------------------------------------------------ end
    def screenshot(self, path: str, frames: int = 30) -> bool:
        """Write the window to a PNG (Dear PyGui's frame buffer), waiting for it."""
        path = os.path.abspath(path)
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if os.path.exists(path):
            os.unlink(path)
        dpg.output_frame_buffer(file=path)
        for _ in range(frames):
            self.step()
            if os.path.exists(path) and os.path.getsize(path) > 0:
                time.sleep(0.05)  # let the writer finish the file
                return True
        return os.path.exists(path)

    def close(self) -> None:
        if getattr(self, "_closed", False):
            return
        self._closed = True
        self.stage.close()  # finalise a recording, close the output window and the server
        self.control.close()  # MIDI ports, the OSC socket
        self.live_input.close()  # the input stream and the analysis worker
        if self.worker is not None:
            self.worker.stop(timeout=2.0)
        self.transport.output.close()
        if not self._quit:
            self.files.close() if not self.model.dirty else self.files.autosave()
        dpg.destroy_context()


def _positional_args(fn) -> int:
    """How many of (sender, app_data, user_data) a callback takes."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 3
    n = 0
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            n += 1
        elif p.kind == p.VAR_POSITIONAL:
            return 3
    return min(n, 3)

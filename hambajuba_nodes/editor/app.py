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

One frame (`tick`, then Dear PyGui draws). The running show is a
HeadlessShow (graph_runtime/show/headless_show.py): the window drives its
three steps (drain, update, advance) and adds its views between them.
    1. run queued callbacks: user edits become commands on the EditorModel
    2. install a finished track; notice the engine becoming ready
    3. show.drain: MIDI/OSC/web values and scenes
    4. show.update: recompile when the patch changed (swap plans between two frames)
    5. heard = audio clock; t_seen = heard + delivery lookahead
    6. show.advance: the plan for t_seen (-> engine) and its monitor for heard (meters)
    7. take the newest finished frame: show it, hold it, or drop it if late;
       publish it on the show's fan-out (output window, MJPEG, recorder)
    8. meters, transport, autosave, status

Settings come in one ShowOptions (graph_runtime/show/options.py).

App is put together from parts, one concern each: menus.py (the menu bar),
engine_panel.py (the engine tab and the engine's lifecycle), patch_actions.py
(files, track, edits, quitting); this module builds the window and runs the loop.
"""
from __future__ import annotations

import gc
import inspect
import os
import sys
import time
from collections import deque
from typing import Any

import dearpygui.dearpygui as dpg

from graph_runtime.media.playback import open_output
from graph_runtime.show.delivery import Delivery
from graph_runtime.show.engine_thread import EngineWorker
from graph_runtime.show.files import Files
from graph_runtime.show.headless_show import HeadlessShow
from graph_runtime.show.options import ShowOptions
from graph_runtime.show.stage_line import link_text

from . import theme
from .add_menu import AddNodeMenu
from .control_panel import ControlPanel
from .dialogs import Dialogs
from .engine_panel import EnginePanel
from .features import FeatureBrowser
from .input import InputBindings
from .layout import RIGHT_W, UI_FPS, arrange, on_screen
from .mask_painter import MaskPainter
from .menus import Menus
from .meters import Meters
from .node_editor import NodeEditorView
from .output import OutputView
from .patch_actions import PatchActions
from .plan_notice import PlanNotice
from .stage_menu import StageControls
from .status_bar import StatusBar
from .transport import Transport, TransportBar


class App(EnginePanel, PatchActions, Menus):
    def __init__(self, options: ShowOptions | None = None, *, registry=None) -> None:
        o = self.options = options if options is not None else ShowOptions()
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
        self._model_choice = o.model
        self._engine_arg = o.engine
        self._size = o.size
        self._engine_address, self._engine_token = o.engine_address, o.engine_token  # remote engine
        self._engine_in_flight = o.engine_in_flight  # frames on the wire to a remote engine
        self.exit_problems: list[str] = []
        self.autoplay = o.autoplay  # play as soon as the track given is in
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
        # the running show: document, live plan, control session, hub, fan-out; new
        # per-track work compiles off-thread. The window adds views around its frame.
        self.show = HeadlessShow(registry=registry, fps=UI_FPS, background=True)
        self.model, self.live = self.show.model, self.show.live
        self.meters = Meters()
        self.dialogs = Dialogs()
        self.view = NodeEditorView(self.model, self.meters, self.themes, status=self.status,
                                   on_special=self._special)
        self.model.listeners.append(self._on_change)
        self.transport = Transport(o.output or open_output(o.audio),
                                   **({"analyze": o.analyze} if o.analyze is not None else {}))
        self.files = Files(self.model, config=o.config, autosave_every=o.autosave_every)
        self.files.before_save = self.view.sync_positions
        self.output = OutputView()
        self.features = FeatureBrowser(on_pick=self.pick_feature, on_preview=self.preview_feature,
                                       status=self.status)
        self.painter = MaskPainter(self.model, status=self.status)
        self.add_menu = AddNodeMenu(registry, self._add_from_menu)
        # the stage: output window, MJPEG, recorder, fed once per shown frame (the show's fan-out)
        self.stage = StageControls(self, **o.stage())
        # MIDI / OSC / scenes / tap: the show's inbox is drained first thing in tick
        self.control = ControlPanel(self, midi=o.midi, osc=o.osc, clock_out=o.clock_out,
                                    beat_out=o.beat_out)
        self.control.session.recall_listeners.append(self.stage.note_scene)  # recording sidecar
        # live input: the source picker; --input starts it once the window is up
        from .live_input_panel import LiveInputPanel
        self.live_input = LiveInputPanel(self, spec=o.live_input, monitor_out=o.monitor_out,
                                         monitor_gain_db=o.monitor_gain_db)
        # the character view: hambajuba around the shown frame; he grows as it plays
        from .character_view import CharacterPanel
        self.character = CharacterPanel(self, **(o.character or {}))
        self.worker: EngineWorker | None = None
        self.delivery: Delivery | None = None
        self._engine_seen = "idle"
        self._running_spec: tuple[str, int] | None = None
        self._preview_version = -1
        self.selected: list[str] = []

        self._build(o.width, o.height)
        dpg.create_viewport(title=o.title, **on_screen(o.width, o.height), disable_close=True,
                            vsync=o.vsync, clear_color=(18, 18, 22, 255))
        dpg.set_exit_callback(self.request_quit)
        dpg.set_viewport_resize_callback(lambda: self.layout())
        dpg.setup_dearpygui()
        dpg.show_viewport()
        dpg.set_primary_window(self.main, True)
        self.layout()
        self.status("info", "ready: right-click the canvas to add nodes; drag from a pin to link")
        if o.patch_path:
            self.open_patch(o.patch_path, offer_recovery=True)
        else:
            self._offer_recovery(None)
        if o.track_path:
            self.open_track(o.track_path)
        self.live_input.begin()
        self.start_engine()
        self.stage.start()
        self.control.start()
        self.exit_problems += self.control.problems
        self.agent = None
        if o.mcp:  # agents drive the show through the control endpoint
            from .agent_control import AgentControl
            self.agent = AgentControl(self)
        self._settle_garbage()

    # ------------------------------------------------------------------ building
    def _build(self, width: int, height: int) -> None:
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
                        self.character.build_toggle()
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
        self.control.drain()  # show.drain: MIDI/OSC values, scenes, before the plan updates and runs
        if self.autoplay and self.transport.track is not None and \
                self._settled(time.monotonic() - self._opened) and not self.stage.asking_first():
            self.autoplay = False  # the track given at start plays once the model is up
            self.transport.play()
        path = self.files.path  # album art and other relative paths start at the patch's folder
        self.live.set_base_dir(os.path.dirname(os.path.abspath(path)) if path else None)
        if self.show.update() or self.live.problems is not self._problems_key:
            self._show_problems()
        tr = self.transport
        playing = tr.playing
        heard = tr.time()
        worker, delivery = self.worker, self.delivery
        engine_on = worker is not None and worker.ready
        t_seen = tr.predict(heard, delivery.lookahead()) if engine_on and playing else heard
        if self.live_input.active:  # live input: its stream clock drives the frames
            playing, heard = True, self.live_input.clock()
            t_seen = heard + (delivery.lookahead() if engine_on else 0.0)
        self.live_input.tick(delivery.lookahead() if engine_on else 0.0)
        frame = self.show.advance(t_seen, heard, playing=playing)
        self.character.tick(heard, playing, time.monotonic())  # he grows from what is heard
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
            image, rgba = shown.image, shown.rgba
            if self.character.on:  # the composed canvas is what is shown, streamed and recorded
                rgba, image = self.character.compose(shown.rgba, shown.t, time.monotonic())
            self.output.show_frame(image, time.monotonic())  # the texture upload
            self.show.fanout.publish(rgba, time.monotonic(), heard)  # once per shown frame
            self.worker.release(shown)
            self.upload_us = (time.perf_counter() - t0) * 1e6
        self.show.fanout.heard(time.monotonic(), heard, playing)  # the recorder's audio
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
            link = link_text(w.engine, w.state)
            if link.startswith("remote"):  # the link's health: RTT (and the fps above)
                parts.append(f"engine {link}")
                link = f"{link}, {self.output.fps():.1f} fps"
            dpg.set_value(self.engine_link, f"link: {link}")  # the Engine tab says it too
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


    @staticmethod
    def _settle_garbage() -> None:
        """Move what exists now (the window, the registry, torch, the track)
        out of the collector's sight: a full collection then walks only what
        came since, a few ms instead of tens in the middle of a frame. Done at
        start, when the engine is up and when a track is in."""
        gc.collect()
        gc.freeze()





















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
        self.character.close()  # save what he heard
        self.stage.close()  # finalise a recording, close the output window and the server
        self.control.close()  # MIDI ports, the OSC socket
        if self.agent is not None:
            self.agent.close()  # the control endpoint and its file
        self.live_input.close()  # the input stream and the analysis worker
        if self.worker is not None:
            self.worker.stop(timeout=2.0)
        self.show.close()  # the plan builder; the fan-out (the stage closed its sinks above)
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

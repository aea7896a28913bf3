"""The Stage menu: output window, MJPEG server and recorder, from the window.

One `StageControls` per App. It owns the three sinks and adds them to the
show's frame fan-out (HeadlessShow.fanout; the App publishes each shown
frame into it once, in `_deliver`):

    F9        open / close the output window (own process, chosen monitor)
    Shift+F9  reopen it (after it died or was closed)
    F10       Record / Stop (a fragmented MP4 + sidecar JSON)

The menu lists the monitors (read by a short-lived child process, so this
process never loads a second GLFW), whether the output is fullscreen, the
MJPEG address and the child's state; the bar under the image says what each
sink is doing. Everything here runs on the main thread; the sinks' work
happens on their own threads.
"""
from __future__ import annotations

import atexit
import hashlib
import json
import os
import subprocess
import sys
import threading
import time

import dearpygui.dearpygui as dpg

from graph_runtime.stage.http.host import HttpHost
from graph_runtime.stage.jpeg_source import JpegSource
from graph_runtime.stage.mjpeg import MjpegServer, StageError, parse_address
from graph_runtime.stage.recorder import LiveRecorder
from graph_runtime.stage.supervisor import OutputProcess

from .key_presses import fresh

RECORD_FPS = 30.0
RECORD_DIR = os.path.join("~", "hambajuba-recordings")


def list_monitors(timeout: float = 10.0) -> tuple[list[dict], str]:
    """(monitors, problem): [{index, name, x, y, width, height}] from a child process."""
    cmd = [sys.executable, "-m", "graph_runtime.stage.output_window", "--list-monitors"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        mons = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else []
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as e:
        return [], f"monitors: cannot list them ({type(e).__name__})"
    return mons, "" if mons else "monitors: none found (no display?)"


def monitor_line(m: dict) -> str:
    return f"{m['index']}: {m['name']} {m['width']}x{m['height']} at {m['x']},{m['y']}"


class StageControls:
    def __init__(self, app, *, output_window: bool = False, monitor: int | None = None,
                 fullscreen: bool = False, serve_output: str | None = None,
                 record: str | None = None, serve_token: bytes | None = None,
                 web: str | None = None, web_token: bytes | None = None) -> None:
        self.app = app
        self.fanout = app.show.fanout  # the show's: this menu adds and removes its sinks
        # MJPEG and the web surface: one aiohttp loop, one JPEG encoder (threads and CPU stay bounded)
        self.http = HttpHost()
        self.jpeg = JpegSource()
        self.serve_address, self.serve_token = serve_output or "127.0.0.1:8080", serve_token
        from .stage_web import StageWeb
        from .web_join import JoinCard

        self.web = StageWeb(self, web or "127.0.0.1:8765", web_token, JoinCard())
        # sinks join the fan-out when first used: until then publish() costs nothing
        self.window = OutputProcess(monitor=monitor, fullscreen=fullscreen)
        self.recorder = LiveRecorder(fps=RECORD_FPS)
        self.server: MjpegServer | None = None
        self.monitors: list[dict] = []
        self._monitor_job: threading.Thread | None = None
        self._asked = (output_window, serve_output, record, web)
        self._record_dir = os.path.dirname(os.path.abspath(record)) if record else None
        self.items: dict[str, int] = {}
        self._closed = False
        from .stage_overlay import StageOverlay

        self.overlay = StageOverlay(app)  # F11's operator line (built with the perform view)
        atexit.register(self.close)  # Ctrl-C or an exception still finalises the recording

    # -- building (main thread, inside the App's menu bar / output panel) ----------------
    def build_menu(self) -> None:
        with dpg.menu(label="Stage"):
            self.items["window"] = dpg.add_menu_item(label="Open output window", shortcut="F9",
                                                     callback=lambda: self.toggle_window())
            dpg.add_menu_item(label="Reopen output window", shortcut="Shift+F9",
                              callback=lambda: self.reopen_window())
            self.items["fullscreen"] = dpg.add_menu_item(
                label="Fullscreen on the monitor", check=True, default_value=self.window.fullscreen,
                callback=lambda s, a: self.set_fullscreen(a))
            self.items["monitors"] = dpg.add_menu(label="Monitor")
            dpg.add_separator()
            self.items["record"] = dpg.add_menu_item(label="Record", shortcut="F10",
                                                     callback=lambda: self.toggle_record())
            self.items["serve"] = dpg.add_menu_item(label=self._serve_label(),
                                                    callback=lambda: self.toggle_serve())
            self.items["serve_at"] = dpg.add_input_text(
                label="MJPEG [host:]port", default_value=self.serve_address, width=140,
                on_enter=True, callback=lambda s, a: self._set_serve_address(a))
            self.web.build_menu()
            dpg.add_separator()
            self.items["state"] = dpg.add_menu_item(label="output window: closed", enabled=False)
        self._fill_monitors()
        with dpg.handler_registry():
            dpg.add_key_press_handler(key=dpg.mvKey_F9, callback=lambda: fresh(dpg.mvKey_F9) and self._f9())
            dpg.add_key_press_handler(key=dpg.mvKey_F10,
                                      callback=lambda: fresh(dpg.mvKey_F10) and self.toggle_record())

    def build_buttons(self) -> None:
        """The Record button beside Perform (inside the App's horizontal group)."""
        self.items["record_button"] = dpg.add_button(label="Record (F10)",
                                                     callback=lambda: self.toggle_record())

    def asking_first(self) -> bool:
        """A question that comes before the show (recover an autosave?) is on screen:
        nothing plays, records or opens on the projector until it is answered."""
        try:
            return any(t.startswith("Recover unsaved") for t in self.app.dialogs.pending)
        except Exception:
            return False

    def start(self) -> None:
        """What the command line asked for, once the window is up (and once the
        recovery question, if any, is answered)."""
        if self.asking_first():
            self._start_later = True
            return
        self._start_later = False
        output_window, serve_output, record, web = self._asked
        self.web.register()
        if serve_output:
            self.serve(serve_output)
        if web:
            self.web.start()
        if output_window:
            self.open_window()
        if record:
            self.start_recording(record)

    # -- output window ----------------------------------------------------------------------
    def _f9(self) -> None:
        if dpg.is_key_down(dpg.mvKey_LShift) or dpg.is_key_down(dpg.mvKey_RShift):
            self.reopen_window()
        else:
            self.toggle_window()

    def toggle_window(self) -> None:
        self.close_window() if self.window.alive else self.open_window()

    def open_window(self) -> str | None:
        if not self.monitors:
            self.refresh_monitors()  # for the Monitor menu (a child process; not at start-up)
        reason = self.window.open()
        if reason is None:
            self.fanout.add(self.window)
        self._say("error" if reason else "info", reason or "output window opening" + self._where())
        return reason

    def reopen_window(self) -> str | None:
        reason = self.window.reopen()
        if reason is None:
            self.fanout.add(self.window)
            self._recovered()
        self._say("error" if reason else "info", reason or "output window reopened" + self.window.where())
        return reason

    def close_window(self) -> None:
        self.fanout.remove(self.window)
        self.window.close(keep_ring=True)
        self._say("info", "output window closed; the show goes on (F9 opens it)")

    def _where(self) -> str:
        w = self.window
        mon = f" on monitor {w.monitor}" if w.monitor is not None else ""
        return f"{' fullscreen' if w.fullscreen else ''}{mon}"

    def set_fullscreen(self, on: bool) -> None:
        self.window.fullscreen = bool(on)
        if self.window.alive:
            self.reopen_window()

    def set_monitor(self, index: int | None) -> None:
        self.window.monitor = index
        self._fill_monitors()  # the check mark moves to the chosen one
        if self.window.alive:
            self.reopen_window()

    def refresh_monitors(self) -> None:
        """List monitors on a helper thread (a child process answers in ~0.3 s)."""
        if self._monitor_job is not None and self._monitor_job.is_alive():
            return

        def job():
            self._listed = list_monitors()

        self._listed = None
        self._monitor_job = threading.Thread(target=job, name="stage-monitors", daemon=True)
        self._monitor_job.start()

    def _fill_monitors(self) -> None:
        menu = self.items.get("monitors")
        if menu is None:
            return
        dpg.delete_item(menu, children_only=True)
        dpg.add_menu_item(label="window (no monitor)", parent=menu, check=True,
                          default_value=self.window.monitor is None,
                          callback=lambda: self.set_monitor(None))
        for m in self.monitors:
            dpg.add_menu_item(label=monitor_line(m), parent=menu, check=True, user_data=m["index"],
                              default_value=self.window.monitor == m["index"],
                              callback=lambda s, a, u: self.set_monitor(u))
        dpg.add_menu_item(label="list monitors", parent=menu, callback=lambda: self.refresh_monitors())

    # -- MJPEG ------------------------------------------------------------------------------
    def serve(self, address: str | None = None) -> str | None:
        if self.server is not None:
            return None
        try:
            host, port = parse_address(address or self.serve_address)
            server = MjpegServer(host, port, token=self.serve_token, http=self.http, source=self.jpeg)
            server.start()
        except StageError as e:
            self._say("error", str(e))
            return str(e)
        self._adopt(server)
        return None

    def _adopt(self, server: MjpegServer) -> None:
        self.server = server
        self.fanout.add(self.jpeg)
        self._say("info", f"serving the output at {server.url} (OBS: Media Source, VLC: open network)")

    def stop_serving(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            if self.web.surface is None:
                self.fanout.remove(self.jpeg)
            server.close()
            self._say("info", "stopped serving the output")

    def toggle_serve(self) -> None:
        """From the menu: the address in the menu's field (--serve-output's, else
        127.0.0.1:8080); a port in use moves on to the next free one, and the field
        and the label then show which."""
        if self.server is not None:
            self.stop_serving()
            return
        try:
            host, port = parse_address(self.serve_address)
        except StageError as e:
            self._say("error", str(e))
            return
        for p in range(port, port + 20) if port else (0,):
            try:
                server = MjpegServer(host, p, token=self.serve_token, http=self.http, source=self.jpeg)
                server.start()
            except StageError:
                continue
            if p != port:
                self.serve_address = f"{host}:{p}"
            self._adopt(server)
            return
        self._say("error", f"serve output: ports {port}..{port + 19} on {host} are all in use; "
                           "give --serve-output HOST:PORT")

    def _set_serve_address(self, text: str) -> None:
        """The MJPEG address from the menu's field (used by the next start)."""
        try:
            parse_address(text.strip())
        except StageError as e:
            self._say("error", str(e))
            return
        self.serve_address = text.strip()
        self._say("info", f"MJPEG will serve on {self.serve_address} (Stage > Serve output)")

    def _serve_label(self) -> str:
        srv = self.server
        return f"Stop serving {srv.url}" if srv else f"Serve output (MJPEG) on {self.serve_address}"

    # -- recording --------------------------------------------------------------------------
    def toggle_record(self) -> None:
        if self.recorder.recording:
            self.stop_recording()
        else:
            self.start_recording(None)

    def start_recording(self, path: str | None) -> str | None:
        if path is None:
            folder = self._record_dir or os.path.expanduser(RECORD_DIR)
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError as e:
                self._say("error", f"record: cannot make {folder} ({e.strerror})")
                return str(e)
            path = os.path.join(folder, time.strftime("hambajuba-%Y%m%d-%H%M%S.mp4"))
        tr = self.app.transport
        self.fanout.add(self.recorder)
        reason = self.recorder.start(path, track_of=lambda: tr.output.track, meta=self._meta())
        if reason:
            self._say("error", reason)
            return reason
        self._say("info", f"recording to {self.recorder.path} (F10 stops)")
        return None

    def stop_recording(self) -> None:
        self._final_meta()
        self.recorder.stop()
        self._say("info", f"finishing {self.recorder.path}...")

    def note_scene(self, name: str) -> None:
        """A scene was recalled: it goes into the recording's sidecar with its time."""
        self.recorder.note("scene", name=str(name))

    def _live_meta(self) -> dict:
        """What the sidecar says about the show now (cheap: read every second)."""
        app = self.app
        eng = app.worker.engine if app.worker is not None else None
        return {"track": getattr(app.transport.output.track, "path", "") or "",
                "patch": getattr(app.files, "path", None) or "(unsaved)",
                "model": (eng.description if eng is not None else "") or "none"}

    def _meta(self, key: str = "patch_sha256") -> dict:
        meta = self._live_meta()
        app = self.app
        try:
            from graph_runtime.graph.patch import dumps

            meta[key] = hashlib.sha256(dumps(app.model.patch).encode()).hexdigest()
        except Exception as e:  # a patch that cannot be written out: say so, record anyway
            meta[key] = f"unavailable ({type(e).__name__})"
        return meta

    def _final_meta(self) -> None:
        """At the end (main thread): the track and model if they came late, and the
        patch as it ended (live tweaks change it)."""
        if self.recorder.recording and not self.recorder.stopping:  # the thread owns it after
            try:
                self.recorder.update_meta(self._meta("patch_sha256_end"))
            except Exception:
                pass  # the window is going away: what the sidecar has stays

    # -- every frame ------------------------------------------------------------------------
    def tick(self, frame_no: int) -> None:
        if getattr(self, "_start_later", False) and not self.asking_first():
            self.start()
        ov = self.overlay
        if ov.group is None and getattr(self.app.output, "perform_window", None) is not None:
            ov.build(self.app.output.perform_window)
        ov.tick()
        for source in (self.window, self.recorder):
            news = source.poll()
            if news is not None:
                self._say(*news)
                if source is self.window and news[1].startswith("output window came back"):
                    self._recovered()
        while self.fanout.problems:
            self._say("error", self.fanout.problems.popleft())
        if not self.recorder.recording and self.recorder in self.fanout.sinks:  # finished: stop feeding it
            self.fanout.remove(self.recorder)
        if self._monitor_job is not None and not self._monitor_job.is_alive() and self._listed is not None:
            self.monitors, problem = self._listed
            self._listed = None
            self._fill_monitors()
            if problem:
                self._say("warn", problem)
        self.web.tick()
        if frame_no % 60 == 0 and self.recorder.recording and not self.recorder.stopping:
            self.recorder.update_meta(self._live_meta())  # the sidecar follows the show
        if frame_no % 15 == 0 and self.items:
            self._update_labels()

    def _recovered(self) -> None:
        """The window came back by itself (supervisor.py): no dialog; the error
        that said it died leaves the bar (it stays in Messages with the recovery)."""
        bar = getattr(self.app, "status_bar", None)
        if bar is not None:
            bar.resolve("output window died")

    def _update_labels(self) -> None:
        w, rec, srv = self.window, self.recorder, self.server
        state = {"open": f"output window: open (pid {w.pid})", "died": "output window: DIED (Shift+F9)",
                 "closed": "output window: closed"}[w.state]
        if srv is not None:
            state += f" | mjpeg {srv.viewers} viewer(s)"
        state += self.web.state()
        behind = rec.behind_s
        rec_line = f"REC {rec.recorded_s:.0f} s" + (f", {behind:.1f} s behind" if behind >= 0.5 else "")
        if rec.recording:
            state += f" | {rec_line}"
        dpg.configure_item(self.items["state"], label=state)
        dpg.configure_item(self.items["window"],
                           label="Close output window" if w.alive else "Open output window")
        label = "Stop recording" if rec.recording else "Record"
        dpg.configure_item(self.items["record"], label=label)
        if "record_button" in self.items:
            dpg.configure_item(self.items["record_button"],
                               label=f"{label} (F10)" + (f" {rec_line}" if rec.recording else ""))
        dpg.configure_item(self.items["serve"], label=self._serve_label())
        self.web.update_label()

    def _say(self, level: str, text: str) -> None:
        if level == "error":  # the web page's status line shows the stage's recent problems
            self.web.note_problem(text)
        try:
            self.app.status(level, text)
        except Exception:  # the window is already gone (closing at exit)
            print(f"hambajuba stage: {text}", file=sys.stderr)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._final_meta()
        self.web.stop(quiet=True)
        if self.server is not None:
            self.server.close()
        self.fanout.close()  # finalises the recording, closes the window, stops the encoder
        self.window.close()  # also when it was not fed (closed from the menu earlier)
        self.jpeg.close()
        self.http.close()

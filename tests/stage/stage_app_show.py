"""The real window with the stage on, driven frame by frame (one Dear PyGui
window per process: run by test_stage_app.py). Prints one JSON line of
findings; the test judges them.

    python stage_app_show.py TRACK.wav OUT_DIR
    python stage_app_show.py TRACK.wav OUT_DIR ctrlc   (records; prints READY; waits for Ctrl-C)
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time

import numpy as np

from graph_runtime.engine.null_engine import NullEngine


class MovingEngine(NullEngine):
    """A stand-in engine: a gradient that moves every frame (10 ms each); keeps what it made."""

    def __init__(self, size=128):
        super().__init__(size, np.empty((size, size, 4), np.uint8), render_s=0.01, preview=True,
                         description="stage test engine (moving gradient)")
        y, x = np.mgrid[0:size, 0:size].astype(np.float32)
        self.x, self.y = x, y
        self._image[..., 3] = 255
        self.made: list[np.ndarray] = []

    def render(self, frame):
        out = super().render(frame)   # 10 ms, then frame n's picture
        n = self.frames
        out[..., 0] = (self.x * 2 + 3 * n) % 256
        out[..., 1] = self.y * 2
        out[..., 2] = 128 + 100 * np.sin((self.x + self.y) / 20.0 + n * 0.3)
        self.made = (self.made + [out.copy()])[-400:]
        return out


def analyze(path, progress, duration):
    from graph_runtime.analysis.store import synthetic

    return synthetic(max(duration, 0.1)), "synthetic analysis (test)"


def read_mjpeg(port, n, out):
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"GET /stream.mjpg HTTP/1.0\r\n\r\n")
        f = s.makefile("rb")
        while f.readline().strip():
            pass
        while len(out) < n:
            f.readline()
            length = 0
            while (line := f.readline().strip()):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            out.append(f.read(length))
            f.readline()


def step_until(app, cond, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.step()
        if cond():
            return True
    return False


def editor_frame(app) -> np.ndarray:
    return (np.clip(app.output.buffer, 0, 1) * 255 + 0.5).astype(np.uint8)


def window_matches(app, tmp, timeout=30.0) -> float:
    """Mean abs difference between the output window and the editor's frame."""
    from graph_runtime.stage.output_window import fit_rect

    end, diff = time.monotonic() + timeout, 999.0
    while time.monotonic() < end:
        app.step(3)
        img = editor_frame(app)
        snap = app.stage.window.snap(os.path.join(tmp, "snap.npy"))
        if snap is None:
            continue
        h, w = img.shape[:2]
        x0, y0, rw, rh = fit_rect(w, h, snap.shape[1], snap.shape[0])
        cols = (x0 + (np.arange(w) + 0.5) * rw / w).astype(int)
        rows = (y0 + (np.arange(h) + 0.5) * rh / h).astype(int)
        diff = float(np.abs(snap[np.ix_(rows, cols)].astype(int) - img[..., :3]).mean())
        if diff <= 4.0:
            break
    return diff


def until_ctrl_c(track, tmp):
    """Record in the window's own loop (App.run) until SIGINT arrives."""
    from graph_runtime.show.options import ShowOptions
    from hambajuba_nodes.editor.app import App

    app = App(ShowOptions(engine=lambda: MovingEngine(), audio="null", track_path=track,
              config=os.path.join(tmp, "cfg"), analyze=analyze, autoplay=True, width=1000,
              height=700, record=os.path.join(tmp, "ctrlc.mp4")))
    step_until(app, lambda: app.transport.playing and app.output.frames_shown > 20)
    print("READY", flush=True)
    app.run(quit_after=120)
    return 0


def recall_scene(app) -> str:
    """Store and recall a scene through the control session (what a MIDI pad does)."""
    session = getattr(getattr(app, "control", None), "session", None)
    if session is None:
        return "no control session"
    # "now" without a fade: scheduled, applied and done inside one frame; the
    # sidecar must still hear of it
    reason = session.store_scene("intro") or session.recall("intro", "now")
    if reason:
        return reason
    app.step(2)
    return "recalled"


def monitor_menu(app) -> list[str]:
    """The Stage > Monitor menu's items once the listing child has answered."""
    import dearpygui.dearpygui as dpg

    step_until(app, lambda: bool(app.stage.monitors), 30)
    app.step(2)
    return [dpg.get_item_label(i) for i in dpg.get_item_children(app.stage.items["monitors"], 1)]


def xdo(app, *args):
    import subprocess

    proc = subprocess.Popen(["xdotool", *map(str, args)])
    while proc.poll() is None:
        app.step()
    app.step(5)
    return proc.returncode == 0


def press_keys(app) -> dict:
    """F9 closes and opens the output window, F10 stops the recording (xdotool,
    with the pointer over the editor: no window manager, focus follows it)."""
    import shutil

    import dearpygui.dearpygui as dpg

    if shutil.which("xdotool") is None:
        return {"skipped": "no xdotool"}
    vx, vy = dpg.get_viewport_pos()
    w, h = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
    xdo(app, "mousemove", vx + w - 20, vy + h - 20)
    out = {}
    xdo(app, "key", "F9")
    step_until(app, lambda: not app.stage.window.alive, 10)
    out["f9_closed"] = not app.stage.window.alive
    xdo(app, "key", "F9")
    step_until(app, lambda: app.stage.window.alive, 10)
    out["f9_opened"] = app.stage.window.alive
    xdo(app, "mousemove", vx + w - 20, vy + h - 20)
    xdo(app, "key", "F10")
    out["f10_stopping"] = app.stage.recorder.stopping or not app.stage.recorder.recording
    return out


def main(track, tmp):
    from turbojpeg import TJPF_RGB, TurboJPEG

    from graph_runtime.show.options import ShowOptions
    from hambajuba_nodes.editor.app import App

    engine = MovingEngine()
    app = App(ShowOptions(engine=lambda: engine, audio="null", track_path=track, config=os.path.join(tmp, "cfg"),
              analyze=analyze, autoplay=True, width=1100, height=720,
              output_window=True, serve_output="127.0.0.1:0", record=os.path.join(tmp, "show.mp4")))
    found = {}
    news = []  # what the recorder told the window (F10 may finish it before close)
    poll = app.stage.recorder.poll
    app.stage.recorder.poll = lambda: (lambda n: news.append(n) or n if n else n)(poll())
    try:
        found["playing"] = step_until(app, lambda: app.transport.playing and app.output.frames_shown > 20)
        found["recording"] = app.stage.recorder.recording
        found["second_record"] = app.stage.start_recording(os.path.join(tmp, "again.mp4"))
        # MJPEG: a loopback viewer while the window plays on
        parts: list[bytes] = []
        reader = threading.Thread(target=read_mjpeg, args=(app.stage.server.port, 12, parts), daemon=True)
        reader.start()
        step_until(app, lambda: not reader.is_alive(), 60)
        tj = TurboJPEG()
        found["mjpeg_frames"] = len(parts)
        found["mjpeg_psnr"] = []
        for data in parts:
            img = tj.decode(data, pixel_format=TJPF_RGB).astype(np.float64)
            best = max(10 * np.log10(255 ** 2 / max(np.mean((img - m[..., :3]) ** 2), 1e-9))
                       for m in engine.made)
            found["mjpeg_psnr"].append(round(float(best), 1))
        found["scene"] = recall_scene(app)
        # the output window shows the editor's frame (paused: a still picture)
        app.transport.pause()
        app.step(10)
        found["window_diff"] = window_matches(app, tmp)
        # kill -9 the output process mid-show
        app.transport.play()
        first = app.stage.window.pid
        os.kill(first, signal.SIGKILL)
        shown = app.output.frames_shown
        found["noticed_death"] = step_until(
            app, lambda: any("output window died" in m[2] for m in app.messages), 30)
        # it comes back by itself: no dialog, the error leaves the bar, Messages says so
        found["came_back"] = step_until(app, lambda: app.stage.window.alive and
                                        app.stage.window.pid != first, 30)
        app.step(3)
        found["recovery_logged"] = any("came back by itself" in m[2] for m in app.messages)
        found["error_cleared"] = app.status_bar.standing is None
        found["status_after_kill"] = app.last_status()
        first = app.stage.window.pid
        step_until(app, lambda: app.output.frames_shown - shown >= 5, 30)  # the show goes on
        found["frames_after_kill"] = app.output.frames_shown - shown
        app.stage.reopen_window()  # what Shift+F9 and Stage > Reopen do
        found["reopened"] = app.stage.window.alive and app.stage.window.pid != first
        app.transport.pause()
        app.step(10)
        found["window_diff_after_reopen"] = window_matches(app, tmp)
        app.transport.play()
        app.step(30)
        found["record_path"] = app.stage.recorder.path
        found["keys"] = press_keys(app)
        found["monitor_menu"] = monitor_menu(app)
    finally:
        app.close()  # finalises the recording
    app.stage.recorder.poll()
    found["record_news"] = news[-1] if news else None  # the last word: finished, or why not
    print("FOUND " + json.dumps(found))
    return 0


if __name__ == "__main__":
    import signal as _s

    _s.signal(_s.SIGINT, _s.default_int_handler)  # a background job starts us with it ignored
    if sys.argv[3:] == ["ctrlc"]:
        sys.exit(until_ctrl_c(sys.argv[1], sys.argv[2]))
    sys.exit(main(sys.argv[1], sys.argv[2]))

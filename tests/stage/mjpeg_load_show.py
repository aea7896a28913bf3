"""The real window serving MJPEG (as `perform --serve-output` does) under 300
half-sent `GET /stream.mjpg` requests from 127.0.0.1, driven frame by frame in
its own process (run by test_stage_http_bounds.py). Prints one JSON line.

    python mjpeg_load_show.py TRACK.wav OUT_DIR
"""
from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
import urllib.request

from stage_app_show import MovingEngine, analyze, step_until

HALF_SENT = 300


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


def main(track: str, tmp: str) -> None:
    from graph_runtime.show.options import ShowOptions
    from hambajuba_nodes.editor.app import App

    engine = MovingEngine()
    app = App(ShowOptions(engine=lambda: engine, audio="null", track_path=track, config=os.path.join(tmp, "cfg"),
              analyze=analyze, autoplay=True, width=1000, height=700, serve_output="127.0.0.1:0"))
    found: dict = {}
    socks: list[socket.socket] = []
    done = threading.Event()

    def attack(port: int) -> None:
        for _ in range(HALF_SENT):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and no more
                socks.append(s)
            except OSError as e:
                found.setdefault("connect_errors", []).append(type(e).__name__)
        done.set()

    def frame(port: int) -> None:
        t0 = time.monotonic()
        try:
            data = urllib.request.urlopen(f"http://127.0.0.1:{port}/frame.jpg", timeout=10).read()
            found["frame_ok"] = data[:2] == b"\xff\xd8"
        except Exception as e:
            found["frame_ok"] = f"{type(e).__name__}: {e}"
        found["frame_s"] = round(time.monotonic() - t0, 3)

    try:
        found["playing"] = step_until(app, lambda: app.transport.playing and app.output.frames_shown > 20)
        port = app.stage.server.port
        found["threads_before"] = threads()
        most = threads()
        a = threading.Thread(target=attack, args=(port,), daemon=True)
        a.start()
        while not done.is_set():
            app.step()
            most = max(most, threads())
        found["opened"] = len(socks)
        f = threading.Thread(target=frame, args=(port,), daemon=True)
        f.start()
        while f.is_alive():
            app.step()
            most = max(most, threads())
        end = time.monotonic() + 1.0  # and a second more of the show
        shown = app.output.frames_shown
        while time.monotonic() < end:
            app.step()
            most = max(most, threads())
        found["frames_meanwhile"] = app.output.frames_shown - shown
        found["threads_most"] = most
        guard = app.stage.server.site.guard
        found["open_connections"], found["shed"] = guard.open, guard.shed
    finally:
        for s in socks:
            s.close()
        app.close()
    print("FOUND " + json.dumps(found), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

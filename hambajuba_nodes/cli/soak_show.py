"""`hambajuba bench soak`: the show on stage for M minutes, everything on.

The real window (Dear PyGui, its own process: one viewport per process) plays
the default patch on the preview model at 128 px with:
  - the output window (a child process through the shared-memory ring),
  - an MJPEG viewer reading /stream.mjpg over loopback the whole time,
  - a recording (MP4 + sidecar),
  - OSC at 200 messages/s to the patch's params, and a scene recall every 10 s
    (every M*60/6 s when that is shorter, so even a short soak recalls six),
  - live input from a file (played at real-time pace into the live analyser).
The track is a generated pulse with a synthetic beat grid (the offline
analysis of a long track would take the CPU for minutes before the show
starts; the per-frame path is the same). It is M minutes plus 30 s, but no
longer than the longest track the window opens (an hour): a longer show
loops A-B over the whole track, as a performer would, and the live file
(10 minutes) loops too.

It reports the process's RSS at start, at the end and the most seen (and the
output window child's), frames dropped (the window's delivery, the engine
worker's skipped, the recorder's), MJPEG frames read, OSC messages sent and
taken, and the recording's duration against the time played.

    python -m hambajuba_nodes.cli.soak_show MINUTES WORKDIR   # prints SOAK {json}
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import threading
import time

import numpy as np

OSC_RATE = 200.0          # messages a second
SCENE_EVERY_S = 10.0      # at most; a soak shorter than a minute recalls 6 scenes in all
SR = 22050
LIVE_FILE_S = 600.0       # the live input file, looped


def rss_mb(pid: int | str = "self") -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def write_track(path: str, seconds: float) -> str:
    import soundfile as sf

    t = np.arange(int(seconds * SR)) / SR
    y = 0.3 * np.sin(2 * np.pi * 110 * t) * np.exp(-((t * 2.0) % 1.0) * 6.0)
    y += 0.1 * np.sin(2 * np.pi * 440 * t) * (np.sin(2 * np.pi * 0.1 * t) > 0)
    sf.write(path, np.stack([y, y], 1).astype(np.float32), SR, subtype="PCM_16")
    return path


def analyze(path, progress, duration):
    from graph_runtime.analysis.store import synthetic

    return synthetic(max(duration, 0.1), bpm=120.0), "synthetic beat grid (soak)"


class MjpegViewer(threading.Thread):
    """Reads /stream.mjpg until stopped; counts the JPEG parts it got."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True, name="soak-mjpeg")
        self.port, self.frames, self.error = port, 0, ""
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=20) as s:
                s.sendall(b"GET /stream.mjpg HTTP/1.0\r\n\r\n")
                f = s.makefile("rb")
                while f.readline().strip():
                    pass
                while not self.stop.is_set():
                    f.readline()
                    length = 0
                    while (line := f.readline().strip()):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":")[1])
                    if not length:
                        break
                    f.read(length)
                    f.readline()
                    self.frames += 1
        except OSError as e:
            self.error = str(e)


class OscDriver(threading.Thread):
    """OSC_RATE messages a second to float params; /hambajuba/scene/N every `scene_every` s."""

    def __init__(self, port: int, addresses: list[str], scenes: int, scene_every: float) -> None:
        super().__init__(daemon=True, name="soak-osc")
        from pythonosc.udp_client import SimpleUDPClient

        self.client = SimpleUDPClient("127.0.0.1", port)
        self.addresses, self.scenes, self.scene_every = addresses, scenes, scene_every
        self.sent = self.recalls = 0
        self.stop = threading.Event()

    def run(self) -> None:
        t0 = nxt = time.monotonic()
        next_scene = t0 + self.scene_every
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= next_scene and self.scenes:
                self.client.send_message(f"/hambajuba/scene/{self.recalls % self.scenes + 1}", 1)
                self.recalls += 1
                next_scene += self.scene_every
            address = self.addresses[self.sent % len(self.addresses)]
            self.client.send_message(address, float(0.5 + 0.5 * np.sin(self.sent * 0.01)))
            self.sent += 1
            nxt += 1.0 / OSC_RATE
            time.sleep(max(0.0, nxt - time.monotonic()))


def _float_params(app, limit: int = 8) -> list[str]:
    """OSC addresses of float params (strengths, rates...) of the patch's nodes."""
    out = []
    for spec in app.model.patch.nodes:
        cls = app.registry.get(spec.type)
        for prm in getattr(cls, "params", ()) if cls is not None else ():
            if prm.kind == "float" and prm.min is not None and prm.max is not None:
                out.append(f"/hambajuba/{spec.id}/{prm.name}")
    return out[:limit] or ["/hambajuba/none/none"]


def _started(app) -> bool:
    """Playing and showing frames; a track the window refused ends the soak now."""
    if app.transport.error:
        raise RuntimeError(f"the window refused the soak track: {app.transport.error}")
    return app.transport.playing and app.output.frames_shown > 5


def _step_until(app, cond, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.step()
        if cond():
            return True
    return False


def soak(minutes: float, work: str) -> dict:
    from graph_runtime.media.audio_file import MAX_SECONDS
    from graph_runtime.show.options import ShowOptions
    from hambajuba_nodes.cli.common import DEFAULT_PATCH
    from hambajuba_nodes.editor.app import App

    seconds = 60.0 * minutes
    track_s = min(seconds + 30.0, MAX_SECONDS - 5.0)
    track = write_track(os.path.join(work, "soak.wav"), track_s)
    live = write_track(os.path.join(work, "live.wav"), min(LIVE_FILE_S, track_s))
    record = os.path.join(work, "soak.mp4")
    patch = os.path.join(work, "soak.patch")   # a copy: the show's autosave lands beside it,
    shutil.copyfile(str(DEFAULT_PATCH), patch)  # never beside the shipped patch
    app = App(ShowOptions(patch_path=patch, track_path=track, model="preview", size=128,
              audio="null", config=os.path.join(work, "cfg"), analyze=analyze, autoplay=True,
              width=1100, height=720, output_window=True, serve_output="127.0.0.1:0",
              record=record, osc="127.0.0.1:0", live_input=live))
    out: dict = {"minutes": minutes}
    opened = time.monotonic()   # the recording starts with the window (record=...)
    try:
        app.live_input.set_loop(True)
        if not _step_until(app, lambda: _started(app), 300):
            raise RuntimeError("the show did not start playing within 300 s")
        if track_s < seconds + 30.0:
            app.transport.set_loop(0.0, track_s - 1.0)
        out["track_s"], out["looped"] = round(track_s, 1), track_s < seconds + 30.0
        session = app.control.session
        session.store_scene("soak A")
        session.store_scene("soak B")   # the same values: recalls exercise the path, not the look
        out["rss_start_mb"] = rss_mb()
        child = app.stage.window.pid
        out["window_rss_start_mb"] = rss_mb(child) if child else 0.0
        viewer = MjpegViewer(app.stage.server.port)
        scene_every = min(SCENE_EVERY_S, seconds / 6.0)
        out["scene_every_s"] = round(scene_every, 2)
        osc = OscDriver(app.control.osc.port, _float_params(app), len(session.scene_names()),
                        scene_every)
        viewer.start()
        osc.start()
        t_track0, t0 = app.transport.played(), time.monotonic()
        rss_max, win_max, next_sample = out["rss_start_mb"], out["window_rss_start_mb"], t0
        while time.monotonic() - t0 < seconds:
            app.step()
            if time.monotonic() >= next_sample:
                next_sample += 1.0
                rss_max = max(rss_max, rss_mb())
                if app.stage.window.pid:
                    win_max = max(win_max, rss_mb(app.stage.window.pid))
        played = app.transport.played() - t_track0
        played_total = app.transport.played()   # since the track came in, loops included
        osc.stop.set()
        viewer.stop.set()
        out.update(
            wall_s=round(time.monotonic() - t0, 2), played_s=round(played, 2),
            played_total_s=round(played_total, 2),
            recorded_wall_s=round(time.monotonic() - opened, 2),
            rss_end_mb=round(rss_mb(), 1), rss_max_mb=round(rss_max, 1),
            window_rss_end_mb=round(rss_mb(app.stage.window.pid) if app.stage.window.pid else 0, 1),
            window_rss_max_mb=round(win_max, 1),
            frames_shown=app.output.frames_shown,
            frames_dropped={"delivery_late": app.delivery.dropped if app.delivery else None,
                            "engine_skipped": app.worker.skipped if app.worker else None,
                            "recorder": app.stage.recorder.dropped},
            fanout_dispatched=app.show.fanout.dispatched, fanout_published=app.show.fanout.seq,
            mjpeg_frames=viewer.frames, mjpeg_error=viewer.error,
            osc_sent=osc.sent, osc_taken=session.consumed, scene_recalls=osc.recalls,
            osc_unknown=session.unknown_osc, window_alive=app.stage.window.alive)
        out["rss_start_mb"] = round(out["rss_start_mb"], 1)
        out["window_rss_start_mb"] = round(out["window_rss_start_mb"], 1)
    finally:
        app.close()   # finalises the recording
    out["recording_s"] = round(_video_seconds(record), 2)
    # the recording holds the whole show since the window opened (loading included):
    # compare it with the time the track played, and with the wall time it covered
    out["recording_minus_played_s"] = round(out["recording_s"] - out.get("played_total_s", 0.0), 2)
    return out


def _video_seconds(path: str) -> float:
    import av

    try:
        with av.open(path) as c:
            v = c.streams.video[0]
            frames = sum(1 for _ in c.demux(v) if _.size)
            rate = float(v.average_rate or 30)
        return frames / rate
    except Exception:
        return 0.0


def main(argv: list[str]) -> int:
    minutes, work = float(argv[0]), argv[1]
    r = soak(minutes, work)
    print("SOAK " + json.dumps(r, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

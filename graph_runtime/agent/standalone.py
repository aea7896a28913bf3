"""A show with no window for `hambajuba mcp`: ticked on its own thread.

`show` is the headless show the window's per-frame path runs (its `tick(t)`
drains the control inbox, applies edits, runs the plan), so an agent call
here takes the same path as in `perform --mcp`. This thread is that show's
main thread: only it touches the show.

Clocks:
  * live (default): track time follows the wall clock from 0, looping over
    the track (a free-running 120 BPM grid without one);
  * recording (`record=`): frame-clocked like `hambajuba render`: frame i
    shows t = i / fps, rendered by the engine and encoded to an MP4 with the
    track's audio, never ahead of real time (an agent reacts as it would in
    a live show) and slower when the engine is; agent calls land between
    frames, so a fade "on the bar" starts on the bar of the video. After the
    last frame the file is finished and the clock stops (calls still work).
The engine (torch) loads on its own thread at first use (`get_frame` says
"loading" until it is up; a recording waits for it), so neither the MCP
handshake nor the show's calls wait for it.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from .desk import AgentDesk


def _say(text: str) -> None:
    print(f"hambajuba mcp: {text}", file=sys.stderr, flush=True)  # stdout belongs to MCP


class StandaloneShow:
    def __init__(self, show, *, track: str | None = None, patch_path: str | None = None,
                 engine_factory: Callable[[], Any] | None = None, fps: float = 30.0,
                 record: str | None = None, seconds: float | None = None,
                 say: Callable[[str], None] = _say) -> None:
        self.show, self.track, self.patch_path = show, track, patch_path
        self.model, self.registry = show.model, show.registry
        self.fps = float(fps)
        self.say = say
        self._engine_factory = engine_factory
        self.engine: Any = None
        self.engine_state = "off" if engine_factory is None else "idle"
        self.engine_message = ""
        self.desk = AgentDesk(show.control, self)
        self.last_frame = None  # the FrameParams of the newest tick
        self.t = 0.0
        self.duration: float | None = None
        self.record_path = os.path.abspath(record) if record else None
        self.record_seconds = seconds
        self.recorded = 0
        self.record_state = "off" if record is None else "waiting"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hbj-show", daemon=True)

    # -- the host interface of ops.py --------------------------------------------------
    def engine_info(self) -> dict:
        eng = self.engine
        state = "loading" if self.engine_state == "loaded" else self.engine_state
        info = {"state": state, "preview": eng is not None and bool(eng.is_preview),
                "model": eng.description if eng is not None else "",
                "message": self.engine_message}
        if info["preview"]:
            info["note"] = "preview model: tiny, untrained, random weights (shows the dataflow)"
        if self.record_path:
            info["recording"] = {"path": self.record_path, "state": self.record_state,
                                 "frames": self.recorded, "fps": self.fps}
        return info

    def frame(self):
        """The current image (renders the newest FrameParams; loads the engine once)."""
        if self.last_frame is None or not self._ensure_engine():
            return None
        return self.engine.render(self.last_frame)  # (H, W, 4) uint8; a CPU sync on a GPU

    # -- the thread ----------------------------------------------------------------------
    def start(self, analysis_loader: Callable[[], Any] | None = None) -> StandaloneShow:
        self._loader = analysis_loader
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _ensure_engine(self) -> bool:
        """True when the engine is ready; else start loading it on its own thread (the
        show keeps ticking and answering meanwhile)."""
        if self.engine_state == "idle":
            self.engine_state = "loading"
            self._loading = threading.Thread(target=self._load_engine, name="hbj-engine-load",
                                             daemon=True)
            self._loading.start()
        if self.engine_state == "loaded":  # hand-over on the show's thread
            self.show.live.set_feature_mean(self.engine.feature_mean)
            self.show.tick(self.t, playing=False)  # recompile with the engine's feature means
            self.engine_state = "ready"
        return self.engine_state == "ready"

    def _load_engine(self) -> None:
        try:
            engine = self._engine_factory()
        except Exception as e:
            self.engine_state, self.engine_message = "failed", f"{type(e).__name__}: {e}"
            self.say(f"engine failed: {self.engine_message}")
            return
        self.engine = engine
        self.engine_state = "loaded"

    def _run(self) -> None:
        try:
            if self._loader is not None:
                self._load_analysis()
            if self.record_path:
                self._record()
            self._live()
        except Exception as e:  # say it; the MCP side reports the show as gone
            self.say(f"the show stopped: {type(e).__name__}: {e}")

    def _load_analysis(self) -> None:
        period = 1.0 / self.fps
        result: dict = {}
        worker = threading.Thread(target=lambda: result.update(a=self._safe_load()), daemon=True)
        worker.start()
        while worker.is_alive() and not self._stop.is_set():  # calls are answered meanwhile
            self.last_frame = self.show.tick(0.0, playing=False)
            time.sleep(period)
        analysis = result.get("a")
        if analysis is not None:
            self.duration = float(analysis.duration)
            self.show.live.set_analysis(analysis)
            self.show.control.set_analysis(analysis)

    def _safe_load(self):
        try:
            return self._loader()
        except Exception as e:
            self.say(f"the track's analysis failed: {e}; playing without it")
            return None

    def _live(self) -> None:
        period = 1.0 / self.fps
        t0 = time.monotonic() - self.t
        frozen_clock = self.record_path is not None
        while not self._stop.is_set():
            if not frozen_clock:
                t = time.monotonic() - t0
                if self.duration:
                    t %= self.duration
                self.t = t
            self.last_frame = self.show.tick(self.t, playing=not frozen_clock)
            if self.engine_state == "loaded":
                self._ensure_engine()
            time.sleep(period)

    def _record(self) -> None:
        from graph_runtime.media.video import Mp4Sink, open_segment, track_duration

        self._ensure_engine()
        while self.engine_state == "loading" and not self._stop.is_set():
            self.last_frame = self.show.tick(0.0, playing=False)  # calls answered meanwhile
            time.sleep(1.0 / self.fps)
        if not self._ensure_engine():
            self.record_state = "failed"
            return
        length = self.duration or (track_duration(self.track) if self.track else 0.0)
        if self.record_seconds is not None:
            length = min(length, self.record_seconds) if length else self.record_seconds
        count = max(1, round(length * self.fps))
        audio = open_segment(self.track, 0.0, count / self.fps) if self.track else None
        sink = None
        self.record_state = "recording"
        try:
            t0 = time.monotonic()
            for i in range(count):
                if self._stop.is_set():
                    break
                wait = t0 + i / self.fps - time.monotonic()
                if wait > 0:  # never ahead of real time: agents get the time a show gives
                    time.sleep(wait)
                self.t = i / self.fps
                self.last_frame = frame = self.show.tick(self.t)
                rgba = self.engine.render(frame)
                if sink is None:
                    sink = Mp4Sink(self.record_path, width=rgba.shape[1], height=rgba.shape[0],
                                   fps=self.fps, audio=audio)
                sink.add(rgba)
                self.recorded = i + 1
            sink.finish(self.recorded)
            self.record_state = "done"
            self.say(f"recorded {self.recorded} frames to {self.record_path}")
        except BaseException:
            self.record_state = "failed"
            if sink is not None:
                sink.abort()
            raise
        finally:
            if audio is not None:
                audio.close()

"""The engine on its own thread; the window never waits for a frame.

Dataflow per window frame (main thread):

    plan.run(t_seen) -> FrameParams --submit--> [pending]     (newest wins)
    engine thread:  [pending] -> render -> float RGBA -> [ready] (newest wins)
    main thread:    poll() -> Delivery: show / hold / drop

`t_seen` is the track time at which the frame will be on screen: the time
heard now plus `Delivery.lookahead()`, the measured submit-to-ready latency
plus one window frame. Frames are generated for that moment, not for "now".

Both hand-overs are single slots, not queues: a snapshot the engine had no
time to take is overwritten by a newer one (counted as `skipped`), and a
finished frame that arrives more than `late_s` after its time is dropped
rather than shown late (counted as `dropped`). Audio-visual sync matters
more than frame count; repeated frames beat growing latency.

Buffers are preallocated and swapped under a lock: three FrameParams for
the snapshots (main writes one, one waits, the engine reads one), four
float32 images for the results (the engine writes one, one waits, the main
thread may hold one early frame and copy another into the texture). The
engine's own output buffer is reused by it, so it is converted to float
(on this thread, off the window's) before the next render.

No dearpygui here: the main thread owns every window call.
"""
from __future__ import annotations

import dataclasses
import threading
import time
import traceback
from typing import Any, Callable

import numpy as np

from graph_runtime.engine.protocol import is_pipelined
from graph_runtime.graph.frame import FrameParams
from graph_runtime.show.scene_guard import SceneGuard

from .delivery import _EMA, Result


class _Snapshot:
    """One FrameParams copy plus when it is for; the Scene is re-copied only
    when the source's Scene object or version changed (rare)."""

    __slots__ = ("frame", "t", "submitted", "preview", "_scene_of", "_scene_version")

    def __init__(self) -> None:
        self.frame = FrameParams()
        self.t = 0.0
        self.submitted = 0.0
        self.preview = False
        self._scene_of = None
        self._scene_version = None

    def take(self, src: FrameParams) -> None:
        np.copyto(self.frame.vec, src.vec)
        scene = src.scene
        if self._scene_of is not scene or self._scene_version != scene.version:
            self.frame.scene = dataclasses.replace(scene, feature_ids=scene.feature_ids.copy())
            self._scene_of, self._scene_version = scene, scene.version


class EngineWorker:
    """Owns the engine object; every engine call but `feature_mean` and
    `labels` (read-only CPU data) happens on its thread."""

    def __init__(self, factory: Callable[[], Any], *, now: Callable[[], float] = time.monotonic) -> None:
        self.factory = factory
        self.now = now
        self.engine: Any = None
        self.state = "idle"  # idle | starting | ready | failed | stopped
        self.message = ""
        self.message_level = "error"  # how the window posts `message` ("info": good news)
        self.is_preview = False
        self.size: tuple[int, int] | None = None  # (H, W) once the first frame is out
        self.rendered = self.skipped = self.errors = 0
        self.render_s = 0.0  # EMA of render time, seconds
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._back, self._pending, self._front = _Snapshot(), _Snapshot(), _Snapshot()
        self._fresh = False
        self._idle = False  # the engine thread waits for a snapshot
        self._preview_req: _Snapshot | None = None
        self._preview_buf = _Snapshot()
        # results: the worker renders into _res_back; _res_ready is the newest
        # finished one; the main thread owns what poll() gave it until release()
        self._res_back = Result()
        self._res_ready: Result | None = None
        self._res_free = [Result(), Result(), Result()]
        self._preview_result = Result()
        self._preview_ready = False
        self._stop = False
        self._thread: threading.Thread | None = None
        # refused Scenes: remembered by version and content, the last good one shown;
        # `scene_refusal` is why the Scene now asked for is refused (None: it is on)
        self.scenes = SceneGuard(_message)

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self.state, self.message = "starting", "loading the model..."
        self._thread = threading.Thread(target=self._run, name="hambajuba-engine", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._stop = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.state != "failed":
            self.state = "stopped"

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    @property
    def scene_refusal(self) -> str | None:
        return self.scenes.refusal

    # -- main thread: hand a frame over ----------------------------------------------
    def submit(self, frame: FrameParams, t: float) -> None:
        """Snapshot the frame for track time t; the newest snapshot wins."""
        if self.state != "ready":
            return
        back = self._back
        back.take(frame)
        back.t, back.submitted, back.preview = t, self.now(), False
        with self._lock:
            if self._fresh:
                self.skipped += 1
            self._back, self._pending = self._pending, back
            self._fresh = True
            if self._idle:  # a busy engine finds it when done; waking it costs a thread switch
                self._wake.notify()

    def request_preview(self, frame: FrameParams, block: int, feature_id: int,
                        strength: float, version: int) -> None:
        """Render `frame` once with one feature on one block, full mask, into
        the preview result (feature browser). Runs before the next live frame."""
        if self.state != "ready":
            return
        buf = self._preview_buf
        buf.take(frame)
        fp = buf.frame
        fp.scene = dataclasses.replace(fp.scene, feature_ids=fp.scene.feature_ids.copy())
        fp.strength[:] = 0.0
        fp.masks[:] = 1.0
        fp.scene.feature_ids[:] = -1
        fp.scene.feature_ids[block, 0] = feature_id
        fp.set_strength(block, 0, strength)  # the sinks' clamp: the same value a sink writes
        fp.scene.version = version  # distinct: the engine re-copies the direction
        buf.t, buf.submitted, buf.preview = 0.0, self.now(), True
        with self._lock:
            self._preview_req = buf
            self._wake.notify()

    def poll(self) -> Result | None:
        """The newest finished live frame since the last poll, or None. The
        caller owns it (the worker will not touch it) until release()."""
        with self._lock:
            res, self._res_ready = self._res_ready, None
            return res

    def release(self, res: Result) -> None:
        with self._lock:
            self._res_free.append(res)

    def poll_preview(self) -> Result | None:
        with self._lock:
            if not self._preview_ready:
                return None
            self._preview_ready = False
            return self._preview_result

    # -- engine thread -----------------------------------------------------------------
    def _run(self) -> None:
        try:
            self.engine = self.factory()
            self.is_preview = bool(self.engine.is_preview)
        except Exception as e:
            self.state, self.message = "failed", _message(e)
            return
        self.state, self.message = "ready", ""
        if is_pipelined(self.engine):  # decided once: a remote engine keeps frames in flight
            self._pipe_loop(self.engine)
        else:
            self._render_loop()
        self._close_engine()

    def _render_loop(self) -> None:
        """A local engine: one frame at a time, the newest snapshot each time."""
        while True:
            with self._lock:
                while not (self._fresh or self._preview_req or self._stop):
                    self._idle = True
                    self._wake.wait(0.5)
                    self._idle = False
                if self._stop:
                    break
                if self._preview_req is not None:
                    snap, self._preview_req = self._preview_req, None
                else:
                    self._front, self._pending = self._pending, self._front
                    self._fresh = False
                    snap = self._front
            self._render(snap)

    def _pipe_loop(self, pipe) -> None:
        """An engine with submit/poll/wait (the remote client): up to its
        `in_flight` frames on the wire at once, so a 30 ms round trip does not
        cap the frame rate at 1 / 30 ms. Newest wins, also over a snapshot not
        yet sent. Scenes travel with the frames; a Scene the server refuses is
        its engine's to skip (it keeps the last good one), its errors come
        back as messages."""
        pending: _Snapshot | None = None
        errors_seen = pipe.errors
        link_seen = pipe.status
        while True:
            with self._lock:
                if self._stop:
                    break
                preview, self._preview_req = self._preview_req, None
                if self._fresh:
                    self._front, self._pending = self._pending, self._front
                    self._fresh = False
                    pending = self._front
            if preview is not None:
                self._render(preview)  # one frame, waited for (the feature browser)
                continue
            if pending is not None and self._send(pipe, pending):
                pending = None
            done = pipe.poll()
            if done is not None:
                self._finish(done.rgba, done.at, done.tag, done.render_ms / 1e3, preview=False)
            else:
                pipe.wait(0.004)  # an image, room in the pipe, or 4 ms: a newer snapshot
            errors = pipe.errors
            if errors != errors_seen:
                errors_seen = errors
                self.errors += 1
                self.message = f"engine: {pipe.last_error or 'frame failed'}"
            link = pipe.status
            if link != link_seen:  # "engine disconnected, reconnecting (...)" / "connected"
                link_seen = link
                self.errors += 1
                self.message = f"remote engine: {link}"
                self.message_level = "info" if link.startswith("connected") else "warn"

    def _send(self, pipe, snap: _Snapshot) -> bool:
        """True when the snapshot is gone (sent, or refused for good)."""
        try:
            return pipe.submit(snap.frame, snap.t, tag=snap.submitted) is not None
        except Exception as e:  # e.g. album art the client cannot read: say it, go on
            self.errors += 1
            self.message = _message(e)
            return True

    def _render(self, snap: _Snapshot) -> None:
        t0 = self.now()
        guard, frame = None if snap.preview else self.scenes, snap.frame
        asked = frame.scene
        if guard is not None:  # a Scene refused before: the last good one instead
            frame.scene = guard.scene_for(asked)  # the snapshot's: this thread's own
        try:
            rgba = self.engine.render(frame)  # (H, W, 4) uint8, the engine's reused buffer
        except Exception as e:
            rgba = guard.failed(frame.scene, lambda s: self._render_with(frame, s), e) \
                if guard is not None else None
            if rgba is None:
                frame.scene = asked
                self.errors += 1
                self.message = _message(e)
                return
        else:
            if guard is not None:
                guard.accepted(snap.frame.scene)
        self._finish(rgba, snap.t, snap.submitted, self.now() - t0, preview=snap.preview)

    def _finish(self, rgba: np.ndarray, t: float, submitted: float, render_s: float, *,
                preview: bool) -> None:
        """Convert a finished (H, W, 4) uint8 image to float on this thread and
        hand it over (newest wins)."""
        res = self._preview_result if preview else self._res_back
        if res.image is None or res.image.shape != rgba.shape:
            res.image = np.empty(rgba.shape, dtype=np.float32)  # once per size
            res.rgba = np.empty(rgba.shape, dtype=np.uint8)
        np.multiply(rgba, np.float32(1.0 / 255.0), out=res.image)
        np.copyto(res.rgba, rgba)  # 1 MB here, so the window hands the stage 1 MB, not 4
        res.t, res.submitted, res.done = t, submitted, self.now()
        res.render_s, res.preview = render_s, preview
        self.size = rgba.shape[:2]
        self.render_s = res.render_s if self.rendered == 0 else \
            (1 - _EMA) * self.render_s + _EMA * res.render_s
        self.rendered += 1
        with self._lock:
            if preview:
                self._preview_ready = True
            else:
                if self._res_ready is not None:  # never shown: a newer one replaces it
                    self._res_free.append(self._res_ready)
                self._res_ready = res
                self._res_back = self._res_free.pop()

    def _render_with(self, frame: FrameParams, scene):
        frame.scene = scene
        return self.engine.render(frame)

    def _close_engine(self) -> None:
        try:
            self.engine.close()
        except Exception:
            pass


def _message(e: Exception) -> str:
    text = str(e).strip() or type(e).__name__
    if not any(k.__name__ == "EngineError" for k in type(e).__mro__):  # its subclasses too
        last = traceback.extract_tb(e.__traceback__)[-1:] if e.__traceback__ else []
        where = f" (at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
        text = f"{type(e).__name__}: {text}{where}"
    return text.splitlines()[0]

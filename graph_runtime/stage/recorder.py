"""Record the live show: the frames the audience saw, the audio they heard.

A frame sink on the fan-out. The main thread's share is the fan-out's
publish (one memcpy) and `heard` (three floats into a preallocated ring);
`consume` (dispatcher thread) copies the frame into a pool slot; everything
else (choosing frames, rebuilding the audio, H.264 + AAC, muxing) runs on
the recorder's own thread.

Timeline: recording time tau = monotonic - w0 (w0 = when Record was
pressed). Video frame k (constant `fps`) shows the frame that was on screen
at w0 + (k + 0.5) / fps: shown frames are duplicated or dropped to the
nominal rate. Audio sample n is what was heard at w0 + n / rate
(heard_audio.py). Both are cut at the same wall time, so the streams have the
same length and stay within a frame of each other. The thread stays
`MARGIN_S` behind the wall clock so every frame shown before a slot has
reached it through the fan-out.

Files: OUT.mp4 (fragmented: a crash leaves what was written playable) and
OUT.json beside it (patch hash, track, model, scenes recalled and seeks with
their recording times), written at the start and again at the end. Errors
(folder missing, read-only, disk full) stop the recording with a message in
`poll()`; the show never notices.
"""
from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections import deque
from typing import Callable

import numpy as np

from graph_runtime.media.video import write_text_atomic

from .heard_audio import HeardAudio
from .live_mp4 import LiveMp4, aac_rate, trim_to_whole_fragments

MARGIN_S = 0.15  # the encoder runs this far behind the wall clock
POOL = 16  # frame buffers between the dispatcher and the encoder
HEARD_RING = 4096  # heard-position reports the encoder may lag behind by


def free_name(path: str) -> str:
    """path, or path-2.mp4, -3, ... : a recording never overwrites a file."""
    if not os.path.exists(path):
        return path
    stem, ext = os.path.splitext(path)
    for i in range(2, 10000):
        p = f"{stem}-{i}{ext}"
        if not os.path.exists(p):
            return p
    return path


def check_path(path: str) -> str | None:
    """None, or one line saying why a recording cannot go to `path`."""
    if not path.lower().endswith(".mp4"):
        return f"record to {path}: give a file name ending in .mp4"
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(folder):
        return f"record to {path}: the folder {folder} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"record to {path}: the folder {folder} is read-only"
    if os.path.isdir(path):
        return f"record to {path}: that is a folder"
    return None


class LiveRecorder:
    name = "recorder"

    def __init__(self, *, fps: float = 30.0, now: Callable[[], float] = time.monotonic) -> None:
        self.fps = float(fps)
        self.now = now
        self.recording = False
        self.path = ""
        self.frames_written = 0
        self.dropped = 0  # shown frames the encoder had no room for (the video duplicates)
        self._thread: threading.Thread | None = None
        self._news: deque[tuple[str, str]] = deque(maxlen=20)
        self._pool: list[np.ndarray | None] = [None] * POOL
        self._free: deque[int] = deque(range(POOL))
        self._frames: queue.SimpleQueue = queue.SimpleQueue()  # (slot, shown_at)
        self._heard = np.zeros((HEARD_RING, 3), np.float64)  # at, track_t, playing
        self._heard_n = 0  # reports written (main thread); the encoder reads up to it
        self._stop_at: float | None = None
        self._events: list[dict] = []
        self._meta: dict = {}

    # -- main thread ------------------------------------------------------------------
    def start(self, path: str, *, track_of: Callable[[], object] = lambda: None,
              meta: dict | None = None) -> str | None:
        """Begin recording; None, or one line saying why not (nothing changes then)."""
        if self.recording:
            if self.stopping:
                return f"still finishing {self.path}; press Record again in a moment"
            return f"already recording to {self.path}; stop it first"
        path = os.path.abspath(os.path.expanduser(path))
        problem = check_path(path)
        if problem:
            return problem
        self.path = free_name(path)
        self._track_of = track_of
        track = track_of()
        self._audio_rate = aac_rate(getattr(track, "sr", None))
        self._events = []
        self._meta = dict(meta or {})
        self.frames_written = self.dropped = 0
        self._stop_at = None
        self._heard_n = 0
        self._w0 = self.now()
        self._meta.update(format="hambajuba.recording", video=os.path.basename(self.path),
                          fps=self.fps, started=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        try:
            self._write_sidecar(final=False)
        except OSError as e:
            return f"record to {self.path}: cannot write ({e.strerror or e})"
        self.recording = True
        self._thread = threading.Thread(target=self._run, name="stage-recorder", daemon=True)
        self._thread.start()
        if self.path != path:
            self._news.append(("warn", f"{os.path.basename(path)} exists: recording to {self.path}"))
        return None

    def heard(self, at: float, track_t: float, playing: bool) -> None:
        if not self.recording:
            return
        i = self._heard_n % HEARD_RING
        h = self._heard
        h[i, 0], h[i, 1], h[i, 2] = at, track_t, 1.0 if playing else 0.0
        self._heard_n += 1  # after the row: the encoder reads rows below this count

    @property
    def stopping(self) -> bool:
        """Stop was asked; the file is being finished on the recorder's thread."""
        return self.recording and self._stop_at is not None

    def update_meta(self, fields: dict) -> None:
        """Add to the sidecar what was not known at the start (the track still
        loading, the engine still starting) or changed since (the patch)."""
        for k, v in fields.items():
            if v and (k not in self._meta or self._meta[k] in ("", "none", None)):
                self._meta[k] = v

    def note(self, kind: str, **fields) -> None:
        """An event for the sidecar (a scene recalled, ...), at the recording time now."""
        if self.recording:
            self._events.append({"t": round(self.now() - self._w0, 3), "kind": kind, **fields})

    def stop(self, wait: bool = False) -> None:
        """Finish at the wall time now; the file is finalised on the recorder's
        thread (poll() says when), or before returning with wait=True."""
        if not self.recording:
            return
        if self._stop_at is None:
            self._stop_at = self.now()
        if wait and self._thread is not None:
            self._thread.join(30.0)

    def close(self) -> None:
        self.stop(wait=True)

    def poll(self) -> tuple[str, str] | None:
        return self._news.popleft() if self._news else None

    # -- dispatcher thread ---------------------------------------------------------------
    def consume(self, rgba: np.ndarray, shown_at: float, track_t: float, seq: int) -> None:
        if not self.recording or self._stop_at is not None:
            return
        try:
            slot = self._free.popleft()
        except IndexError:
            self.dropped += 1  # the encoder is behind: this frame is skipped, the last one repeats
            return
        buf = self._pool[slot]
        if buf is None or buf.shape != rgba.shape:
            buf = self._pool[slot] = np.empty(rgba.shape, np.uint8)  # once per size
        np.copyto(buf, rgba)
        self._frames.put((slot, shown_at))

    # -- the recorder's thread -----------------------------------------------------------
    def _run(self) -> None:
        mp4, message = None, None
        try:
            mp4 = self._record()
        except Exception as e:  # disk full, read-only, encoder failure: stop, keep the show
            message = (f"recording stopped: {_reason(e)}; what was recorded so far plays: "
                       f"{self.path}")
        finally:
            mp4 = mp4 or getattr(self, "_mp4", None)
            if mp4 is not None:
                try:
                    mp4.close()
                except Exception as e:
                    message = message or f"recording: closing {self.path} failed ({_reason(e)})"
                if message:  # a write failed half-way: end the file on a whole fragment
                    try:
                        trim_to_whole_fragments(self.path)
                    except OSError:
                        pass
            self._release_pending()
            try:
                self._write_sidecar(final=True)
            except OSError:
                pass
            if message is None and mp4 is None:
                message = f"recording: no frame was shown, nothing written to {self.path}"
            self._news.append(("error", message) if message else
                              ("info", f"recorded {self.frames_written / self.fps:.1f} s to {self.path}"))
            self.recording = False  # last: a new Record may start only now

    def _record(self):
        self._mp4 = None
        self._audio = HeardAudio(self._audio_rate, self._w0)
        self._current: int | None = None  # pool slot on screen at the frame being written
        self._pending: deque[tuple[int, float]] = deque()
        self._audio_backlog: list[np.ndarray] = []
        read = 0  # heard reports taken
        while True:
            stopping = self._stop_at is not None
            horizon = self._stop_at if stopping else self.now() - MARGIN_S
            while True:
                try:
                    self._arrive(self._frames.get_nowait())
                except queue.Empty:
                    break
            read = self._take_heard(read, horizon)
            self._video_until(horizon)
            if stopping:
                self._audio_to(self._stop_at)
                return self._mp4
            time.sleep(0.01)

    def _arrive(self, item: tuple[int, float]) -> None:
        """Queue a shown frame; the one before it goes back to the pool at once
        when no video slot falls between them (it would never be written)."""
        p = self._pending
        if p and self._slot_of(p[-1][1]) == self._slot_of(item[1]) and \
                self._slot_of(p[-1][1]) >= self.frames_written:
            self._free.append(p.pop()[0])
        p.append(item)

    def _slot_of(self, shown_at: float) -> int:
        """The last video slot whose sampling time comes before `shown_at`."""
        return int(np.floor((shown_at - self._w0) * self.fps - 0.5))

    def _take_heard(self, read: int, horizon: float) -> int:
        n = self._heard_n
        read = max(read, n - HEARD_RING + 1)  # fell a whole ring behind: skip to what is left
        track = self._track_of()
        while read < n:
            at, t, playing = self._heard[read % HEARD_RING]
            if at > horizon:
                break
            self._write_audio(self._audio.until(at, t, bool(playing), track))
            read += 1
        return read

    def _audio_to(self, at: float) -> None:
        n_total = int(round(self.frames_written / self.fps * self._audio_rate))
        self._write_audio(self._audio.to_end(self._w0 + n_total / self._audio_rate, self._track_of()))

    def _write_audio(self, chunk) -> None:
        if chunk is None:
            return
        if self._mp4 is None:  # no frame yet to size the video by: hold the sound
            self._audio_backlog.append(chunk)
        else:
            self._mp4.add_audio(chunk)

    def _video_until(self, horizon: float) -> None:
        while True:
            k = self.frames_written
            slot_t = self._w0 + (k + 0.5) / self.fps
            if self._w0 + (k + 1) / self.fps > horizon:
                return
            while self._pending and self._pending[0][1] <= slot_t:
                slot, _ = self._pending.popleft()
                if self._current is not None:
                    self._free.append(self._current)
                self._current = slot
            if self._current is None and self._pending:
                self._current = self._pending.popleft()[0]  # before the first frame: show it
            frame = self._pool[self._current] if self._current is not None else None
            if not self._ensure_mp4(frame):
                self.frames_written += 1  # nothing shown yet: the slot passes empty
                continue
            self._mp4.add_video(frame if frame is not None else self._black)
            self.frames_written += 1

    def _ensure_mp4(self, frame) -> bool:
        if self._mp4 is not None:
            return True
        if frame is None:
            return False
        h, w = frame.shape[:2]
        self._black = np.zeros((h, w, 4), np.uint8)
        self._mp4 = LiveMp4(self.path, width=w, height=h, fps=self.fps, audio_rate=self._audio_rate)
        skipped = self.frames_written  # slots before the first frame: black, with their audio
        self.frames_written = 0
        for _ in range(skipped):
            self._mp4.add_video(self._black)
            self.frames_written += 1
        for chunk in self._audio_backlog:
            self._mp4.add_audio(chunk)
        self._audio_backlog = []
        return True

    def _release_pending(self) -> None:
        for slot, _ in getattr(self, "_pending", ()):
            self._free.append(slot)
        if getattr(self, "_current", None) is not None:
            self._free.append(self._current)
            self._current = None
        while True:
            try:
                self._free.append(self._frames.get_nowait()[0])
            except queue.Empty:
                break

    def _write_sidecar(self, *, final: bool) -> None:
        doc = dict(self._meta)
        doc["events"] = list(self._events)
        audio = getattr(self, "_audio", None)
        if audio is not None:
            doc["seeks"] = [{"t": round(a, 3), "to": round(b, 3)} for a, b in audio.jumps]
        if final:
            doc.update(frames=self.frames_written, duration_s=round(self.frames_written / self.fps, 3),
                       dropped_frames=self.dropped, finished=True)
        write_text_atomic(os.path.splitext(self.path)[0] + ".json",
                          json.dumps(doc, indent=1, sort_keys=True) + "\n")


def _reason(e: Exception) -> str:
    if isinstance(e, OSError) and e.strerror:
        return e.strerror.lower()
    text = str(e).strip().splitlines()
    return text[-1] if text else type(e).__name__

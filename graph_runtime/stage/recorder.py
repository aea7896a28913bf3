"""Record the live show: the frames the audience saw, the audio they heard.

A frame sink on the fan-out. The main thread's share is the fan-out's
publish (one memcpy) and `heard` (three floats into a preallocated ring);
`consume` (dispatcher thread) copies the frame into a pool slot; everything
else (choosing frames, rebuilding the audio, H.264 + AAC, muxing) runs on
the recorder's own thread.

Timeline: recording time tau = monotonic - w0 (w0 = when Record was
pressed), in slots of 1 / fps. A shown frame is encoded once, at the first
slot whose middle (w0 + (k + 0.5) / fps) comes after it was shown, and lasts
until the next encoded frame (live_mp4.py: timestamps on the show clock).
Audio sample n is what was heard at w0 + n / rate (heard_audio.py). Both are
written up to the same wall time each pass, and a keyframe (a fragment) at
least every KEY_S, so a kill -9 leaves both ending together about half a
second before the kill. The thread stays `MARGIN_S` behind the wall clock so
every frame shown before a slot has reached it through the fan-out.

Keeping up: nothing queues without bound. The fan-out hands frames over
newest-wins and the pool holds POOL frames; each pass encodes only what is
due. When the encoder costs more than BUSY of real time the recorder
encodes every 2nd (3rd, ...) shown frame, and when it is still more than
DROP_LAG_S behind it skips to the newest frame; both are counted in
`dropped` and said once in `poll()`. `behind_s` is read from the wall clock,
so it is honest even while the thread is starved.

Files: OUT.mp4 (fragmented: a crash leaves what was written playable) and
OUT.json beside it (patch hash, track, model, scenes recalled and seeks with
their recording times), rewritten atomically as they change (at most once a
second) and at the end. Errors (folder missing, read-only, disk full) stop
the recording with a message in `poll()`; the show never notices.
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

from graph_runtime.media.atomic import write_atomic

from .heard_audio import HeardAudio
from .live_mp4 import LiveMp4, aac_rate, trim_to_whole_fragments

MARGIN_S = 0.15  # the encoder runs this far behind the wall clock
KEY_S = 0.4  # a keyframe, so a fragment on disk, at least this often (show time)
DROP_LAG_S = 0.25  # further behind than this: skip to the newest shown frame
BUSY = 0.5  # the share of real time the encoder may take before frames are thinned
MAX_STRIDE = 6  # thinned to no fewer than fps / 6 frames a second
SIDECAR_S = 1.0  # the sidecar is rewritten at most this often when something changed
SIDECAR_IDLE_S = 5.0  # and this often anyway (its recorded_s)
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
        self.frames_written = 0  # frames encoded
        self.dropped = 0  # shown frames not encoded (no room, thinned, or skipped to catch up)
        self.stride = 1  # every stride-th shown frame is encoded (1 = all)
        self.max_behind_s = 0.0  # the most the file was behind the show
        self._next_slot = 0  # the video covers slots [0, _next_slot)
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
        self._sidecar_dirty = False

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
        self.frames_written = self.dropped = self._next_slot = 0
        self.stride, self.max_behind_s = 1, 0.0
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

    @property
    def recorded_s(self) -> float:
        """Seconds of show in the file so far."""
        return self._next_slot / self.fps

    @property
    def behind_s(self) -> float:
        """How far the file is behind the show now, beyond the fixed margin (s):
        read from the wall clock, so a starved encoder thread shows here."""
        if not self.recording:
            return 0.0
        until = self._stop_at if self._stop_at is not None else self.now() - MARGIN_S
        return max(0.0, until - (self._w0 + self._next_slot / self.fps))

    def update_meta(self, fields: dict) -> None:
        """Add to the sidecar what was not known at the start (the track still
        loading, the engine still starting) or changed since (the patch, the track)."""
        for k, v in fields.items():
            if v and self._meta.get(k) != v:
                self._meta[k] = v
                self._sidecar_dirty = True

    def note(self, kind: str, **fields) -> None:
        """An event for the sidecar (a scene recalled, ...), at the recording time now."""
        if self.recording:
            self._events.append({"t": round(self.now() - self._w0, 3), "kind": kind, **fields})
            self._sidecar_dirty = True

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
            self.dropped += 1  # the encoder is behind: this frame is skipped, the last one lasts
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
                              ("info", f"recorded {self.recorded_s:.1f} s to {self.path}"))
            self.recording = False  # last: a new Record may start only now

    def _record(self):
        self._mp4 = None
        self._audio = HeardAudio(self._audio_rate, self._w0)
        self._current: int | None = None  # pool slot of the frame on screen at _next_slot
        self._pending: deque[tuple[int, float]] = deque()
        self._audio_backlog: list[np.ndarray] = []
        self._last_key = -10**9  # slot of the last keyframe
        self._last_pts = -1  # slot of the last encoded frame
        self._shown_since = 0  # shown frames since the last one encoded (thinning)
        self._encode_s = 0.0  # encoder seconds per frame, smoothed
        self._sidecar_at = self.now()
        read = 0  # heard reports taken
        while True:
            stopping = self._stop_at is not None
            horizon = self._stop_at if stopping else self.now() - MARGIN_S
            while True:
                try:
                    self._arrive(self._frames.get_nowait())
                except queue.Empty:
                    break
            read = self._take_heard(read, horizon)  # audio first: the interleaver orders by time
            self._video_until(horizon, final=stopping)
            self.max_behind_s = max(self.max_behind_s, self.behind_s)
            if stopping:
                self._audio_to(self._stop_at)
                return self._mp4
            self._keep_sidecar()
            time.sleep(0.01)

    def _arrive(self, item: tuple[int, float]) -> None:
        """Queue a shown frame; the one before it goes back to the pool at once
        when both start at the same slot (it would never be on screen at one)."""
        p = self._pending
        if p and self._slot_of(p[-1][1]) == self._slot_of(item[1]):
            self._free.append(p.pop()[0])
        p.append(item)

    def _slot_of(self, shown_at: float) -> int:
        """The first video slot whose middle comes after `shown_at`."""
        return int(np.floor((shown_at - self._w0) * self.fps - 0.5)) + 1

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
        n_total = int(round(self._next_slot / self.fps * self._audio_rate))
        self._write_audio(self._audio.to_end(self._w0 + n_total / self._audio_rate, self._track_of()))

    def _write_audio(self, chunk) -> None:
        if chunk is None:
            return
        if self._mp4 is None:  # no frame yet to size the video by: hold the sound
            self._audio_backlog.append(chunk)
        else:
            self._mp4.add_audio(chunk)

    def _video_until(self, horizon: float, *, final: bool = False) -> None:
        """Encode the frames shown before `horizon`; the video then covers the
        slots that ended by then. final: the last frame lasts to the end."""
        end = int(np.floor((horizon - self._w0) * self.fps))  # slots [.., end) have ended
        if end <= self._next_slot:
            return
        due = []
        while self._pending and self._slot_of(self._pending[0][1]) < end:
            due.append(self._pending.popleft())
        late = self.now() - MARGIN_S - (self._w0 + self._next_slot / self.fps)
        if late > DROP_LAG_S and len(due) > 1:  # catch up: only the newest frame is worth it
            self._skip(due[:-1])
            due = due[-1:]
        for slot_id, shown_at in due:
            self._shown_since += 1
            if self._shown_since < self.stride and self._current is not None:
                self._skip([(slot_id, shown_at)])
                continue
            self._encode(slot_id, max(self._slot_of(shown_at), self._last_pts + 1, 0))
        key_slots = max(1, round(KEY_S * self.fps))
        if self._current is not None and (end - 1 - self._last_key >= key_slots or final) \
                and end - 1 > self._last_pts:
            # nothing new for a while (a stalled window, a static image), or the end: the
            # frame on screen again, as a keyframe, so the fragment reaches disk
            self._encode(self._current, end - 1, again=True)
        self._next_slot = end

    def _encode(self, slot_id: int, pts: int, *, again: bool = False) -> None:
        if not again:
            if self._current is not None:
                self._free.append(self._current)
            self._current = slot_id
        frame = self._pool[slot_id]
        self._ensure_mp4(frame, pts)
        key_slots = max(1, round(KEY_S * self.fps))
        key = again or pts - self._last_key >= key_slots
        t0 = time.perf_counter()  # wall time: x264's slice threads and a busy CPU both count
        self._mp4.add_video(frame, pts, key=key)
        if key:
            self._last_key = pts
        self._encode_s = 0.8 * self._encode_s + 0.2 * (time.perf_counter() - t0)
        self._last_pts = pts
        self._shown_since = 0
        self.frames_written += 1
        self._thin()

    def _thin(self) -> None:
        """Encode fewer frames when the encoder takes more than BUSY of real time."""
        need = self._encode_s * self.fps / BUSY  # the stride that keeps the encoder within BUSY
        stride = min(MAX_STRIDE, max(1, int(np.ceil(need)) if need > 1.0 else 1))
        if stride > self.stride or (stride < self.stride and need < self.stride - 1.2):
            if stride > self.stride:
                self._news.append(("warn", f"recording: the machine is busy, recording "
                                           f"{self.fps / stride:.0f} fps ({self.dropped} frames dropped)"))
            self.stride = stride

    def _skip(self, items) -> None:
        for slot_id, _ in items:
            self._free.append(slot_id)
            self.dropped += 1

    def _ensure_mp4(self, frame: np.ndarray, pts: int) -> None:
        """Open the file at the first frame (its size sizes the video)."""
        if self._mp4 is not None:
            return
        h, w = frame.shape[:2]
        self._mp4 = LiveMp4(self.path, width=w, height=h, fps=self.fps, audio_rate=self._audio_rate)
        for chunk in self._audio_backlog:  # audio before the first frame's time goes in first
            self._mp4.add_audio(chunk)
        self._audio_backlog = []
        if pts > 0:  # black until the first frame was shown
            self._mp4.add_video(np.zeros((h, w, 4), np.uint8), 0, key=True)
            self._last_key = self._last_pts = 0
            self.frames_written += 1

    def _release_pending(self) -> None:
        for slot, _ in getattr(self, "_pending", ()):
            self._free.append(slot)
        self._pending = deque()
        if getattr(self, "_current", None) is not None:
            self._free.append(self._current)
            self._current = None
        while True:
            try:
                self._free.append(self._frames.get_nowait()[0])
            except queue.Empty:
                break

    def _keep_sidecar(self) -> None:
        """Rewrite the sidecar when something changed, at most once per SIDECAR_S."""
        since = self.now() - self._sidecar_at
        if (self._sidecar_dirty and since >= SIDECAR_S) or since >= SIDECAR_IDLE_S:
            self._sidecar_dirty = False
            self._sidecar_at = self.now()
            self._write_sidecar(final=False)

    def _write_sidecar(self, *, final: bool) -> None:
        doc = dict(self._meta)
        doc["events"] = list(self._events)
        audio = getattr(self, "_audio", None)
        if audio is not None:
            doc["seeks"] = [{"t": round(a, 3), "to": round(b, 3)} for a, b in list(audio.jumps)]
        doc["recorded_s"] = round(self.recorded_s, 3)
        if final:
            doc.update(frames=self.frames_written, duration_s=round(self.recorded_s, 3),
                       dropped_frames=self.dropped, max_behind_s=round(self.max_behind_s, 3),
                       finished=True)
        write_atomic(os.path.splitext(self.path)[0] + ".json",
                     json.dumps(doc, indent=1, sort_keys=True) + "\n")


def _reason(e: Exception) -> str:
    if isinstance(e, OSError) and e.strerror:
        return e.strerror.lower()
    text = str(e).strip().splitlines()
    return text[-1] if text else type(e).__name__

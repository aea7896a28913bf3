"""One frame fan-out: every shown frame, once, to every stage sink.

The window calls `publish(rgba, shown_at, track_t)` once per frame it shows
and `heard(at, track_t, playing)` once per window frame (the track position
as heard, which the recorder turns back into the audio the room heard). The
main thread's share is one memcpy into a triple buffer; a dispatcher thread
converts float frames to uint8 (once, for all sinks) and hands them on.

A sink is any object with
    consume(rgba_u8 (H, W, 4) uint8, shown_at: float monotonic s, track_t: float s, seq: int)
and optionally `heard(at, track_t, playing)` (called on the main thread:
keep it to a few stores) and `close()`. Each sink has its own feeder thread
and newest-wins mailbox, so a sink that stalls in `consume` misses its own
frames and never delays the others or the window.

Imports numpy and the standard library only.
"""
from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np


class TripleBuffer:
    """Newest-wins hand-off of (H, W, 4) frames between one writer thread and
    one reader thread: the writer fills `back`, then swaps it with `middle`
    under a lock held for three assignments; the reader swaps `middle` to
    `front`. Buffers are reallocated only when the frame size or dtype changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bufs: list[np.ndarray | None] = [None, None, None]
        self._meta = [(0.0, 0.0, 0), (0.0, 0.0, 0), (0.0, 0.0, 0)]  # (shown_at, track_t, seq)
        self._back, self._middle, self._front = 0, 1, 2
        self._fresh = False

    def write(self, frame: np.ndarray, shown_at: float, track_t: float, seq: int) -> None:
        b = self._back
        buf = self._bufs[b]
        if buf is None or buf.shape != frame.shape or buf.dtype != frame.dtype:
            buf = self._bufs[b] = np.empty(frame.shape, frame.dtype)  # only on a size change
        np.copyto(buf, frame)
        self._meta[b] = (shown_at, track_t, seq)
        with self._lock:
            self._back, self._middle = self._middle, b
            self._fresh = True

    def read(self) -> tuple[np.ndarray, float, float, int] | None:
        """The newest frame written since the last read, or None. The array is
        the reader's until its next read."""
        with self._lock:
            if not self._fresh:
                return None
            self._front, self._middle = self._middle, self._front
            self._fresh = False
            f = self._front
        return (self._bufs[f], *self._meta[f])


class _Feeder:
    """One sink's own thread and mailbox: a sink that stalls only misses its own frames."""

    def __init__(self, sink, problems: deque) -> None:
        self.sink = sink
        self.box = TripleBuffer()
        self.wake = threading.Event()
        self.stop = False
        self.problems = problems
        self.thread = threading.Thread(target=self._run, daemon=True,
                                       name=f"stage-{getattr(sink, 'name', 'sink')}")
        self.thread.start()

    def offer(self, u8: np.ndarray, shown_at: float, track_t: float, seq: int) -> None:
        self.box.write(u8, shown_at, track_t, seq)
        self.wake.set()

    def _run(self) -> None:
        while not self.stop:
            self.wake.wait(1.0)
            self.wake.clear()
            got = self.box.read()
            if got is None or self.stop:
                continue
            try:
                self.sink.consume(*got)
            except Exception as e:  # one broken sink never stops the others
                self.problems.append(f"{getattr(self.sink, 'name', type(self.sink).__name__)}: "
                                     f"{type(e).__name__}: {e}")
                self.stop = True

    def end(self) -> None:
        self.stop = True
        self.wake.set()


class FrameFanout:
    """publish() on the main thread; one dispatcher thread converts the frame
    once and hands it to each sink's own feeder thread."""

    def __init__(self) -> None:
        self._feeders: tuple[_Feeder, ...] = ()
        self._heard_sinks: tuple = ()
        self._mailbox = TripleBuffer()
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._u8: np.ndarray | None = None  # float frames converted here, once
        self._f32: np.ndarray | None = None
        self.seq = 0  # frames published
        self.dispatched = 0  # frames handed to the sinks (newest wins: <= seq)
        self.problems: deque[str] = deque(maxlen=20)  # one line per sink failure
        self.publish_s: deque[float] = deque(maxlen=600)  # main-thread cost, for the bench

    # -- sinks ------------------------------------------------------------------------
    def add(self, sink) -> None:
        if sink in self.sinks:
            return
        self._feeders = self._feeders + (_Feeder(sink, self.problems),)
        if callable(getattr(sink, "heard", None)):
            self._heard_sinks = self._heard_sinks + (sink,)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="stage-fanout", daemon=True)
            self._thread.start()

    def remove(self, sink) -> None:
        for f in self._feeders:
            if f.sink is sink:
                f.end()
        self._feeders = tuple(f for f in self._feeders if f.sink is not sink)
        self._heard_sinks = tuple(s for s in self._heard_sinks if s is not sink)

    @property
    def sinks(self) -> tuple:
        return tuple(f.sink for f in self._feeders)

    # -- the main thread ---------------------------------------------------------------
    def publish(self, rgba: np.ndarray, shown_at: float, track_t: float) -> None:
        """rgba: (H, W, 4) uint8, or float32 in [0, 1] (the editor's texture
        format; converted off this thread). Costs one memcpy when a sink is
        attached, nothing otherwise."""
        if not self._feeders:
            return
        t0 = time.perf_counter()
        self.seq += 1
        self._mailbox.write(rgba, shown_at, track_t, self.seq)
        self._wake.set()
        self.publish_s.append(time.perf_counter() - t0)

    def heard(self, at: float, track_t: float, playing: bool) -> None:
        """The track time heard at monotonic `at` (every window frame)."""
        for s in self._heard_sinks:
            s.heard(at, track_t, playing)

    # -- the dispatcher thread ----------------------------------------------------------
    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(1.0)
            self._wake.clear()
            got = self._mailbox.read()
            if got is None:
                continue
            frame, shown_at, track_t, seq = got
            u8 = self._as_u8(frame)
            for feeder in self._feeders:
                if not feeder.stop:  # a sink that failed gets nothing more
                    feeder.offer(u8, shown_at, track_t, seq)  # a memcpy each
            self.dispatched += 1

    def _as_u8(self, frame: np.ndarray) -> np.ndarray:
        if frame.dtype == np.uint8:
            return frame
        if self._u8 is None or self._u8.shape != frame.shape:
            self._u8 = np.empty(frame.shape, np.uint8)
            self._f32 = np.empty(frame.shape, np.float32)
        np.multiply(frame, np.float32(255.0), out=self._f32)
        np.add(self._f32, np.float32(0.5), out=self._f32)  # round, not truncate
        np.clip(self._f32, 0.0, 255.0, out=self._f32)
        np.copyto(self._u8, self._f32, casting="unsafe")
        return self._u8

    def close(self) -> None:
        """Stop dispatching and close every sink (finalises a recording)."""
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(2.0)
        feeders, self._feeders, self._heard_sinks = self._feeders, (), ()
        for f in feeders:
            f.end()
            close = getattr(f.sink, "close", None)
            if callable(close):
                try:
                    close()
                except Exception as e:
                    self.problems.append(f"closing {getattr(f.sink, 'name', type(f.sink).__name__)}: {e}")

"""Encoding on a worker thread while the engine makes the next frames, and
the sink (MP4 or a folder of JPEGs) it writes to."""
from __future__ import annotations

import queue
import threading

import numpy as np

from ..media.video import AudioSegment, JpegDirSink, Mp4Sink
from .request import RenderError, RenderRequest

RING_DEPTH = 3  # frames in flight between engine and encoder (copies of the engine's buffer)


class EncodeWorker:
    """Encodes frames on a thread while the engine makes the next ones.

    A ring of RING_DEPTH preallocated buffers: `submit` copies the engine's
    image into a free one (waiting when the encoder is behind, which bounds
    memory and keeps order) and hands it over."""

    def __init__(self, sink, shape: tuple[int, ...], depth: int = RING_DEPTH) -> None:
        self.sink = sink
        self.free: queue.Queue = queue.Queue()
        self.todo: queue.Queue = queue.Queue()
        for _ in range(depth):
            self.free.put(np.empty(shape, dtype=np.uint8))
        self.error: BaseException | None = None
        self.cancelled = False
        self.thread = threading.Thread(target=self._loop, name="hambajuba-encode", daemon=True)
        self.thread.start()

    def submit(self, rgba: np.ndarray) -> None:
        if self.error is not None:
            raise self.error
        buf = self.free.get()
        np.copyto(buf, rgba)
        self.todo.put(buf)

    def _loop(self) -> None:
        while True:
            buf = self.todo.get()
            if buf is None:
                return
            if self.error is None and not self.cancelled:
                try:
                    self.sink.add(buf)
                except BaseException as e:  # reported on the main thread
                    self.error = e
            self.free.put(buf)

    def cancel(self) -> None:
        """Skip what is queued, finish the frame in hand (ms), stop the thread:
        after this nothing touches the sink, so it can be aborted safely."""
        self.cancelled = True
        self.todo.put(None)
        self.thread.join()

    def drain(self) -> None:
        """Encode everything submitted, stop the thread, raise its error."""
        self.todo.put(None)
        while self.thread.is_alive():
            self.thread.join(timeout=0.1)
        if self.error is not None:
            raise self.error


def _make_sink(req: RenderRequest, shape, audio: AudioSegment):
    try:
        if req.frames_dir:
            return JpegDirSink(req.frames_dir, fps=req.fps, audio=audio, overwrite=req.overwrite)
        return Mp4Sink(req.out, width=shape[1], height=shape[0], fps=req.fps, audio=audio)
    except OSError as e:
        raise RenderError(f"cannot create the output beside {req.frames_dir or req.out} "
                          f"({e.strerror}); check the folder", code=1) from None

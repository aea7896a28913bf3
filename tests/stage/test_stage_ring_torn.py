"""The frame ring never hands out a torn frame: one whose pixels are partly of
another frame (a rewrite overlapping the read, or stores that became visible
out of order, as ARM CPUs allow)."""
from __future__ import annotations

import multiprocessing as mp
import time

import numpy as np

from graph_runtime.stage.fence import FENCE_KIND
from graph_runtime.stage.shm_ring import FrameRing

H, W = 64, 80


def _writer(name: str, seconds: float, done) -> None:
    ring = FrameRing(name=name, create=False)
    frame = np.empty((H, W, 4), np.uint8)
    k, end = 0, time.monotonic() + seconds
    try:
        while time.monotonic() < end:  # as fast as it goes: the reader is lapped often
            k += 1
            frame.fill(k % 251)
            _write_as_owner(ring, frame)
    finally:
        done.value = k
        ring.close()


def _write_as_owner(ring: FrameRing, frame: np.ndarray) -> None:
    ring.seq = ring.latest()  # this process writes; the test's process only reads
    ring.write(frame)


def test_a_frame_whose_pixels_changed_after_it_was_published_is_refused():
    """What a weakly ordered CPU can show a reader: the seq of frame n with some of
    frame n+1's pixels. The old seq-only check handed that frame out."""
    ring = FrameRing(height=H, width=W)
    reader = FrameRing(name=ring.name, create=False)
    try:
        seq = ring.write(np.full((H, W, 4), 7, np.uint8))
        assert reader.read()[0] == seq
        ring.data[seq % ring.slots][: 4 * W * 3] = 9      # three rows of another frame
        assert reader.read() is None                      # torn: skipped, not shown
        view = reader.peek(seq)
        assert view is not None and reader.still(seq) and not reader.intact(seq, view)
    finally:
        reader.close()
        ring.close()


def test_a_reader_racing_a_writer_process_never_sees_a_torn_frame():
    ring = FrameRing(height=H, width=W, slots=3)
    ctx = mp.get_context("spawn")
    done = ctx.Value("q", 0)
    proc = ctx.Process(target=_writer, args=(ring.name, 3.0, done))
    proc.start()
    got = skipped = 0
    out = np.empty((H, W, 4), np.uint8)
    try:
        end = time.monotonic() + 20
        while ring.latest() == 0 and time.monotonic() < end:
            time.sleep(0.001)
        end = time.monotonic() + 2.5
        while time.monotonic() < end:
            r = ring.read(out)
            if r is None:
                skipped += 1
                continue
            got += 1
            first = int(out.flat[0])
            assert (out == first).all(), f"torn frame: values {np.unique(out)[:8]}"
    finally:
        proc.join(30)
        ring.close()
    assert proc.exitcode == 0 and done.value > 100
    assert got > 50, (got, skipped, FENCE_KIND)

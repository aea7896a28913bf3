"""Preallocated rings that carry audio and channel values between threads.

SampleRing: the audio callback copies each block of samples in (one or two
slice copies, no allocation, no lock); the analysis worker reads fixed-size
blocks out. One writer, one reader. The two positions are plain Python ints
that only their own side writes; under the GIL an int store is atomic, and
each side publishes its position only after its copy is complete, so the
other side never sees half a block.

When the reader falls so far behind that a block would overwrite unread
samples, the writer drops the block and counts an overflow: the callback
never waits and never grows the ring.

ChannelRing: the worker writes one row of channel values per analysis frame
(50 per second), then bumps `written`; the bank copies the newest row. The
ring is deep (64 rows, 1.3 s) so a reader that copies a row while the writer
moves on never reads a row being rewritten.

Shapes: SampleRing (capacity, channels) float32; ChannelRing (slots, width) float64.
"""
from __future__ import annotations

import numpy as np


class SampleRing:
    def __init__(self, capacity: int, channels: int) -> None:
        if capacity <= 0 or channels <= 0:
            raise ValueError(f"SampleRing needs capacity and channels > 0, got {capacity}, {channels}")
        self.capacity = int(capacity)
        self.channels = int(channels)
        self.buf = np.zeros((self.capacity, self.channels), np.float32)
        self.written = 0     # samples ever written (writer only)
        self.consumed = 0    # samples ever read (reader only)
        self.overflows = 0   # blocks dropped because the reader was behind (writer only)

    # -- writer side (audio callback) ---------------------------------------------
    def write(self, block: np.ndarray) -> bool:
        """Copy block (n, channels) in; False (and an overflow counted) if it does not fit."""
        n = block.shape[0]
        w = self.written
        if n > self.capacity - (w - self.consumed):
            self.overflows += 1
            return False
        start = w % self.capacity
        first = min(n, self.capacity - start)
        self.buf[start:start + first] = block[:first]
        if first < n:
            self.buf[:n - first] = block[first:]
        self.written = w + n  # publish after the copy
        return True

    # -- reader side (analysis worker) --------------------------------------------
    def available(self) -> int:
        return self.written - self.consumed

    def read_into(self, out: np.ndarray) -> bool:
        """Fill out (n, channels) with the next n samples; False if fewer are there."""
        n = out.shape[0]
        c = self.consumed
        if self.written - c < n:
            return False
        start = c % self.capacity
        first = min(n, self.capacity - start)
        out[:first] = self.buf[start:start + first]
        if first < n:
            out[first:] = self.buf[:n - first]
        self.consumed = c + n  # publish after the copy
        return True


class ChannelRing:
    def __init__(self, width: int, slots: int = 64) -> None:
        self.slots = int(slots)
        self.rows = np.zeros((self.slots, int(width)), np.float64)
        self.written = 0  # rows ever published

    def next_row(self) -> np.ndarray:
        """The row the writer fills next (a view; publish() makes it visible)."""
        return self.rows[self.written % self.slots]

    def publish(self) -> None:
        self.written += 1

    def latest(self) -> np.ndarray | None:
        """A view of the newest published row, or None before the first."""
        w = self.written
        return None if w == 0 else self.rows[(w - 1) % self.slots]

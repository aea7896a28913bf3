"""A ring of frames in shared memory: the editor writes, the output window reads.

Layout of one `multiprocessing.shared_memory` block (all little-endian):

    ring header   int64[8]      magic, slots, slot_bytes, latest seq, last seq on
                                screen, its swap time (float64 bits; the reader writes these two)
    slot headers  int64[slots, 8]  seq (-1 while written), height, width,
                                   shown_at and track_t as float64 bits
    slot data     slots x slot_bytes, 64-byte aligned: (H, W, 4) uint8 RGBA

The writer fills slot `seq % slots` as a seqlock with real memory ordering
(fence.py: C11 seq_cst fences, needed on ARM, where stores and loads are
reordered by the CPU):

    writer: slot.seq = -1; FENCE; pixels, size, times, checksum; FENCE;
            slot.seq = seq; latest = seq
    reader: s = latest; FENCE; slot.seq == s?; copy pixels; FENCE; slot.seq == s?
            and the copy's checksum == the slot's?

A read that overlaps a rewrite of its slot sees -1 or a newer seq and is
skipped. The checksum (a wrapping sum of the frame's 64-bit words, ~30 us a
megabyte) is a second, independent check on the copy: a torn frame is never
handed out even where no fence is available. With >= 3 slots the writer
must lap the ring twice during one read to reach the slot being read.
Nothing is pickled per frame; the block's name is the only thing that
crosses the process boundary.
"""
from __future__ import annotations

from multiprocessing import resource_tracker, shared_memory

import numpy as np

from .fence import fence as _fence

_fence = _fence or (lambda: None)  # no fence here: the checksum alone guards (see above)

MAGIC = 0x48424A5247  # "HBJRG"
MIN_SLOTS = 3
_HDR = 8  # int64 words in each header
_SEQ, _H, _W, _SHOWN, _TRACK, _SUM = range(6)
MAX_SIDE = 8192  # bounds a frame before the ring is sized from it
_OWNED: set[str] = set()  # blocks this process created (a reader here must not unregister them)


class RingError(Exception):
    """The shared-memory ring cannot be made or read; one line."""


def checksum(words: np.ndarray) -> int:
    """Wrapping sum of a slot's 64-bit words (the frame padded to 8 bytes), as int64."""
    return int(np.add.reduce(words, dtype=np.uint64).view(np.int64)) if words.size else 0


def _data_offset(slots: int) -> int:
    raw = 8 * _HDR * (1 + slots)
    return (raw + 63) // 64 * 64


class FrameRing:
    """create=True: the writer side (owns and unlinks the block).
    create=False: attach to `name` as a reader (never unlinks it)."""

    def __init__(self, *, name: str | None = None, height: int = 0, width: int = 0,
                 slots: int = MIN_SLOTS, create: bool = True) -> None:
        self.owner = create
        if create:
            if not (0 < height <= MAX_SIDE and 0 < width <= MAX_SIDE):
                raise RingError(f"frame size {width}x{height} is outside 1..{MAX_SIDE}")
            slots = max(MIN_SLOTS, int(slots))
            slot_bytes = (height * width * 4 + 63) // 64 * 64
            size = _data_offset(slots) + slots * slot_bytes
            self.shm = shared_memory.SharedMemory(create=True, size=size)
            _OWNED.add(self.shm.name)
        else:
            try:
                self.shm = shared_memory.SharedMemory(name=name)
            except FileNotFoundError:
                raise RingError(f"no shared-memory ring named {name}") from None
            # Python 3.11 registers attached blocks too and would unlink the
            # writer's block when this process exits: the writer owns it
            if self.shm.name not in _OWNED:
                try:
                    resource_tracker.unregister(self.shm._name, "shared_memory")
                except Exception:
                    pass
        buf = self.shm.buf
        self.header = np.ndarray((_HDR,), np.int64, buf, 0)
        if create:
            np.ndarray((size,), np.uint8, buf)[:] = 0  # touch every page now, not mid-show
            self.header[0], self.header[1], self.header[2] = MAGIC, slots, slot_bytes
        elif self.header[0] != MAGIC:
            self.shm.close()
            raise RingError(f"shared memory {name} is not a hambajuba frame ring")
        self.slots = int(self.header[1])
        self.slot_bytes = int(self.header[2])
        self.slot_headers = np.ndarray((self.slots, _HDR), np.int64, buf, 8 * _HDR)
        self._times = self.slot_headers.view(np.float64)  # same words, read as seconds
        off = _data_offset(self.slots)
        self.data = [np.ndarray((self.slot_bytes,), np.uint8, buf, off + i * self.slot_bytes)
                     for i in range(self.slots)]
        self._views: dict[tuple[int, int, int], np.ndarray] = {}
        self._words: dict[tuple[int, int], np.ndarray] = {}
        self.seq = int(self.header[3])

    @property
    def name(self) -> str:
        return self.shm.name

    def fits(self, height: int, width: int) -> bool:
        return height * width * 4 <= self.slot_bytes

    def _words_of(self, slot: int, nbytes: int) -> np.ndarray:
        """The slot's first nbytes (rounded up to 8) as uint64 words, for the checksum."""
        key = (slot, nbytes)
        v = self._words.get(key)
        if v is None:
            n = (nbytes + 7) // 8
            v = self._words[key] = self.data[slot][:8 * n].view(np.uint64)
        return v

    def _view(self, slot: int, h: int, w: int) -> np.ndarray:
        key = (slot, h, w)
        v = self._views.get(key)
        if v is None:  # once per slot and size
            v = self._views[key] = self.data[slot][:h * w * 4].reshape(h, w, 4)
        return v

    # -- the writer ---------------------------------------------------------------------
    def write(self, rgba: np.ndarray, shown_at: float = 0.0, track_t: float = 0.0) -> int:
        """Copy one (H, W, 4) uint8 frame in; returns its sequence number."""
        h, w = rgba.shape[:2]
        seq = self.seq + 1
        slot = seq % self.slots
        hdr = self.slot_headers[slot]
        hdr[_SEQ] = -1
        _fence()  # the -1 is visible before any pixel of the new frame
        view = self._view(slot, h, w)
        np.copyto(view, rgba)
        if view.nbytes % 8:  # the checksum's last word: padding bytes are zero
            self.data[slot][view.nbytes:(view.nbytes + 7) // 8 * 8] = 0
        hdr[_H], hdr[_W] = h, w
        self._times[slot, _SHOWN], self._times[slot, _TRACK] = shown_at, track_t
        hdr[_SUM] = checksum(self._words_of(slot, view.nbytes))
        _fence()  # every pixel, size and time is visible before the seq that vouches for them
        hdr[_SEQ] = seq
        self.header[3] = seq
        self.seq = seq
        return seq

    # -- the reader ---------------------------------------------------------------------
    def latest(self) -> int:
        return int(self.header[3])

    def peek(self, seq: int) -> np.ndarray | None:
        """A view of frame `seq` in place (for a direct texture upload); call
        `still(seq)` after using it to know it was not overwritten meanwhile."""
        if seq <= 0:
            return None
        slot = seq % self.slots
        hdr = self.slot_headers[slot]
        _fence()  # `latest` was read before the slot's seq
        if hdr[_SEQ] != seq:
            return None
        _fence()  # the size and pixels are read after the seq that vouches for them
        h, w = int(hdr[_H]), int(hdr[_W])
        if not (0 < h <= MAX_SIDE and 0 < w <= MAX_SIDE) or h * w * 4 > self.slot_bytes:
            return None
        return self._view(slot, h, w)

    def still(self, seq: int) -> bool:
        _fence()  # every pixel load of the frame happens before this seq load
        return int(self.slot_headers[seq % self.slots][_SEQ]) == seq

    def read(self, out: np.ndarray | None = None) -> tuple[int, np.ndarray] | None:
        """Copy the newest frame out: (seq, array), or None when it was torn."""
        seq = self.latest()
        view = self.peek(seq)
        if view is None:
            return None
        slot = seq % self.slots
        want = int(self.slot_headers[slot][_SUM])
        if out is None or out.shape != view.shape:
            out = np.empty(view.shape, np.uint8)
        np.copyto(out, view)
        if not self.still(seq):
            return None
        return (seq, out) if _sum_of(out) == want else None

    def intact(self, seq: int, view: np.ndarray) -> bool:
        """A frame taken with peek() (uploaded in place) matched its checksum when read
        back afterwards; call after still(seq)."""
        return checksum(self._words_of(seq % self.slots, view.nbytes)) == \
            int(self.slot_headers[seq % self.slots][_SUM])

    def mark_shown(self, seq: int, at: float) -> None:
        """The reader: frame `seq` reached the screen at monotonic `at` (for the bench)."""
        self.header[5:6].view(np.float64)[0] = at
        self.header[4] = seq

    def shown(self) -> tuple[int, float]:
        return int(self.header[4]), float(self.header[5:6].view(np.float64)[0])

    def times(self, seq: int) -> tuple[float, float]:
        slot = seq % self.slots
        return float(self._times[slot, _SHOWN]), float(self._times[slot, _TRACK])

    def close(self) -> None:
        self._views.clear()
        self._words.clear()
        self.data = []
        self.header = self.slot_headers = self._times = None
        try:
            self.shm.close()
        except BufferError:
            pass  # a caller still holds a view; the mapping goes with the process
        if self.owner:
            _OWNED.discard(self.shm.name)
            try:
                self.shm.unlink()
            except FileNotFoundError:
                pass


def _sum_of(frame: np.ndarray) -> int:
    """checksum() of a copied frame, zero-padded to whole 8-byte words like the slot."""
    flat = frame.reshape(-1)
    whole = flat.size // 8 * 8
    words = flat[:whole].view(np.uint64)
    if whole < flat.size:  # an odd pixel count: one padded word (allocates; rare sizes only)
        pad = np.zeros(8, np.uint8)
        pad[:flat.size - whole] = flat[whole:]
        words = np.concatenate([words, pad.view(np.uint64)])
    return checksum(words)

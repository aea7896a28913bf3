"""The shared-memory frame ring and the fan-out's triple buffer."""
from __future__ import annotations

import numpy as np
import pytest
from stage_cards import card

from graph_runtime.stage.shm_ring import MIN_SLOTS, FrameRing, RingError


def test_reader_in_another_mapping_gets_the_newest_frame_and_its_times():
    ring = FrameRing(height=96, width=128)
    reader = FrameRing(name=ring.name, create=False)
    try:
        for i in range(5):
            ring.write(card(i), shown_at=10.0 + i, track_t=2.0 * i)
        seq, img = reader.read()
        assert seq == 5
        np.testing.assert_array_equal(img, card(4))
        assert reader.times(seq) == (14.0, 8.0)
        assert reader.slots >= MIN_SLOTS
    finally:
        reader.close()
        ring.close()


def test_a_slot_being_rewritten_is_not_handed_out():
    ring = FrameRing(height=16, width=16)
    try:
        seq = ring.write(card(1, 16, 16))
        view = ring.peek(seq)
        assert view is not None
        ring.slot_headers[seq % ring.slots][0] = -1  # the writer is inside this slot
        assert ring.peek(seq) is None
        assert not ring.still(seq)
        # a lap later the same slot holds a newer frame: the old seq is gone
        ring.slot_headers[seq % ring.slots][0] = seq
        for i in range(ring.slots):
            ring.write(card(2 + i, 16, 16))
        assert ring.peek(seq) is None
    finally:
        ring.close()


def test_sizes_are_bounded_and_a_missing_ring_is_named():
    with pytest.raises(RingError, match="outside"):
        FrameRing(height=100000, width=10)
    with pytest.raises(RingError, match="no shared-memory ring named"):
        FrameRing(name="hambajuba-no-such-ring", create=False)
    ring = FrameRing(height=32, width=32)
    try:
        assert ring.fits(32, 32) and not ring.fits(64, 64)
    finally:
        ring.close()


def test_float_frames_come_out_as_the_exact_bytes():
    """The editor hands float32 k/255 frames; sinks must see the engine's bytes."""
    import threading

    from graph_runtime.stage.fanout import FrameFanout

    got, done = [], threading.Event()

    class Sink:
        def consume(self, rgba, shown_at, track_t, seq):
            got.append((rgba.copy(), shown_at, track_t, seq))
            done.set()

    fan = FrameFanout()
    fan.add(Sink())
    src = card(3)
    fan.publish(src.astype(np.float32) * np.float32(1 / 255), 5.0, 1.5)
    assert done.wait(5.0)
    fan.close()
    rgba, shown_at, track_t, seq = got[0]
    assert rgba.dtype == np.uint8
    np.testing.assert_array_equal(rgba, src)
    assert (shown_at, track_t, seq) == (5.0, 1.5, 1)

"""The sample ring and the channel ring: wrap-around, overflow counting, no torn rows."""
import numpy as np

from graph_runtime.live.ring import ChannelRing, SampleRing


def test_sample_ring_round_trips_across_the_wrap():
    ring = SampleRing(10, 2)
    out = np.zeros((4, 2), np.float32)
    got = []
    for k in range(12):                          # 12 blocks of 3 through a 10-sample ring
        block = np.arange(k * 6, k * 6 + 6, dtype=np.float32).reshape(3, 2)
        assert ring.write(block)
        while ring.read_into(out):
            got.append(out.copy())
    flat = np.concatenate(got).ravel()
    assert np.array_equal(flat, np.arange(len(flat), dtype=np.float32))
    assert ring.overflows == 0


def test_full_sample_ring_drops_the_block_and_counts_it():
    ring = SampleRing(8, 1)
    assert ring.write(np.ones((6, 1), np.float32))
    assert not ring.write(np.full((3, 1), 2.0, np.float32))     # would overwrite unread samples
    assert ring.overflows == 1
    out = np.zeros((6, 1), np.float32)
    assert ring.read_into(out) and np.all(out == 1.0)           # nothing old was lost
    assert not ring.read_into(np.zeros((1, 1), np.float32))     # and nothing half-written appears


def test_channel_ring_latest_is_the_last_published_row():
    ring = ChannelRing(3, slots=4)
    assert ring.latest() is None
    for k in range(9):
        ring.next_row()[:] = k
        assert ring.latest() is None or ring.latest()[0] == k - 1   # not visible before publish
        ring.publish()
        assert ring.latest()[0] == k

"""The fan-out: a sink that stalls never holds up the others or the window."""
from __future__ import annotations

import threading
import time

import numpy as np
from stage_cards import card

from graph_runtime.stage.fanout import FrameFanout


class Fast:
    name = "fast"

    def __init__(self):
        self.seqs = []
        self.cond = threading.Condition()

    def consume(self, rgba, shown_at, track_t, seq):
        with self.cond:
            self.seqs.append((seq, int(rgba[0, 0, 0])))
            self.cond.notify_all()

    def wait_for(self, seq, timeout=10.0):
        end = time.monotonic() + timeout
        with self.cond:
            while not any(s == seq for s, _ in self.seqs):
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True


class Stuck:
    name = "stuck"

    def __init__(self):
        self.release = threading.Event()
        self.calls = 0

    def consume(self, rgba, shown_at, track_t, seq):
        self.calls += 1
        self.release.wait(30)  # a sink that hangs (a dead pipe, a full disk)


class Broken:
    name = "broken"

    def consume(self, rgba, shown_at, track_t, seq):
        raise OSError("pipe gone")


def test_a_stuck_and_a_broken_sink_do_not_stop_the_fast_one():
    fan = FrameFanout()
    fast, stuck = Fast(), Stuck()
    fan.add(stuck)
    fan.add(Broken())
    fan.add(fast)
    try:
        for i in range(1, 21):
            fan.publish(card(i), float(i), float(i))
            assert fast.wait_for(i), f"frame {i} never reached the fast sink"
        assert [s for s, _ in fast.seqs] == list(range(1, 21))
        assert [v for _, v in fast.seqs] == [int(card(i)[0, 0, 0]) for i in range(1, 21)]
        assert stuck.calls == 1  # still inside its first frame
        assert any("broken: OSError: pipe gone" in p for p in fan.problems)
    finally:
        stuck.release.set()
        fan.close()


def test_nothing_is_copied_without_sinks_and_heard_reaches_only_listeners():
    fan = FrameFanout()
    fan.publish(np.zeros((8, 8, 4), np.uint8), 0.0, 0.0)
    assert fan.seq == 0 and fan._thread is None
    heard = []

    class Ears(Fast):
        def heard(self, at, track_t, playing):
            heard.append((at, track_t, playing))

    fan.add(Fast())
    fan.add(Ears())
    fan.heard(1.0, 2.0, True)
    assert heard == [(1.0, 2.0, True)]
    fan.close()

"""ClockIn's tempo from ticks that arrive late: a tick is stamped when Python gets it,
so a busy core or a stalled sender makes ticks late (never early). The fit follows the
on-time ticks; the clock leads only after half a beat of a run, and a pause never
enters the fit."""
from __future__ import annotations

import numpy as np
import pytest

from graph_runtime.control.midi_clock import PPQN, SETTLE_TICKS, ClockIn

BPM = 125.0
TICK = 60.0 / BPM / PPQN          # 20 ms


def feed_run(clock: ClockIn, walls) -> None:
    for w in walls:
        clock.feed("clock", float(w))


def stalled_walls(n: int, stall_at: int, stall_s: float, seed: int = 0) -> np.ndarray:
    """n ticks of a sender that sleeps to its schedule: small late jitter (0.3 ms mean),
    and one stall of stall_s from tick stall_at, after which the missed ticks go out
    back to back (the sender catches up to its schedule)."""
    rng = np.random.default_rng(seed)
    due = np.arange(n) * TICK
    sent = due + rng.exponential(0.0003, n)
    blocked_until = due[stall_at] + stall_s
    caught = stall_at + np.arange(n - stall_at)
    sent[caught] = np.maximum(sent[caught], blocked_until + 0.0002 * (caught - stall_at))
    return sent


def test_a_stall_near_the_newest_ticks_does_not_bend_the_tempo():
    clock = ClockIn()
    clock.feed("start", 0.0)
    walls = 100.0 + stalled_walls(60, stall_at=50, stall_s=0.045)
    feed_run(clock, walls)
    r = clock.read(walls[-1] + 0.001)
    assert r.running
    assert r.bpm == pytest.approx(BPM, rel=0.002)
    # the beat boundary sits on the schedule (tick 48 is beat 2), not on a late tick
    assert r.beat_index == 2 and r.beat_wall == pytest.approx(100.0 + 48 * TICK, abs=0.001)


def test_the_clock_leads_only_after_half_a_beat_of_ticks():
    clock = ClockIn()
    clock.feed("start", 0.0)
    walls = 5.0 + np.arange(SETTLE_TICKS) * TICK
    feed_run(clock, walls[:-1])
    assert not clock.read(walls[-2]).running
    feed_run(clock, walls[-1:])
    r = clock.read(walls[-1])
    assert r.running and r.bpm == pytest.approx(BPM, rel=0.001)


def test_a_pause_never_enters_the_fit():
    clock = ClockIn()
    clock.feed("start", 0.0)
    feed_run(clock, 10.0 + np.arange(30) * TICK)
    clock.feed("stop", 10.7)
    assert not clock.read(10.71).running
    clock.feed("continue", 12.0)
    resumed = 12.0 + np.arange(SETTLE_TICKS) * TICK       # counting on from tick 30
    feed_run(clock, resumed)
    r = clock.read(resumed[-1])
    assert r.running and r.bpm == pytest.approx(BPM, rel=0.001)
    assert r.ticks == 30 + SETTLE_TICKS

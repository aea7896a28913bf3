"""The media clock follows a drifting, jittery audio device within a frame."""
from __future__ import annotations

import random

import pytest

from graph_runtime.media.clock import MediaClock, NullClock

FRAME = 1.0 / 50.0  # one video frame at 50 fps: the A/V error budget


class FakeTime:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def simulate(*, speed: float, seconds: float, latency: float = 0.040, jitter: float = 0.003,
             buffer: int = 512, sr: int = 48000, reads_hz: float = 60.0, seed: int = 0):
    """Run a simulated device whose sample clock runs `speed` times the
    monotonic clock; return [(monotonic, clock error)] sampled at every read.

    The device plays `buffer` frames per callback; each callback reports the
    played time of its buffer and when it is heard (with reporting jitter).
    """
    rng = random.Random(seed)
    now = FakeTime()
    clock = MediaClock(now=now)
    m0 = now.t
    clock.start(0.0, at=m0 + latency)
    period = buffer / (sr * speed)  # monotonic seconds per buffer
    next_cb, next_read, k = m0, m0, 0
    errors, readings = [], []
    end = m0 + seconds
    while now.t < end:
        if next_cb <= next_read:
            now.t = next_cb
            heard_at = m0 + k * period + latency + rng.uniform(-jitter, jitter)
            clock.observe(k * buffer / sr, heard_at)
            k += 1
            next_cb = m0 + k * period
        else:
            now.t = next_read
            truth = max(0.0, (now.t - m0 - latency) * speed)  # played time heard now
            reading = clock.time()
            errors.append((now.t - m0, reading - truth))
            readings.append(reading)
            next_read += 1.0 / reads_hz
    clock.readings = readings
    return errors, clock


@pytest.mark.parametrize("speed", [1.001, 0.999, 1.0])
def test_drift_stays_under_one_frame_over_ten_minutes(speed):
    errors, clock = simulate(speed=speed, seconds=600.0)
    settled = [abs(e) for t, e in errors if t > 2.0]
    assert max(settled) < FRAME / 2, max(settled)
    # bounded, not growing: the last minute is no worse than the second one
    late = max(abs(e) for t, e in errors if t > 540.0)
    early = max(abs(e) for t, e in errors if 60.0 < t < 120.0)
    assert late < early + 0.002
    assert clock.snaps == 0  # drift is slewed, never jumped


def test_visual_clock_is_monotonic_under_heavy_jitter():
    errors, clock = simulate(speed=1.001, seconds=60.0, jitter=0.008)
    r = clock.readings
    assert all(b >= a for a, b in zip(r, r[1:]))
    assert max(abs(e) for t, e in errors if t > 2.0) < FRAME / 2


def test_slew_is_bounded():
    now = FakeTime()
    clock = MediaClock(now=now, max_slew=0.005)
    clock.start(0.0)
    now.t += 1.0
    clock.observe(1.05, now.t)  # device 50 ms ahead: under the snap threshold
    clock.time()
    assert clock.rate == pytest.approx(1.005)


def test_jump_snaps_and_preroll_holds():
    now = FakeTime()
    clock = MediaClock(now=now)
    clock.start(5.0, at=now.t + 0.1)
    now.t += 0.05
    assert clock.time() == 5.0  # first sample not heard yet
    now.t += 0.1
    assert clock.time() == pytest.approx(5.05)
    clock.observe(30.0, now.t)  # a seek: the device is elsewhere
    assert clock.time() == pytest.approx(30.0)
    assert clock.snaps == 1


def test_hold_freezes_and_null_clock_is_exact():
    now = FakeTime()
    clock = MediaClock(now=now)
    clock.start(0.0)
    now.t += 2.0
    clock.hold(clock.time())
    now.t += 5.0
    assert clock.time() == pytest.approx(2.0)
    null = NullClock(now=now)
    null.start(1.0)
    now.t += 3.25
    assert null.time() == pytest.approx(4.25)
    null.hold(4.25)
    now.t += 1.0
    assert null.time() == pytest.approx(4.25)

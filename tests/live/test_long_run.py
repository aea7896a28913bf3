"""Minutes of input, fed as fast as it goes: flat memory, no drift.

Four 52.4 s loops after the first (3.5 minutes in all; the run once fed ten):
the memory bound is the ten-minute one per minute fed (2 MB over 9.6 minutes),
and the clock is checked on the grid at the end of every loop, not only the last."""
import numpy as np
import pytest
from live_helpers import drum_loop

from graph_runtime.live.analyser import CausalAnalyser
from graph_runtime.live.replay import feed

LOOPS = 4                                             # after the first, which fills every history
LOOP_S = 110 * 60.0 / 126.0                           # 52.4 s


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def _off_grid_s(a: CausalAnalyser, period: float) -> float:
    """How far the last emitted beat sits from the nearest beat of the true grid (s)."""
    last = a.tracker.emitted[(a.tracker.n_emitted - 1) % len(a.tracker.emitted)]
    return abs(((last / period) + 0.5) % 1.0 - 0.5) * period


@pytest.mark.slow  # ~20 s of CPU alone (a minute on a busy shared machine)
def test_minutes_fast_fed_flat_memory_and_no_drift():
    a = CausalAnalyser(sr=22050, channels=1)
    # 110 beats at 126 BPM = 1,155,000 samples = 5250 blocks of 220 exactly: feed() drops a
    # loop's last partial block, which would move the true grid (6 ms a minute for 60 s)
    loop = drum_loop(LOOP_S, bpm=126.0, sr=22050, channels=1, tone_hz=None)
    assert loop.shape[0] % a.block == 0
    feed(loop, a)                                     # the first loop fills every history
    base = _rss_bytes()
    period = 60.0 / 126.0
    for i in range(LOOPS):
        feed(loop, a)
        # the clock still sits on the grid: the last beat is on a 126 BPM beat
        assert _off_grid_s(a, period) < 0.07, f"off the grid after loop {i + 2}"
    grown = _rss_bytes() - base
    fed_min = LOOPS * LOOP_S / 60.0
    assert grown < 2 * 1024 * 1024 * fed_min / 9.6, f"resident memory grew by {grown} bytes over {fed_min:.1f} minutes"
    assert a.frame >= (LOOPS + 1) * LOOP_S * 50 - 5
    assert np.all(np.isfinite(a.ring.rows))
    assert abs(a.tracker.bpm / 126.0 - 1.0) < 0.02    # the tempo does not drift

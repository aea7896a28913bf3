"""Ten minutes of input, fed as fast as it goes: flat memory, no drift."""
import numpy as np
import pytest
from live_helpers import drum_loop

from graph_runtime.live.analyser import CausalAnalyser
from graph_runtime.live.replay import feed


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.slow  # ~1 min of CPU alone (4 min on a busy shared machine)
def test_ten_minutes_fast_fed_flat_memory_and_no_drift():
    a = CausalAnalyser(sr=22050, channels=1)
    # 110 beats at 126 BPM = 1,155,000 samples = 5250 blocks of 220 exactly: feed() drops a
    # loop's last partial block, which would move the true grid (6 ms a minute for 60 s)
    loop = drum_loop(110 * 60.0 / 126.0, bpm=126.0, sr=22050, channels=1, tone_hz=None)
    assert loop.shape[0] % a.block == 0
    feed(loop, a)                                     # the first loop fills every history
    base = _rss_bytes()
    for _ in range(11):                               # 11 x 52.4 s: ten minutes in all
        feed(loop, a)
    grown = _rss_bytes() - base
    assert grown < 2 * 1024 * 1024, f"resident memory grew by {grown} bytes over 9.6 minutes"
    assert a.frame >= 10 * 60 * 50 - 5
    assert np.all(np.isfinite(a.ring.rows))
    assert abs(a.tracker.bpm / 126.0 - 1.0) < 0.02    # the tempo does not drift
    # the clock still sits on the grid after ten minutes: the last beat is on a 126 BPM beat
    period = 60.0 / 126.0
    last = a.tracker.emitted[(a.tracker.n_emitted - 1) % len(a.tracker.emitted)]
    assert abs(((last / period) + 0.5) % 1.0 - 0.5) * period < 0.07

"""Minutes of input, fed as fast as it goes: flat memory, no drift.

The run of `hambajuba bench live --long MINUTES` (graph_runtime/live/long_run.py):
a 126 BPM drum loop of 52.4 s, one loop to fill every history and four more
measured (4.4 minutes in all; the suite once fed ten, the bench feeds what it
is asked). The memory bounds are the ten-minute run's: 2 MB in all, and
its rate (2 MB over 9.6 minutes) on the median loop, which a one-off step
of the process (another test's thread, a new allocator arena) does not move
but a leak does; the clock is checked on the grid at the end of every
loop, not only the last."""
import pytest

from graph_runtime.live import long_run

LOOPS = 5                                             # the first fills the histories


@pytest.mark.slow  # ~15 s of CPU alone (a minute on a busy shared machine)
def test_minutes_fast_fed_flat_memory_and_no_drift():
    loop_s = long_run.drum_loop().shape[0] / long_run.SR
    # 110 beats at 126 BPM = 1,155,000 samples = 5250 blocks of 220 exactly: feed() drops a
    # loop's last partial block, which would move the true grid (6 ms a minute for 60 s)
    assert round(loop_s * long_run.SR) % 220 == 0
    r = long_run.run(LOOPS * loop_s / 60.0)
    assert r["minutes_measured"] == pytest.approx((LOOPS - 1) * loop_s / 60.0, abs=0.01)
    # the ten-minute bound (2 MB over 9.6 minutes) on the rate a leak grows at, every loop
    # alike (the median loop), and on the whole run's growth
    rate_bound = 2 * 1024 * 1024 / 9.6                 # bytes per minute
    assert r["rss_growth_per_minute_median"] < rate_bound, f"resident memory grows: {r}"
    assert r["rss_growth_bytes"] < 2 * 1024 * 1024, f"resident memory grew by {r['rss_growth_bytes']} bytes"
    assert r["frames"] >= LOOPS * loop_s * 50 - 5
    assert r["finite"]
    assert r["bpm_error"] < 0.02                      # the tempo does not drift
    # the clock still sits on the grid after every loop: the last beat is on a 126 BPM beat
    assert r["off_grid_max_ms"] < 70.0, r

"""`hambajuba bench soak --minutes 1 --json`: a minute on stage with everything on
(the window, the output window, an MJPEG viewer, a recording, OSC at 200
messages/s, scene recalls every 10 s, live input from a file). Liveness and
bookkeeping only: the figures themselves are the benchmark's to report."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
@pytest.mark.gui
def test_a_minute_on_stage_with_everything_on(display, tmp_path):
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_DATA_HOME": "",
           "PYTHONPATH": ROOT, "DISPLAY": display}
    out = subprocess.run([sys.executable, "-m", "hambajuba_nodes.cli", "bench", "soak",
                          "--minutes", "1", "--json"], cwd=ROOT, capture_output=True, text=True,
                         timeout=1200, env=env)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["window_alive"] and r["played_s"] >= 55.0            # the show ran the minute
    assert r["frames_shown"] > 0 and r["mjpeg_frames"] > 0 and not r["mjpeg_error"]
    assert r["osc_sent"] >= 5000 and r["osc_unknown"] == 0 and r["scene_recalls"] >= 5
    assert r["osc_taken"] >= 0.95 * r["osc_sent"]                 # the inbox took them all in
    # the recording covers the show: as long as the wall time it ran, within a second
    assert abs(r["recording_s"] - r["recorded_wall_s"]) <= 3.0, r
    for key in ("rss_start_mb", "rss_end_mb", "rss_max_mb", "window_rss_max_mb"):
        assert r[key] > 0
    assert r["rss_max_mb"] >= r["rss_start_mb"]

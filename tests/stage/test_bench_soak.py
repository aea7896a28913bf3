"""`hambajuba bench soak --minutes 0.25 --json`: 15 s on stage with everything on
(the window, the output window, an MJPEG viewer, a recording, OSC at 200
messages/s, six scene recalls, live input from a file). Liveness and
bookkeeping only: the figures themselves are the benchmark's to report, and
the hour is `hambajuba bench soak` (docs/stage.md). The bounds are the
one-minute soak's, scaled to the time played."""
from __future__ import annotations

import json
import os
import sys

import pytest
from gui_harness import run_window_command

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MINUTES = 0.25
SECONDS = 60.0 * MINUTES


@pytest.mark.slow
@pytest.mark.gui
def test_a_quarter_minute_on_stage_with_everything_on(display, tmp_path):
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_DATA_HOME": "",
           "PYTHONPATH": ROOT, "DISPLAY": display}
    out = run_window_command([sys.executable, "-m", "hambajuba_nodes.cli", "bench", "soak",
                              "--minutes", str(MINUTES), "--json"], cwd=ROOT, capture_output=True,
                             text=True, timeout=1200, env=env)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["window_alive"] and r["played_s"] >= SECONDS * 55 / 60   # the show ran its time
    assert r["frames_shown"] > 0 and r["mjpeg_frames"] > 0 and not r["mjpeg_error"]
    assert r["osc_sent"] >= SECONDS * 5000 / 60 and r["osc_unknown"] == 0
    assert r["scene_recalls"] >= 5                                 # one every SECONDS / 6
    assert r["osc_taken"] >= 0.95 * r["osc_sent"]                 # the inbox took them all in
    # the recording covers the show: as long as the wall time it ran, within a second
    assert abs(r["recording_s"] - r["recorded_wall_s"]) <= 3.0, r
    for key in ("rss_start_mb", "rss_end_mb", "rss_max_mb", "window_rss_max_mb"):
        assert r[key] > 0
    assert r["rss_max_mb"] >= r["rss_start_mb"]


def test_a_show_killed_by_a_signal_says_which(monkeypatch, capsys):
    """The show's window aborted (Dear PyGui in show_viewport): bench soak exits 128 + the
    signal, as a shell does, with the show's own output, so a caller (the window tests'
    rerun of a window that never opened) can tell an abort from a failed soak."""
    import argparse
    import subprocess

    from hambajuba_nodes.cli import bench_soak
    from hambajuba_nodes.editor import display as display_mod

    # as faulthandler prints it: the cause, the stack, then one long line of extension modules
    modules = "Extension modules: " + ", ".join(f"scipy.module_{i}" for i in range(200)) + " (total: 200)"
    aborted = subprocess.CompletedProcess(
        [], -6, "", "Glfw Error 65544: X11: Failed to open display :158\nFatal Python error: Aborted\n"
        'File "app.py", line 9 in show_viewport\n\n' + modules + "\n")
    monkeypatch.setattr(display_mod, "has_display", lambda: True)
    monkeypatch.setattr(bench_soak.subprocess, "run", lambda *a, **k: aborted)
    assert bench_soak.run_bench_soak(argparse.Namespace(minutes=0.25, json=True)) == 134
    err = capsys.readouterr().err
    assert "the show failed (exit -6)" in err and "in show_viewport" in err
    assert "Failed to open display" in err and "Extension modules" not in err
    # what the window tests' rerun reads: this abort is a window that never opened
    from gui_harness import _viewport_never_opened
    assert _viewport_never_opened(subprocess.CompletedProcess([], 134, "", err))
    failed = subprocess.CompletedProcess([], 3, "", "no SOAK line\n")
    monkeypatch.setattr(bench_soak.subprocess, "run", lambda *a, **k: failed)
    assert bench_soak.run_bench_soak(argparse.Namespace(minutes=0.25, json=True)) == 1

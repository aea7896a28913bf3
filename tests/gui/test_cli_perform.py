"""`hambajuba perform ... --quit-after S --screenshot F.png`: a scripted run
with the real (preview) engine, checked without a person."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from gui_harness import run_window_command

pytestmark = pytest.mark.gui

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def perform(*args, timeout=300):
    env = dict(os.environ)
    return run_window_command([sys.executable, "-m", "hambajuba_nodes.cli", "perform", *args],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_scripted_run_plays_and_saves_a_screenshot(display, tmp_path, wav, monkeypatch):
    shot = tmp_path / "perform.png"
    env_config = tmp_path / "config"
    monkeypatch.setenv("HAMBAJUBA_CONFIG", str(env_config))
    r = perform(wav(8.0), "--patch", os.path.join(ROOT, "patches", "default.patch"),
                "--model", "preview", "--size", "128", "--null-audio", "--synthetic-analysis",
                "--quit-after", "6", "--screenshot", str(shot))
    assert r.returncode == 0, r.stderr[-3000:]
    assert shot.exists() and shot.stat().st_size > 20_000
    assert "screenshot:" in r.stdout


def test_scripted_run_reports_a_bad_patch(display, tmp_path, wav, monkeypatch):
    bad = tmp_path / "bad.patch"
    bad.write_text("{ not json")
    monkeypatch.setenv("HAMBAJUBA_CONFIG", str(tmp_path / "config"))
    r = perform(wav(2.0), "--patch", str(bad), "--no-engine", "--null-audio",
                "--synthetic-analysis", "--quit-after", "1", "--screenshot", str(tmp_path / "b.png"))
    assert r.returncode == 2
    assert "malformed JSON" in r.stderr
    assert (tmp_path / "b.png").exists()  # the window ran and showed it


def test_perform_needs_a_display(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    r = subprocess.run([sys.executable, "-m", "hambajuba_nodes.cli", "perform", "x.wav"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "no display" in r.stderr

"""`hambajuba monitors` and perform's stage flags: bad input exits 2 with one line."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MONITORS = [{"name": "laptop", "x": 0, "y": 0, "width": 1280, "height": 800},
            {"name": "projector", "x": 1280, "y": 0, "width": 1920, "height": 1080}]


def hambajuba(*args, env=None):
    return subprocess.run([sys.executable, "-m", "hambajuba_nodes.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


def test_monitors_lists_what_the_output_window_would_see(display):
    r = hambajuba("monitors", "--json", env={"HAMBAJUBA_MONITORS": json.dumps(MONITORS)})
    assert r.returncode == 0, r.stderr
    mons = json.loads(r.stdout)
    assert [(m["index"], m["name"], m["width"]) for m in mons] == [(0, "laptop", 1280), (1, "projector", 1920)]
    r = hambajuba("monitors")  # the real list: Xvfb shows one screen
    assert r.returncode == 0 and r.stdout.startswith("0: ")


@pytest.mark.parametrize("flags, message", [
    (["--monitor", "1"], "--monitor and --fullscreen go with --output-window"),
    (["--output-window", "--monitor", "-2"], "--monitor -2: monitors count from 0"),
    (["--serve-output", "web"], "--serve-output web: give PORT or HOST:PORT"),
    (["--record", "/no/such/folder/show.mp4"], "the folder /no/such/folder does not exist"),
    (["--record", "show.avi"], "give a file name ending in .mp4"),
])
def test_perform_refuses_bad_stage_flags_before_opening_a_window(flags, message):
    r = hambajuba("perform", "--no-engine", *flags)
    assert r.returncode == 2
    assert message in r.stderr and r.stderr.count("\n") == 1


def test_perform_refuses_a_port_in_use():
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        r = hambajuba("perform", "--no-engine", "--serve-output", str(port))
    finally:
        taken.close()
    assert r.returncode == 2
    assert f"--serve-output: port {port} on 127.0.0.1 is in use" in r.stderr

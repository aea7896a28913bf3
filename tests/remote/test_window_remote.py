"""The window on a remote engine: `perform --engine HOST:PORT --token-file F`
under Xvfb, against a real `serve` process (null model)."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from gui_harness import VIEWPORT_TRIES, _viewport_never_opened, run_window_command, viewport_retry_pause
from remote_helpers import ROOT, TOKEN, free_port, spawn_serve


@pytest.fixture()
def display_env():
    """$DISPLAY, or a private Xvfb (the editor's own helper) for this test."""
    from hambajuba_nodes.editor.display import has_display, private_display

    if has_display():
        yield os.environ["DISPLAY"]
        return
    try:
        name, proc = private_display(first=140)
    except RuntimeError as e:
        pytest.skip(str(e))
    yield name
    proc.terminate()
    proc.wait(5)


def test_perform_draws_frames_from_a_token_protected_server(tmp_path, display_env):
    token = tmp_path / "token"
    token.write_bytes(TOKEN + b"\n")
    wav = tmp_path / "t.wav"
    sf.write(str(wav), np.zeros((44100 * 6, 2), np.float32), 44100)
    shot = tmp_path / "window.png"
    for attempt in range(VIEWPORT_TRIES):  # a fresh server each time: it counts its clients
        port = free_port()
        server = spawn_serve(port, "--token-file", str(token))
        try:
            r = subprocess.run(
                [sys.executable, "-m", "hambajuba_nodes.cli", "perform", str(wav),
                 "--engine", f"127.0.0.1:{port}",
                 "--token-file", str(token), "--null-audio", "--synthetic-analysis",
                 "--quit-after", "4", "--screenshot", str(shot)],
                cwd=ROOT, capture_output=True, text=True, timeout=240,
                env={**os.environ, "DISPLAY": display_env,
                     "HAMBAJUBA_CONFIG": str(tmp_path / "config")})
        finally:
            server.terminate()
            out, _ = server.communicate(timeout=30)
        if not _viewport_never_opened(r):  # Xvfb refused the window before the show began
            break
        viewport_retry_pause(attempt)
    assert r.returncode == 0, r.stderr[-3000:]
    assert shot.exists()
    gone = [line for line in out.splitlines() if " gone: " in line]
    assert len(gone) == 1 and "client left" in gone[0], out
    frames = int(gone[0].rsplit("(", 1)[1].split()[0])
    assert frames > 10, out                      # the window asked for and got images


def test_perform_refuses_a_token_file_without_an_engine(tmp_path):
    r = subprocess.run([sys.executable, "-m", "hambajuba_nodes.cli", "perform", "x.wav",
                        "--token-file", "nope"], cwd=ROOT, capture_output=True, text=True,
                       timeout=60, env={**os.environ, "DISPLAY": ":0"})
    assert r.returncode == 2 and "--token-file needs --engine HOST:PORT" in r.stderr


def test_the_engine_tab_field_moves_the_window_to_another_server(tmp_path, display_env):
    wav = tmp_path / "t.wav"
    sf.write(str(wav), np.zeros((44100 * 20, 2), np.float32), 44100)
    ports = free_port(), free_port()
    servers = [spawn_serve(p) for p in ports]
    try:
        r = run_window_command(
            [sys.executable, os.path.join(ROOT, "tests", "remote", "window_child.py"),
             f"127.0.0.1:{ports[0]}", f"127.0.0.1:{ports[1]}", str(wav), str(tmp_path / "cfg")],
            cwd=ROOT, capture_output=True, text=True, timeout=240,
            env={**os.environ, "DISPLAY": display_env})
    finally:
        for s in servers:
            s.terminate()
            s.wait(30)
    out = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
    assert r.returncode == 0, r.stderr[-3000:]
    assert out["first_ready"] == "True" and out["first_engine"] == f"127.0.0.1:{ports[0]}"
    assert out["engine_tab_link"].startswith("link: remote ") and " ms, " in out["engine_tab_link"]
    assert out["engine_tab_link"].endswith(" fps"), out            # RTT and fps in the Engine tab
    assert out["second_ready"] == "True" and out["second_engine"] == f"127.0.0.1:{ports[1]}"
    assert "null engine" in out["description"]
    assert out["bad_state"] == "failed" and "HOST:PORT" in out["bad_message"], out

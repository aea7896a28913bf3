"""`serve` cannot be locked out: strangers who connect and never authenticate
(idle, slowloris, garbage) take no slot; a token holder's `render --engine`
still gets its frames, and the refusals are logged at a bounded rate."""
from __future__ import annotations

import socket
import struct
import subprocess
import sys
import threading
import time

import numpy as np
from remote_helpers import ROOT, TOKEN, free_port, spawn_serve, wait_until

from graph_runtime.graph.frame import FrameParams
from graph_runtime.remote import doorman
from graph_runtime.remote.client import RemoteEngine

HOLD = 40


class Squatters:
    """Keeps HOLD unauthenticated connections open to a port from 127.0.0.1, opening a new
    one whenever the server drops one (at most 80 opens a second): idle sockets, a
    slowloris dribbling a header, and oversize length prefixes, round-robin."""

    def __init__(self, port: int) -> None:
        self.port, self.opened = port, 0
        self.socks: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Squatters":
        for _ in range(HOLD):
            self._open()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)
        for s in self.socks:
            s.close()

    def _open(self) -> None:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.setblocking(False)
        kind = self.opened % 3
        if kind == 2:
            s.send(struct.pack(">I", 2**31))      # "here come 2 GB"
        self.socks.append(s)
        self.opened += 1

    def _run(self) -> None:
        while not self._stop.wait(0.05):            # at most 80 reopens a second
            reopened = 0
            for s in list(self.socks):
                if reopened >= 4:
                    break
                try:
                    if s.recv(1 << 16) == b"":
                        raise ConnectionResetError
                    if self.opened % 3 == 1:
                        s.send(b"\x00")           # slowloris: one byte of a header at a time
                except BlockingIOError:
                    continue
                except OSError:
                    s.close()
                    self.socks.remove(s)
                    self._open()
                    reopened += 1


def test_forty_squatters_do_not_keep_a_token_holder_from_rendering(tmp_path):
    token = tmp_path / "token"
    token.write_bytes(TOKEN + b"\n")
    port = free_port()
    server = spawn_serve(port, "--token-file", str(token))
    try:
        with Squatters(port) as squat:
            time.sleep(0.5)
            out = subprocess.run(
                [sys.executable, "-m", "hambajuba_nodes.cli", "render",
                 write_tone(tmp_path / "tone.wav", 2.0), "--engine", f"127.0.0.1:{port}",
                 "--token-file", str(token), "--out", str(tmp_path / "o.mp4"), "--fps", "30",
                 "--seconds", "1", "-q"],
                cwd=ROOT, capture_output=True, text=True, timeout=300,
                env=_env(tmp_path))
            time.sleep(2.5)                        # past the handshake deadline: drops go on
            assert len(squat.socks) >= HOLD - 4
            opened = squat.opened
    finally:
        server.terminate()
        log, _ = server.communicate(timeout=30)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "wrote" in out.stderr + out.stdout and "30 frames" in out.stderr + out.stdout
    assert "client 127.0.0.1" in log and "(30 frames)" in log
    assert opened > HOLD                           # the server did drop squatters
    refusals = [line for line in log.splitlines() if "refused" in line or "dropped" in line]
    assert 1 <= len(refusals) <= 10, refusals      # logged, rate-limited
    assert "more refused" in log


def write_tone(path, seconds: float) -> str:
    import soundfile as sf

    t = np.arange(int(seconds * 44100)) / 44100
    x = 0.3 * np.sin(2 * np.pi * 220 * t)
    sf.write(str(path), np.stack([x, x], axis=1), 44100, subtype="PCM_16")
    return str(path)


def _env(tmp_path) -> dict:
    import os

    return {**os.environ, "HOME": str(tmp_path / "home"), "XDG_DATA_HOME": "",
            "PYTHONPATH": ROOT}


def test_an_idle_caller_is_let_go_within_the_handshake_deadline(token_server):
    with socket.create_connection(("127.0.0.1", token_server.port), timeout=10) as s:
        t0 = time.monotonic()
        s.recv(4096)                               # the server's hello
        assert s.recv(4096) == b""                 # then closed, without a word from us
        assert time.monotonic() - t0 <= doorman.HANDSHAKE_S + 1.0
    assert token_server.client is None


def test_the_slot_is_taken_only_after_the_hmac(token_server):
    """Connected-but-silent and wrong-token callers never hold the engine."""
    silent = [socket.create_connection(("127.0.0.1", token_server.port)) for _ in range(5)]
    try:
        time.sleep(0.2)
        assert token_server.client is None
        eng = RemoteEngine(f"127.0.0.1:{token_server.port}", token=TOKEN, codec="raw")
        try:
            assert np.array_equal(eng.render(FrameParams()), token_server.engine._image)
            assert token_server.client is not None
        finally:
            eng.close()
    finally:
        for s in silent:
            s.close()
    assert wait_until(lambda: token_server.client is None, 5.0)


def test_at_the_cap_the_oldest_stranger_goes_and_the_newcomer_is_served(token_server):
    """More than MAX_PER_HOST silent callers from one address: the oldest are dropped at
    once (not after the deadline), and a newcomer's handshake goes through."""
    first = [socket.create_connection(("127.0.0.1", token_server.port), timeout=5)
             for _ in range(doorman.MAX_PER_HOST)]
    more = [socket.create_connection(("127.0.0.1", token_server.port), timeout=5)
            for _ in range(3)]
    try:
        t0 = time.monotonic()
        for s in first[:3]:
            s.recv(4096)
            assert s.recv(4096) == b""             # dropped to make room
        assert time.monotonic() - t0 < doorman.HANDSHAKE_S
        eng = RemoteEngine(f"127.0.0.1:{token_server.port}", token=TOKEN, codec="raw")
        eng.render(FrameParams())
        eng.close()
    finally:
        for s in first + more:
            s.close()
    assert token_server.door.dropped >= 3


def test_refusal_log_is_rate_limited():
    period = 0.5
    lines: list[str] = []
    say = doorman.RateLimitedSay(lines.append, period)
    for i in range(1000):
        say(f"refused {i}")
    time.sleep(period + 0.05)
    say("refused last")
    assert len(lines) == 2 and lines[0] == "refused 0"
    assert lines[1].startswith("refused last") and "999 more refused" in lines[1]

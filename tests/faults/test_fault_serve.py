"""The fault battery, `serve`: idle sockets, slowloris, oversize length
prefixes, garbage and 500 connects a second, all from loopback in bounded
loops, while a token holder renders. Each ends with the server still serving
every frame asked of it and its thread count bounded."""
from __future__ import annotations

import socket
import struct
import threading
import time

import pytest

from graph_runtime.engine.null_engine import NullEngine
from graph_runtime.graph.frame import FrameParams
from graph_runtime.remote import doorman
from graph_runtime.remote.client import RemoteEngine
from graph_runtime.remote.server import Server

TOKEN = b"fault battery token 0123456789abcdef"
FRAMES = 40


@pytest.fixture()
def server():
    srv = Server(NullEngine(128), port=0, token=TOKEN, say=lambda _l: None).start()
    yield srv
    srv.close()


def _idle(port):
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def _slowloris(port):
    s = _idle(port)
    s.send(b"\x00")                                  # one byte of a header, then nothing
    return s


def _oversize(port):
    s = _idle(port)
    s.send(struct.pack(">I", 2**32 - 1))             # "4 GB follow"
    return s


def _garbage(port):
    s = _idle(port)
    s.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + bytes(range(256)))
    return s


ATTACKS = {"idle": _idle, "slowloris": _slowloris, "oversize": _oversize, "garbage": _garbage}


def _attack(port, make, stop: threading.Event, rate: float, opened: list) -> None:
    """Open connections at `rate` a second (bounded: until stop, at most 2,000)."""
    held: list[socket.socket] = []
    period = 1.0 / rate
    nxt = time.monotonic()
    try:
        while not stop.is_set() and opened[0] < 2000:
            try:
                held.append(make(port))
                opened[0] += 1
            except OSError:
                pass
            if len(held) > 200:                      # the attacker's own bound
                held.pop(0).close()
            nxt += period
            time.sleep(max(0.0, nxt - time.monotonic()))
    finally:
        for s in held:
            s.close()


def _render_frames(port) -> int:
    eng = RemoteEngine(f"127.0.0.1:{port}", token=TOKEN, codec="raw", hold=False)
    try:
        good = 0
        for _ in range(FRAMES):
            if eng.render(FrameParams()).shape == (128, 128, 4):
                good += 1
        return good
    finally:
        eng.close()


@pytest.mark.parametrize("kind,rate", [("idle", 100), ("slowloris", 100), ("oversize", 100),
                                       ("garbage", 100), ("idle", 500)])
def test_serve_under_attack_still_renders_every_frame(server, kind, rate):
    stop, opened = threading.Event(), [0]
    attacker = threading.Thread(target=_attack, args=(server.port, ATTACKS[kind], stop, rate,
                                                      opened), daemon=True)
    threads_before = threading.active_count()
    attacker.start()
    try:
        time.sleep(0.5)
        assert _render_frames(server.port) == FRAMES
        # one thread for every caller's handshake: strangers add none
        assert threading.active_count() <= threads_before + 3
        assert len(server.door.pending) <= doorman.MAX_PENDING
    finally:
        stop.set()
        attacker.join(10)
    assert opened[0] >= 40
    assert _render_frames(server.port) == FRAMES      # and after it

"""The MJPEG server on one aiohttp loop: bounded connections,
a deadline on request line + headers, viewers that hang up cost one line at
most, and beyond loopback a token with the same rules as `serve`."""
from __future__ import annotations

import socket
import struct
import threading
import time
import urllib.error
import urllib.request

import pytest
from stage_cards import card

from graph_runtime.stage.fanout import FrameFanout
from graph_runtime.stage.mjpeg import MjpegServer, StageError

TOKEN = b"0123456789abcdef-stage-token"


@pytest.fixture
def serving():
    made = []

    def start(**kw):
        server = MjpegServer("127.0.0.1", 0, **kw)
        server.start()
        fan = FrameFanout()
        fan.add(server)
        stop = threading.Event()

        def publish():
            i = 0
            while not stop.is_set():
                fan.publish(card(i % 8, 64, 64), time.monotonic(), i / 60)
                i += 1
                time.sleep(1 / 60)

        t = threading.Thread(target=publish, daemon=True)
        t.start()
        made.append((stop, t, fan))
        return server

    yield start
    for stop, t, fan in made:
        stop.set()
        t.join(5)
        fan.close()


def threads() -> int:
    import os

    return len(os.listdir("/proc/self/task"))


def test_half_sent_requests_hold_no_thread_and_are_closed_after_the_deadline(serving):
    server = serving(head_s=1.0)
    before = threads()
    socks = []
    for _ in range(60):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        s.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never ends its headers
        socks.append(s)
    assert threads() <= before + 2  # no thread per connection
    t0 = time.monotonic()
    closed = 0
    for s in socks:  # the server hangs up on each one once the deadline passes
        s.settimeout(10)
        try:
            closed += s.recv(100) == b""
        except ConnectionResetError:
            closed += 1
        s.close()
    assert closed == len(socks)
    assert time.monotonic() - t0 < 8.0
    data = urllib.request.urlopen(f"http://127.0.0.1:{server.port}/frame.jpg", timeout=10).read()
    assert data[:2] == b"\xff\xd8"


def test_connections_past_the_cap_drop_the_oldest_waiting_one_not_the_newcomer(serving):
    server = serving(max_viewers=4, head_s=30.0)  # 32 connections at most
    socks = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(60)]
    try:
        for s in socks:
            s.sendall(b"GET /frame.jpg HTTP/1.1\r\n")
        time.sleep(0.5)
        t0 = time.monotonic()
        data = urllib.request.urlopen(f"http://127.0.0.1:{server.port}/frame.jpg", timeout=10).read()
        assert data[:2] == b"\xff\xd8" and time.monotonic() - t0 < 3.0
        assert server.site.guard.open <= 32 and server.site.guard.shed >= 28
    finally:
        for s in socks:
            s.close()


def read_some(port: int, nbytes: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    got = 0
    while got < nbytes:
        got += len(s.recv(65536))
    return s


def test_a_viewer_hanging_up_logs_at_most_one_line_never_a_traceback(serving, capfd):
    server = serving()
    rst = read_some(server.port, 20000)
    rst.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    rst.close()  # a reset, as a phone losing Wi-Fi
    read_some(server.port, 20000).close()  # and a polite close
    end = time.monotonic() + 10
    while server.routes.left + server.dropped_viewers < 2 and time.monotonic() < end:
        time.sleep(0.05)
    time.sleep(0.5)
    assert server.routes.left + server.dropped_viewers == 2
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert len([ln for ln in err.splitlines() if ln.strip()]) <= 1, err
    assert server.viewers == 0


def get(url: str, cookie: str | None = None):
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        r = urllib.request.urlopen(req, timeout=10)
        return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, b""


def test_beyond_loopback_needs_a_token_and_with_one_every_request_needs_it(serving):
    with pytest.raises(StageError, match="--serve-output 0.0.0.0: refusing .*--serve-output-token-file"):
        MjpegServer("0.0.0.0", 0).start()
    server = serving(token=TOKEN)  # bound to 127.0.0.1 with a token: the token is still needed
    base = f"http://127.0.0.1:{server.port}"
    assert get(base + "/frame.jpg")[0] == 401
    assert get(base + "/frame.jpg?token=wrong-token-0000000")[0] == 403
    status, headers, body = get(base + "/frame.jpg?token=" + TOKEN.decode())
    assert status == 200 and body[:2] == b"\xff\xd8"
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    assert TOKEN.decode() not in cookie and "HttpOnly" in headers["Set-Cookie"]
    assert get(base + "/frame.jpg", cookie)[0] == 200
    assert get(base + "/frame.jpg", "hambajuba_token=forged")[0] == 403


def test_a_dns_name_rebound_onto_loopback_is_refused(serving):
    server = serving()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET /frame.jpg HTTP/1.1\r\nHost: evil.example.com\r\nConnection: close\r\n\r\n")
        assert b" 403 " in s.recv(200)


@pytest.mark.gui
def test_the_window_serving_mjpeg_under_300_half_sent_requests_stays_bounded_and_live(display, tmp_path):
    """Half-sent requests cannot starve the window: <= 120 threads for the whole
    process, /frame.jpg within 3 s."""
    import json
    import os
    import sys

    from gui_harness import run_window_command
    from test_stage_app import tone

    here = os.path.dirname(os.path.abspath(__file__))
    r = run_window_command([sys.executable, os.path.join(here, "mjpeg_load_show.py"), str(tone(tmp_path)),
                            str(tmp_path)], capture_output=True, text=True, timeout=300)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("FOUND ")]
    assert r.returncode == 0 and lines, (r.stdout + r.stderr)[-4000:]
    f = json.loads(lines[0][6:])
    assert f["playing"] and f["opened"] == 300, f
    assert f["threads_most"] <= 120, f
    assert f["frame_ok"] is True and f["frame_s"] <= 3.0, f  # a liveness deadline, not a speed target
    assert f["frames_meanwhile"] > 0, f
    assert "Traceback" not in r.stderr, r.stderr[-3000:]


@pytest.mark.parametrize("flags, line", [
    (["--serve-output", "0.0.0.0:0"], "--serve-output 0.0.0.0: refusing to listen beyond this machine "
                                      "without a token; pass --serve-output-token-file FILE"),
    (["--web", "0.0.0.0:0"], "--web 0.0.0.0: refusing to listen beyond this machine without a token; "
                             "pass --web-token-file FILE"),
    (["--web", "0.0.0.0:0", "--web-token-file", "/no/such/token"],
     "--web-token-file /no/such/token: cannot read it"),
])
def test_perform_refuses_to_listen_beyond_loopback_without_a_token_in_one_line(flags, line):
    from test_stage_cli import hambajuba

    r = hambajuba("perform", "--no-engine", *flags)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and line in r.stderr, r.stderr


def test_a_short_token_file_is_refused_as_serve_refuses_it(tmp_path):
    from test_stage_cli import hambajuba

    short = tmp_path / "token"
    short.write_text("tooshort\n")
    r = hambajuba("perform", "--no-engine", "--web", "0.0.0.0:0", "--web-token-file", str(short))
    assert r.returncode == 2 and "the token must be at least 16 characters" in r.stderr


def frame_ok(port: int) -> bool:
    data = urllib.request.urlopen(f"http://127.0.0.1:{port}/frame.jpg", timeout=10).read()
    return data[:2] == b"\xff\xd8"


def test_slowloris_garbage_oversize_headers_and_a_connect_storm_leave_it_serving(serving, capfd):
    import random

    server = serving(head_s=1.0)
    port = server.port
    # slowloris: one header byte every 0.2 s; the deadline counts from the connect
    slow = socket.create_connection(("127.0.0.1", port), timeout=10)
    t0 = time.monotonic()
    try:
        for ch in b"GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: " + b"a" * 100:
            slow.sendall(bytes([ch]))
            time.sleep(0.2)
    except OSError:
        pass  # hung up on: what we want
    assert time.monotonic() - t0 < 4.0
    slow.close()
    # garbage, and a header line past the bound: an answer of 400 (or a hang-up), never a crash
    rng = random.Random(7)
    for junk in (bytes(rng.randrange(256) for _ in range(3000)),
                 b"GET /frame.jpg HTTP/1.1\r\nX-Big: " + b"b" * 20000 + b"\r\n\r\n",
                 b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 500):  # a TLS hello
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(junk)
            try:
                answer = s.recv(100)
            except ConnectionResetError:
                answer = b""
            assert answer == b"" or answer.startswith((b"HTTP/1.0 4", b"HTTP/1.1 4")), answer
    # 500 connects in a second
    end = time.monotonic() + 1.0
    n = 0
    while n < 500 and time.monotonic() < end + 4.0:
        socket.create_connection(("127.0.0.1", port), timeout=10).close()
        n += 1
    assert n == 500
    assert frame_ok(port)
    assert "Traceback" not in capfd.readouterr().err

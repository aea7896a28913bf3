"""MJPEG over HTTP on loopback: the frames decode to what the engine made."""
from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from stage_cards import card, psnr

from graph_runtime.stage.fanout import FrameFanout
from graph_runtime.stage.mjpeg import BOUNDARY, MjpegServer, StageError, parse_address

FRAMES = [card(i, 96, 128) for i in range(24)]
# grain JPEG cannot squeeze (~300 KB a part): a viewer that never reads fills its socket
# buffers (loopback grows them to 4 MB) in a second, not in the 15 s the cards took
GRAIN = [np.random.default_rng(i).integers(0, 256, (384, 512, 4), dtype=np.uint8) for i in range(4)]


class Publisher:
    """The window's side: publish the cards in turn until stopped."""

    def __init__(self, fan: FrameFanout, frames: list[np.ndarray] = FRAMES) -> None:
        self.fan, self.frames, self.stop = fan, frames, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            self.fan.publish(self.frames[i % len(self.frames)], time.monotonic(), i / 30)
            i += 1
            time.sleep(1 / 60)


def _serve(frames: list[np.ndarray]):
    server = MjpegServer("127.0.0.1", 0, send_timeout=0.5)
    server.start()
    fan = FrameFanout()
    fan.add(server)
    pub = Publisher(fan, frames)
    pub.thread.start()
    yield server
    pub.stop.set()
    pub.thread.join(5)
    fan.close()


@pytest.fixture
def served():
    yield from _serve(FRAMES)


@pytest.fixture
def served_grain():
    yield from _serve(GRAIN)


def read_parts(port: int, n: int) -> list[bytes]:
    """n JPEGs from /stream.mjpg, parsed from the multipart body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /stream.mjpg HTTP/1.0\r\n\r\n")
        f = s.makefile("rb")
        status = f.readline()
        assert b"200" in status
        headers = {}
        while (line := f.readline().strip()):
            k, _, v = line.decode().partition(":")
            headers[k.lower()] = v.strip()
        assert headers["content-type"] == f"multipart/x-mixed-replace; boundary={BOUNDARY}"
        parts = []
        while len(parts) < n:
            assert f.readline().strip() == f"--{BOUNDARY}".encode()
            length = None
            while (line := f.readline().strip()):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            parts.append(f.read(length))
            f.readline()
        return parts


def test_a_loopback_viewer_reads_frames_that_decode_to_the_engines(served):
    from turbojpeg import TJPF_RGB, TurboJPEG

    tj = TurboJPEG()
    parts = read_parts(served.port, 12)
    assert len(parts) >= 10
    matched = set()
    for data in parts:
        img = tj.decode(data, pixel_format=TJPF_RGB)
        assert img.shape == (96, 128, 3)
        scores = [psnr(img, f[..., :3]) for f in FRAMES]
        best = int(np.argmax(scores))
        assert scores[best] >= 35.0, f"PSNR {scores[best]:.1f} dB"
        matched.add(best)
    assert len(matched) >= 3  # a stream of changing frames, not one picture repeated


def test_frame_page_and_unknown_paths(served):
    from turbojpeg import TJPF_RGB, TurboJPEG

    base = f"http://127.0.0.1:{served.port}"
    data = urllib.request.urlopen(base + "/frame.jpg", timeout=10).read()
    img = TurboJPEG().decode(data, pixel_format=TJPF_RGB)
    assert max(psnr(img, f[..., :3]) for f in FRAMES) >= 35.0
    page = urllib.request.urlopen(base + "/", timeout=10).read()
    assert b"/stream.mjpg" in page and page.count(b"\n") == 1
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(base + "/etc/passwd", timeout=10)
    assert e.value.code == 404


def test_a_viewer_that_never_reads_is_dropped_and_slows_no_one(served_grain):
    served = served_grain
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(("127.0.0.1", served.port))
    stuck.sendall(b"GET /stream.mjpg HTTP/1.0\r\n\r\n")  # and then never reads
    try:
        for _ in range(3):  # meanwhile another viewer gets its frames
            assert len(read_parts(served.port, 10)) == 10
        end = time.monotonic() + 60
        while served.dropped_viewers < 1 and time.monotonic() < end:
            time.sleep(0.1)
        assert served.dropped_viewers >= 1
        assert len(read_parts(served.port, 3)) == 3
    finally:
        stuck.close()


def test_a_port_in_use_is_refused_with_a_message():
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        with pytest.raises(StageError, match=f"port {port} on 127.0.0.1 is in use"):
            MjpegServer("127.0.0.1", port).start()
    finally:
        taken.close()


def test_addresses_default_to_loopback():
    assert parse_address("8080") == ("127.0.0.1", 8080)
    assert parse_address("0.0.0.0:9000") == ("0.0.0.0", 9000)
    for bad in ("http", "1:99999"):
        with pytest.raises(StageError):
            parse_address(bad)

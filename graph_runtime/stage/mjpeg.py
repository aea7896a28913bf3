"""The output as an MJPEG stream over HTTP, for OBS, VLC or a browser.

    GET /stream.mjpg   multipart/x-mixed-replace JPEG frames as they come
    GET /frame.jpg     the newest frame, once
    GET /              a one-line page showing the stream

Threads: `consume` (the fan-out's dispatcher) copies the frame into a triple
buffer; one encoder thread turns the newest frame into JPEG bytes with
TurboJPEG (which releases the GIL), only while someone watches; each viewer
has its own thread that sends the newest JPEG when there is one it has not
sent. A viewer that reads slowly just skips frames; one that stops reading
blocks only its own thread until `send_timeout` drops it. Nothing a viewer
does can reach the editor's frame loop.

JPEG quality 90 with full-resolution colour (4:4:4): chroma subsampling
blurs the saturated colour edges generated images are full of (about 31 dB
PSNR at 4:2:0 against 38 dB at 4:4:4 on a noisy 512 px frame, ~50 KB a
frame, ~1 ms to encode). Binds 127.0.0.1 unless told a host; at most `max_viewers` at once (503
after); request lines and headers are bounded by http.server (64 KiB,
100 headers).
"""
from __future__ import annotations

import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .fanout import TripleBuffer

BOUNDARY = "hambajubaframe"
PAGE = (b"<!doctype html><title>hambajuba output</title><body style=\"margin:0;background:#000\">"
        b"<img src=\"/stream.mjpg\" style=\"width:100vw;height:100vh;object-fit:contain\"></body>\n")


class StageError(Exception):
    """A stage sink that cannot start; one line saying what to do."""


def parse_address(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """'8080' or 'HOST:8080' -> (host, port); StageError when it is neither."""
    host, sep, port = str(text).rpartition(":")
    host = host.strip("[]") if sep else default_host
    try:
        p = int(port)
    except ValueError:
        raise StageError(f"--serve-output {text}: give PORT or HOST:PORT") from None
    if not 0 <= p <= 65535:
        raise StageError(f"--serve-output {text}: the port must be 0..65535")
    return host or default_host, p


class MjpegServer:
    name = "mjpeg"

    def __init__(self, host: str = "127.0.0.1", port: int = 8080, *, quality: int = 90,
                 max_viewers: int = 16, send_timeout: float = 5.0) -> None:
        self.host, self.port = host, int(port)
        self.quality = int(quality)
        self.max_viewers = int(max_viewers)
        self.send_timeout = float(send_timeout)
        self.viewers = 0
        self.requests = 0  # being answered now (viewers included)
        self.dropped_viewers = 0
        self.encoded = 0
        self.encode_s: deque[float] = deque(maxlen=600)
        self._mailbox = TripleBuffer()
        self._wake = threading.Event()
        self._jpeg_cond = threading.Condition()
        self._count = threading.Lock()  # viewers come and go on their own threads
        self._jpeg: bytes = b""  # the newest encoded frame (immutable: shared by viewers)
        self._jpeg_seq = 0
        self._wanted = False  # a /frame.jpg is waiting
        self._stop = False
        self._httpd: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/stream.mjpg"

    def start(self) -> None:
        try:
            from turbojpeg import TurboJPEG

            self._tj = TurboJPEG()
        except Exception as e:  # the wheel without libturbojpeg on this machine
            raise StageError(f"--serve-output: TurboJPEG is not available ({e}); "
                             f"install libturbojpeg") from None
        server = self

        class Handler(_Handler):
            stage = server

        try:
            self._httpd = _Server((self.host, self.port), Handler)
        except OSError as e:
            what = "is in use" if e.errno in (98, 48, 10048) else f"cannot be opened ({e.strerror})"
            raise StageError(f"--serve-output: port {self.port} on {self.host} {what}; "
                             f"choose another with --serve-output PORT") from None
        self.port = self._httpd.server_address[1]  # port 0 asks for a free one
        for target, name in ((self._httpd.serve_forever, "mjpeg-http"), (self._encode_loop, "mjpeg-encode")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    # -- the sink (dispatcher thread) -----------------------------------------------------
    def consume(self, rgba, shown_at: float, track_t: float, seq: int) -> None:
        self._mailbox.write(rgba, shown_at, track_t, seq)
        self._wake.set()

    # -- the encoder thread ---------------------------------------------------------------
    def _encode_loop(self) -> None:
        from turbojpeg import TJPF_RGBA, TJSAMP_444

        frame = None
        while not self._stop:
            self._wake.wait(0.5)
            self._wake.clear()
            got = self._mailbox.read()
            if got is not None:
                frame = got[0]  # ours until the next read
            if frame is None or not (self.viewers or self._wanted):
                continue  # nobody watching: no encoding
            t0 = time.perf_counter()
            data = self._tj.encode(frame, quality=self.quality, pixel_format=TJPF_RGBA,
                                   jpeg_subsample=TJSAMP_444)
            self.encode_s.append(time.perf_counter() - t0)
            with self._jpeg_cond:
                self._jpeg, self._jpeg_seq = data, self._jpeg_seq + 1
                self._wanted = False
                self._jpeg_cond.notify_all()
            self.encoded += 1

    def next_jpeg(self, after: int, timeout: float) -> tuple[int, bytes]:
        """The newest JPEG newer than `after`, waiting up to `timeout` s."""
        with self._jpeg_cond:
            if self._jpeg_seq <= after:
                self._jpeg_cond.wait(timeout)
            return self._jpeg_seq, self._jpeg

    def want_frame(self) -> None:
        self._wanted = True
        self._wake.set()

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        with self._jpeg_cond:
            self._jpeg_cond.notify_all()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False  # a port in use is refused, not silently shared


class _Handler(BaseHTTPRequestHandler):
    stage: MjpegServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format, *args) -> None:  # keep the console for the show
        pass

    def do_GET(self) -> None:
        s = self.stage
        with s._count:
            busy = s.requests >= 2 * s.max_viewers
            if not busy:
                s.requests += 1
        if busy:  # every request is a thread: bound them
            self._reply(503, "text/plain", b"busy\n")
            return
        try:
            self._route()
        finally:
            with s._count:
                s.requests -= 1

    def _route(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/":
            self._reply(200, "text/html; charset=utf-8", PAGE)
        elif path == "/frame.jpg":
            self._frame()
        elif path == "/stream.mjpg":
            self._stream()
        else:
            self._reply(404, "text/plain", b"not found: try /stream.mjpg or /frame.jpg\n")

    def _reply(self, code: int, kind: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _frame(self) -> None:
        s = self.stage
        s.want_frame()
        seq, data = s.next_jpeg(0, 2.0)
        if not data:
            self._reply(503, "text/plain", b"no frame yet\n")
        else:
            self._reply(200, "image/jpeg", data)

    def _stream(self) -> None:
        s = self.stage
        if s.viewers >= s.max_viewers:
            self._reply(503, "text/plain", b"too many viewers\n")
            return
        self.connection.settimeout(s.send_timeout)  # a viewer that stops reading is dropped
        with s._count:
            s.viewers += 1
        s.want_frame()
        try:
            self.send_response(200)
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            seen = 0
            while not s._stop:
                seq, data = s.next_jpeg(seen, 1.0)
                if seq == seen or not data:
                    continue
                seen = seq
                self.wfile.write(b"--%s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
                                 % (BOUNDARY.encode(), len(data)) + data + b"\r\n")
        except (socket.timeout, OSError):
            with s._count:
                s.dropped_viewers += 1
        finally:
            with s._count:
                s.viewers -= 1

"""The output as an MJPEG stream over HTTP, for OBS, VLC or a browser.

    GET /stream.mjpg   multipart/x-mixed-replace JPEG frames as they come
    GET /frame.jpg     the newest frame, once
    GET /              a one-line page showing the stream

Served by the stage's one aiohttp loop (http/host.py), not a thread per
connection: the encoder (jpeg_source.py) makes each JPEG once for every
viewer. Bounds (http/guard.py): at most `max_viewers` streams (503 after),
128 connections, 5 s for a request line + headers, idle sockets closed, a
viewer that does not take a frame within `send_timeout` is dropped. Binds
127.0.0.1 unless told a host; beyond loopback it needs a token
(http/access.py: `?token=` once, then a cookie), as `serve` does.
"""
from __future__ import annotations

import asyncio

from aiohttp import web

from .http.access import Access, AccessError, check_bind
from .http.guard import HEAD_S
from .http.host import HttpHost, SiteError
from .jpeg_source import JpegSource, SourceError

BOUNDARY = "hambajubaframe"
PAGE = (b"<!doctype html><title>hambajuba output</title><body style=\"margin:0;background:#000\">"
        b"<img src=\"/stream.mjpg\" style=\"width:100vw;height:100vh;object-fit:contain\"></body>\n")
_PART_HEAD = b"--" + BOUNDARY.encode() + b"\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"


class StageError(Exception):
    """A stage sink that cannot start; one line saying what to do."""


def parse_address(text: str, default_host: str = "127.0.0.1", flag: str = "--serve-output") \
        -> tuple[str, int]:
    """'8080' or 'HOST:8080' -> (host, port); StageError when it is neither."""
    host, sep, port = str(text).rpartition(":")
    host = host.strip("[]") if sep else default_host
    try:
        p = int(port)
    except ValueError:
        raise StageError(f"{flag} {text}: give PORT or HOST:PORT") from None
    if not 0 <= p <= 65535:
        raise StageError(f"{flag} {text}: the port must be 0..65535")
    return host or default_host, p


class MjpegRoutes:
    """/stream.mjpg and /frame.jpg over one JpegSource (also mounted by the web surface)."""

    def __init__(self, source: JpegSource, *, max_viewers: int = 16, send_timeout: float = 5.0) -> None:
        self.source = source
        self.max_viewers = int(max_viewers)
        self.send_timeout = float(send_timeout)
        self.viewers = 0
        self.dropped_viewers = 0  # too slow to take a frame
        self.left = 0  # hung up
        self.stopping = False

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/stream.mjpg", self.stream)
        app.router.add_get("/frame.jpg", self.frame)

    async def frame(self, request: web.Request) -> web.StreamResponse:
        s = self.source
        s.want_frame()
        _, data = await s.newest(s.seq, 2.0)
        if not data:
            return _text(503, b"no frame yet\n")
        return web.Response(body=data, content_type="image/jpeg", headers={"Cache-Control": "no-store"})

    async def stream(self, request: web.Request) -> web.StreamResponse:
        if self.viewers >= self.max_viewers:
            return _text(503, b"too many viewers\n")
        s = self.source
        self.viewers += 1
        s.watchers += 1
        s.want_frame()
        resp = web.StreamResponse(headers={
            "Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
            "Cache-Control": "no-store"})
        try:
            await resp.prepare(request)
            seen = 0
            while not self.stopping:
                seq, data = await s.newest(seen, 1.0)
                if seq == seen or not data:
                    continue
                seen = seq
                # a viewer that stops reading fills its socket buffer: drop it, not the others
                await asyncio.wait_for(resp.write(_PART_HEAD % len(data) + data + b"\r\n"),
                                       self.send_timeout)
        except TimeoutError:
            self.dropped_viewers += 1
            request.transport is not None and request.transport.abort()
        except ConnectionError:  # hung up (aiohttp raises ClientConnectionResetError)
            self.left += 1
        finally:
            self.viewers -= 1
            s.watchers -= 1
        return resp


def _text(code: int, body: bytes) -> web.Response:
    return web.Response(status=code, body=body, content_type="text/plain",
                        headers={"Cache-Control": "no-store"})


async def _page(request: web.Request) -> web.Response:
    return web.Response(body=PAGE, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


async def _not_found(request: web.Request) -> web.Response:
    return _text(404, b"not found: try /stream.mjpg or /frame.jpg\n")


class MjpegServer:
    """The MJPEG site. A frame sink itself when it owns its source (the default);
    the Stage menu passes a shared source and a shared HttpHost instead."""

    name = "mjpeg"

    def __init__(self, host: str = "127.0.0.1", port: int = 8080, *, quality: int = 90,
                 max_viewers: int = 16, send_timeout: float = 5.0, token: bytes | None = None,
                 http: HttpHost | None = None, source: JpegSource | None = None,
                 head_s: float = HEAD_S) -> None:
        self.host, self.port = host, int(port)
        self.head_s = float(head_s)
        self.token = token
        self._own_http, self._own_source = http is None, source is None
        self.http = http or HttpHost()
        self.source = source or JpegSource(quality)
        self.routes = MjpegRoutes(self.source, max_viewers=max_viewers, send_timeout=send_timeout)
        self.site = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/stream.mjpg"

    # what the Stage menu, the bench and the tests read
    viewers = property(lambda self: self.routes.viewers)
    dropped_viewers = property(lambda self: self.routes.dropped_viewers)
    encoded = property(lambda self: self.source.encoded)
    encode_s = property(lambda self: self.source.encode_s)
    max_viewers = property(lambda self: self.routes.max_viewers)

    def start(self) -> None:
        try:
            check_bind(self.host, self.token, "--serve-output", "--serve-output-token-file")
            loop = self.http.start()
            self.source.start(loop)
            app = web.Application(client_max_size=1024)
            self.routes.add_to(app)
            app.router.add_get("/", _page)
            app.router.add_route("*", "/{tail:.*}", _not_found)
            self.site = self.http.open(app, self.host, self.port, access=Access(self.token),
                                       max_connections=8 * self.routes.max_viewers,
                                       head_s=self.head_s)
        except (AccessError, SourceError) as e:
            self.close()
            raise StageError(str(e) if isinstance(e, AccessError) else f"--serve-output: {e}") from None
        except SiteError as e:
            self.close()
            raise StageError(f"--serve-output: {e}; choose another with --serve-output PORT") from None
        self.port = self.site.port

    def consume(self, rgba, shown_at: float, track_t: float, seq: int) -> None:
        self.source.consume(rgba, shown_at, track_t, seq)

    def close(self) -> None:
        self.routes.stopping = True
        if self.site is not None:
            self.http.close_site(self.site)
            self.site = None
        if self._own_source:
            self.source.close()
        if self._own_http:
            self.http.close()

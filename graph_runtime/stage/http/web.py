"""The web control surface: `perform --web [HOST:]PORT`, on the stage's aiohttp loop.

    GET /                 the page (complete: controls are fetched over plain HTTP on load)
    GET /static/<file>    its CSS and JS (package data; no CDN, no web fonts)
    GET /api/controls     faders, XY params, scenes, sinks, blocks, views (JSON)
    GET /api/features?q=&block=   feature search with labels (at most 40 rows)
    GET /stream.mjpg, /frame.jpg  the live preview (the same JPEGs as MJPEG)
    GET /ws               WebSocket: JSON messages in (control/web.py), status out

Bounds: MAX_CLIENTS WebSockets, messages of at most MAX_MESSAGE bytes
(aiohttp refuses a longer frame from its header, before reading it), RATE
messages a second per client (a token bucket; a client that keeps flooding
is closed), a ping every HEARTBEAT_S. Every message goes into the control
session's inbox (control/web.py); the status goes out at 10 Hz from what
the main thread published (board.py), newest-wins, and a page that cannot
take it is closed (status_feed.py). Access: access.py (the token).
"""
from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from graph_runtime.control.web import WebInput

from ..jpeg_source import JpegSource, SourceError
from ..mjpeg import MjpegRoutes, StageError
from .access import Access, AccessError, check_bind, is_loopback
from .board import WebBoard
from .host import HttpHost, SiteError
from .status_feed import StatusFeed

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
FILES = {"app.js": "text/javascript", "app.css": "text/css"}
MAX_CLIENTS = 32
MAX_MESSAGE = 2048  # bytes per WebSocket message
RATE = 120.0  # messages a second per client (a fader dragged sends ~60)
BURST = 240.0
FLOOD_DROPS = 2000  # refused for rate in a row: the client is closed
HEARTBEAT_S = 10.0
MAX_ROWS = 40


class WebSurface:
    def __init__(self, session, *, host: str = "127.0.0.1", port: int = 8765,
                 token: bytes | None = None, http: HttpHost | None = None,
                 source: JpegSource | None = None, features: Callable[[], Any] | None = None,
                 views: tuple = ("image",), blocks: tuple | None = None) -> None:
        from graph_runtime.graph.frame import BLOCKS

        self.host, self.port, self.token = host, int(port), token
        self._own_http, self._own_source = http is None, source is None
        self.http = http or HttpHost()
        self.source = source or JpegSource()
        self.input = WebInput(session.inbox)
        self.board = WebBoard(session, self.input, views=views, blocks=blocks or BLOCKS)
        self.features = features
        self.mjpeg = MjpegRoutes(self.source, max_viewers=MAX_CLIENTS, send_timeout=5.0)
        self.feed = StatusFeed(lambda: self.board.status)
        self.clients = self.feed.clients  # ws -> its request
        self.refused_rate = 0
        self.site = None
        self._page = b""

    # -- the window's side (main thread) ----------------------------------------------
    def start(self) -> None:
        try:
            check_bind(self.host, self.token, "--web", "--web-token-file")
            with open(os.path.join(STATIC, "index.html"), "rb") as f:
                self._page = f.read()
            loop = self.http.start()
            self.source.start(loop)
            self.board.tick(force=True)  # the controls exist before the first page load
            self.site = self.http.open(self._app(), self.host, self.port, access=Access(self.token),
                                       max_connections=4 * MAX_CLIENTS)
            self.http.call(self._start_status())
        except (AccessError, SourceError) as e:
            self.close()
            raise StageError(str(e) if isinstance(e, AccessError) else f"--web: {e}") from None
        except SiteError as e:
            self.close()
            raise StageError(f"--web: {e}; choose another with --web PORT") from None
        self.port = self.site.port

    def tick(self, **status) -> None:
        """Once a frame (main thread): fps, recording, view, problems for the page."""
        self.board.tick(**status)

    @property
    def join_url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = lan_address()
        shown = f"[{host}]" if ":" in host else host
        tail = f"/?token={self.token.decode()}" if self.token else "/"
        return f"http://{shown}:{self.port}{tail}"

    def close(self) -> None:
        self.mjpeg.stopping = True
        site, self.site = self.site, None
        if site is not None:
            try:
                self.http.call(self._close_clients(), timeout=3.0)
            except Exception:
                pass
            self.http.close_site(site)
        if self._own_source:
            self.source.close()
        if self._own_http:
            self.http.close()

    # -- the loop thread ------------------------------------------------------------------
    def _app(self) -> web.Application:
        app = web.Application(client_max_size=4096)
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/api/controls", self._controls)
        app.router.add_get("/api/features", self._search)
        app.router.add_get("/ws", self._ws)
        self.mjpeg.add_to(app)
        return app

    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(body=self._page, content_type="text/html", charset="utf-8",
                            headers={"Cache-Control": "no-store"})

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in FILES:  # a fixed list: no path from the request reaches the filesystem
            raise web.HTTPNotFound()
        with open(os.path.join(STATIC, name), "rb") as f:
            body = f.read()
        return web.Response(body=body, content_type=FILES[name], charset="utf-8",
                            headers={"Cache-Control": "no-cache"})

    async def _controls(self, request: web.Request) -> web.Response:
        return web.Response(body=self.board.controls, content_type="application/json",
                            headers={"Cache-Control": "no-store"})

    async def _search(self, request: web.Request) -> web.Response:
        q = request.query.get("q", "")[:80]
        block = request.query.get("block") or None
        index = self.features() if self.features is not None else None
        rows: list = []
        total = 0
        if index is not None and (block is None or block in self.board.blocks):
            found, total = index.search(q, block=block, limit=MAX_ROWS)
            rows = [{"block": r.block, "id": r.id, "label": r.label, "category": r.category}
                    for r in found]
        return web.json_response({"rows": rows, "total": total})

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if len(self.clients) >= MAX_CLIENTS:
            return web.Response(status=503, text="too many web clients\n")
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE, heartbeat=HEARTBEAT_S,
                                   autoping=True)
        await ws.prepare(request)
        self.feed.add(ws, request)
        tokens, last, drops = BURST, time.monotonic(), 0
        try:
            first = self.board.status
            text = self.feed.encode(first) if first is not None else None
            if text is not None:
                await ws.send_str(text)
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    if msg.type == WSMsgType.ERROR:
                        break
                    continue
                now = time.monotonic()
                tokens = min(BURST, tokens + (now - last) * RATE)
                last = now
                if tokens < 1.0:
                    self.refused_rate += 1
                    drops += 1
                    if drops >= FLOOD_DROPS:
                        break
                    continue
                tokens -= 1.0
                drops = 0
                self.input.take(msg.data)
        except (TimeoutError, ConnectionError):
            pass
        finally:
            self.feed.remove(ws)
        return ws

    async def _start_status(self) -> None:
        self.feed.start()

    async def _close_clients(self) -> None:
        self.feed.stop()
        for ws in list(self.clients):
            await ws.close(code=1001, message=b"the show closed the web surface")


def lan_address() -> str:
    """This machine's address on the network the default route leaves by (no packet is sent)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.255.255.255", 1))
        return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        s.close()


__all__ = ["WebSurface", "is_loopback", "lan_address"]

"""HttpHost: one aiohttp event loop on one thread; every stage site runs on it.

    host = HttpHost()
    site = host.open(app, "127.0.0.1", 0, access=Access(token))   # -> Site (its port)
    ...
    host.close_site(site); host.close()

An app's handlers run on the loop thread only: no thread per connection,
so the process's thread count does not move with the number of viewers.
The window never waits on this loop except to open or close a site.
"""
from __future__ import annotations

import asyncio
import errno
import threading
from dataclasses import dataclass, field

from aiohttp import web

from .access import Access
from .guard import HEAD_S, Guard, quiet_logger

MAX_LINE = 4096  # bytes in the request line and in one header line
MAX_HEADERS = 64


class SiteError(Exception):
    """A site that cannot open (port in use); one line."""


@dataclass
class Site:
    host: str
    port: int
    access: Access
    guard: Guard
    runner: web.AppRunner = field(repr=False)


class _State:
    """What the middleware needs, set before the app is frozen."""

    def __init__(self, access: Access) -> None:
        self.access = access
        self.guard: Guard | None = None


STATE = web.AppKey("hambajuba_site", _State)
SET_COOKIE = web.RequestKey("hambajuba_set_cookie", bool)


class HttpHost:
    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.sites: list[Site] = []
        self.log = quiet_logger()

    def start(self) -> asyncio.AbstractEventLoop:
        if self.loop is None:
            loop = asyncio.new_event_loop()
            loop.set_exception_handler(lambda _l, ctx: self.log.warning(
                "%s", ctx.get("message", "loop error"), exc_info=ctx.get("exception")))
            self.loop = loop
            self.thread = threading.Thread(target=loop.run_forever, name="stage-http", daemon=True)
            self.thread.start()
        return self.loop

    def call(self, coro, timeout: float = 10.0):
        """Run a coroutine on the loop from another thread and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.start()).result(timeout)

    def open(self, app: web.Application, host: str, port: int, *, access: Access,
             max_connections: int = 128, head_s: float = HEAD_S) -> Site:
        site = self.call(self._open(app, host, port, access, max_connections, head_s))
        self.sites.append(site)
        return site

    async def _open(self, app, host, port, access, max_connections, head_s) -> Site:
        state = app[STATE] = _State(access)
        app.middlewares.insert(0, _guarded)
        app.on_response_prepare.append(_cookie)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, logger=self.log,
                               keepalive_timeout=head_s, max_line_size=MAX_LINE,
                               max_field_size=MAX_LINE, max_headers=MAX_HEADERS,
                               shutdown_timeout=0.5)
        await runner.setup()
        guard = state.guard = Guard(runner.server, max_connections=max_connections, head_s=head_s)
        # asyncio's default: SO_REUSEADDR on Unix, so a site stopped from the menu can start
        # again on its port at once (its old connections wait in TIME_WAIT); a port another
        # program listens on is still refused (sharing a listener needs SO_REUSEPORT)
        tcp = web.TCPSite(runner, host, port, backlog=256)
        try:
            await tcp.start()
        except OSError as e:
            await runner.cleanup()
            what = "is in use" if e.errno in (errno.EADDRINUSE, 48, 10048) else \
                f"cannot be opened ({e.strerror})"
            raise SiteError(f"port {port} on {host} {what}") from None
        guard.start()
        bound = tcp._server.sockets[0].getsockname()[1]  # port 0 asks for a free one
        return Site(host, int(bound), access, guard, runner)

    def close_site(self, site: Site) -> None:
        if site in self.sites:
            self.sites.remove(site)
        if self.loop is not None and self.loop.is_running():
            try:
                self.call(self._close(site), timeout=5.0)
            except Exception as e:  # closing must never take the window down
                self.log.warning("closing %s:%s: %s", site.host, site.port, e)

    @staticmethod
    async def _close(site: Site) -> None:
        site.guard.stop()
        await site.runner.cleanup()

    def close(self) -> None:
        for site in list(self.sites):
            self.close_site(site)
        loop, self.loop = self.loop, None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
            if self.thread is not None:
                self.thread.join(2.0)
            if not loop.is_running():
                loop.close()


@web.middleware
async def _guarded(request: web.Request, handler):
    """Mark the connection busy (no header deadline while a handler runs) and check access."""
    state = request.app[STATE]
    guard, access = state.guard, state.access
    guard.enter(request.protocol)
    try:
        code, cookie = access.verdict(request)
        if code:
            access.refused += 1  # one line per 10 s at most (guard.OneLineHandler)
            quiet_logger().warning("refused requests without a valid token (%d so far)", access.refused)
            text = b"a token is needed: open the join URL (with ?token=...)\n" if code == 401 \
                else b"forbidden\n"
            return web.Response(status=code, body=text, content_type="text/plain")
        if cookie:
            request[SET_COOKIE] = True
        return await handler(request)
    finally:
        guard.leave(request.protocol)


async def _cookie(request: web.Request, response: web.StreamResponse) -> None:
    if request.get(SET_COOKIE):
        request.app[STATE].access.set_cookie(response)

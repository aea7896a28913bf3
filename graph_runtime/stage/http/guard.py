"""Bounds on one aiohttp site, enforced on the loop thread before anything else runs.

A connection is either *busy* (a handler is running: a request, an MJPEG
viewer, a WebSocket) or *waiting* (accepted, or between keep-alive
requests). A waiting connection gets HEAD_S seconds to finish its request
line and headers, then it is closed: 300 half-sent requests cost 300 file
descriptors for a few seconds and no thread. Past `max_connections` the
oldest waiting connection is dropped to make room for the newcomer (the
newcomer is dropped only when every other connection is busy). Viewers and
clients are bounded separately by the routes.

Logging: aiohttp's own messages go to one logger that prints one line per
event kind at most every LOG_EVERY_S seconds, never a traceback, so a
viewer hanging up (or a stranger sending garbage) cannot flood the console.
"""
from __future__ import annotations

import asyncio
import logging
import sys
import time

HEAD_S = 5.0  # request line + headers, and idle keep-alive, in seconds
SWEEP_S = 0.25
LOG_EVERY_S = 10.0


class OneLineHandler(logging.Handler):
    """One line per message kind, rate-limited; the exception's type, not its traceback."""

    def __init__(self, stream=None) -> None:
        super().__init__(logging.INFO)
        self.stream = stream
        self._last: dict[str, float] = {}
        self.suppressed = 0

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage().splitlines()[0][:200] if record.msg else ""
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            msg = f"{msg}: {type(exc).__name__}"
        key = msg[:60]
        now = time.monotonic()
        if now - self._last.get(key, -1e9) < LOG_EVERY_S or len(self._last) > 256:
            self.suppressed += 1
            return
        self._last[key] = now
        print(f"hambajuba http: {msg}", file=self.stream or sys.stderr)


def quiet_logger() -> logging.Logger:
    log = logging.getLogger("hambajuba.stage.http")
    if not log.handlers:
        log.addHandler(OneLineHandler())
        log.propagate = False
        log.setLevel(logging.INFO)
    return log


class Guard:
    """Tracks one aiohttp Server's connections (hooks its connection_made/lost)."""

    def __init__(self, server, *, max_connections: int = 128, head_s: float = HEAD_S) -> None:
        self.max_connections = int(max_connections)
        self.head_s = float(head_s)
        self.conns: dict = {}  # RequestHandler -> [since (loop time), busy count, transport]
        self.shed = 0  # connections dropped to make room
        self.expired = 0  # connections closed for not finishing their headers (or idling)
        self._loop = asyncio.get_running_loop()
        self._sweeper: asyncio.Task | None = None
        made, lost = server.connection_made, server.connection_lost

        def connection_made(handler, transport) -> None:
            made(handler, transport)
            self.conns[handler] = [self._loop.time(), 0, transport]
            if len(self.conns) > self.max_connections:
                self._make_room(handler)

        def connection_lost(handler, exc=None) -> None:
            lost(handler, exc)
            self.conns.pop(handler, None)

        server.connection_made, server.connection_lost = connection_made, connection_lost

    def start(self) -> None:
        self._sweeper = self._loop.create_task(self._sweep())

    def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()

    # -- per request (the middleware) ----------------------------------------------------
    def enter(self, handler) -> None:
        rec = self.conns.get(handler)
        if rec is not None:
            rec[1] += 1

    def leave(self, handler) -> None:
        rec = self.conns.get(handler)
        if rec is not None:
            rec[1] -= 1
            rec[0] = self._loop.time()

    # -- closing ---------------------------------------------------------------------------
    def _make_room(self, newcomer) -> None:
        waiting = [(rec[0], h) for h, rec in self.conns.items() if rec[1] == 0 and h is not newcomer]
        victim = min(waiting, key=lambda p: p[0])[1] if waiting else newcomer
        self._drop(victim)
        self.shed += 1

    def _drop(self, handler) -> None:
        rec = self.conns.pop(handler, None)
        if rec is not None:
            rec[2].abort()  # RST now: nothing more is read from it or written to it

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            deadline = self._loop.time() - self.head_s
            late = [h for h, rec in self.conns.items() if rec[1] == 0 and rec[0] < deadline]
            for h in late:
                self._drop(h)
            self.expired += len(late)

    @property
    def open(self) -> int:
        return len(self.conns)

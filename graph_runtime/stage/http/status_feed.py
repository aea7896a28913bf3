"""The status going out to every page, on the stage's aiohttp loop.

Every STATUS_S the newest status the main thread published (board.py) goes
to each connected page, newest-wins: a page still taking the previous one
skips this one, so one slow phone never holds back the others. A page that
cannot take one status within SEND_TIMEOUT_S is closed (its TCP connection
aborted), never silently dropped: a page left open but no longer fed would
show "live" over a frozen BPM and frozen faders, and a closed one shows
"offline" and reconnects by itself (static/app.js).
"""
from __future__ import annotations

import asyncio
import json
from typing import Any, Callable

STATUS_S = 0.1  # 10 Hz
SEND_TIMEOUT_S = 3.0


class StatusFeed:
    def __init__(self, status: Callable[[], Any]) -> None:
        self._status = status  # () -> (rev, json-ready dict) or None
        self.clients: dict = {}  # server-side WebSocketResponse -> its request
        self._sending: dict = {}  # ws -> (send task, loop time it started)
        self.let_go = 0  # pages closed for not taking a status in time
        self.unsendable = 0  # statuses with a NaN or infinity in them, skipped
        self._task: asyncio.Task | None = None

    def add(self, ws, request) -> None:
        self.clients[ws] = request

    def remove(self, ws) -> None:
        self.clients.pop(ws, None)
        busy = self._sending.pop(ws, None)
        if busy is not None:
            busy[0].cancel()

    def start(self) -> None:
        """On the loop thread."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        sent = None
        while True:
            await asyncio.sleep(STATUS_S)
            st = self._status()
            if st is None or st is sent or not self.clients:
                continue
            sent = st
            text = self.encode(st)
            if text is not None:  # else skipped; the next status goes out as usual
                self.send(text)

    def encode(self, st) -> str | None:
        """The status as the page's JSON.parse takes it; None for one with a NaN or an
        infinity in it (Python would write NaN, which no browser parses)."""
        try:
            return json.dumps(st[1], allow_nan=False)
        except ValueError:
            self.unsendable += 1
            return None

    def send(self, text: str) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        for ws in list(self.clients):
            busy = self._sending.get(ws)
            if busy is not None and not busy[0].done():
                if now - busy[1] > SEND_TIMEOUT_S:
                    self._close(ws)
                continue
            self._sending[ws] = (loop.create_task(self._send_one(ws, text)), now)

    async def _send_one(self, ws, text: str) -> None:
        if ws.closed:
            return
        try:
            await ws.send_str(text)
        except asyncio.CancelledError:
            raise
        except Exception:  # reset, closing transport: the page reconnects
            self._close(ws)

    def _close(self, ws) -> None:
        request = self.clients.get(ws)
        self.remove(ws)
        self.let_go += 1
        transport = getattr(request, "transport", None)
        if transport is not None:
            transport.abort()  # its handler's receive loop ends; the page sees the close

"""The status fan-out on its own loop: a status the page could not parse is
skipped without ending the feed, and a page that stopped taking statuses is
closed while the others keep theirs (the same StatusFeed the web surface runs)."""
from __future__ import annotations

import asyncio
import json
import math

from graph_runtime.stage.http import status_feed
from graph_runtime.stage.http.status_feed import StatusFeed


class Page:
    """The server side of one page's WebSocket: what the feed sent it."""

    def __init__(self, hang: bool = False) -> None:
        self.got: list[dict] = []
        self.hang = hang
        self.closed = False

    async def send_str(self, text: str) -> None:
        if self.hang:
            await asyncio.sleep(3600)
        self.got.append(json.loads(text))  # what JSON.parse on the page would take


class Request:
    def __init__(self) -> None:
        self.transport = self

    def abort(self) -> None:
        self.aborted = True


def test_a_nan_status_is_skipped_and_the_next_one_goes_out(monkeypatch):
    monkeypatch.setattr(status_feed, "STATUS_S", 0.01)
    statuses = iter([(1, {"bpm": math.nan}), (2, {"bpm": 121.5}), (3, {"bpm": 122.0})])
    now = [None]
    page = Page()

    async def go():
        feed = StatusFeed(lambda: now[0])
        feed.add(page, Request())
        feed.start()
        for st in statuses:
            now[0] = st
            await asyncio.sleep(0.05)
        feed.stop()
        return feed

    feed = asyncio.run(go())
    assert [g["bpm"] for g in page.got] == [121.5, 122.0]
    assert feed.unsendable == 1


def test_a_hung_page_is_aborted_and_the_other_page_is_fed(monkeypatch):
    monkeypatch.setattr(status_feed, "STATUS_S", 0.01)
    monkeypatch.setattr(status_feed, "SEND_TIMEOUT_S", 0.2)
    hung, fine = Page(hang=True), Page()
    hung_req = Request()

    async def go():
        rev = [0]  # a new status every 10 ms, as the main thread publishes them
        feed = StatusFeed(lambda: (rev[0], {"rev": rev[0]}))
        feed.add(hung, hung_req)
        feed.add(fine, Request())
        feed.start()
        for _ in range(60):
            rev[0] += 1
            await asyncio.sleep(0.01)
        feed.stop()
        return feed

    feed = asyncio.run(go())
    assert getattr(hung_req, "aborted", False) and hung not in feed.clients
    assert feed.let_go == 1 and len(fine.got) >= 20

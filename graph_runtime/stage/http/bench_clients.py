"""Load for `hambajuba bench web`: phones, in a process of their own (so their
Python does not share the show's GIL, as real phones would not).

    python -m graph_runtime.stage.http.bench_clients URL TOKEN N SECONDS [--faders]
    python -m graph_runtime.stage.http.bench_clients URL TOKEN --latency MESSAGES RATE

Opens N clients; each watches /stream.mjpg and holds the WebSocket (reading
the status), and with --faders also moves a fader 30 times a second. Prints
one JSON line: frames a second each client received, and messages sent.

--latency: one client moves sink.strength MESSAGES times at RATE a second
(message i at x = (i + 1) / (MESSAGES + 1), at a random point of its slot)
and prints the time.perf_counter() of each send (CLOCK_MONOTONIC on Linux:
the same clock in every process, so the show can subtract it).
"""
from __future__ import annotations

import asyncio
import json
import sys
import time

import aiohttp

BOUNDARY = b"--hambajubaframe"


async def watch(http, url: str, until: float) -> float:
    """Frames a second this viewer received, between its first and its last frame."""
    frames, first, last = 0, 0.0, 0.0
    async with http.get(url + "/stream.mjpg") as r:
        while time.monotonic() < until:
            try:
                chunk = await asyncio.wait_for(r.content.readany(), 1.0)
            except TimeoutError:
                continue
            if not chunk:
                break
            n = chunk.count(BOUNDARY)  # a boundary split across chunks is missed: rare, undercounts
            if n:
                last = time.monotonic()
                first = first or last
                frames += n
    return (frames - 1) / (last - first) if frames > 1 and last > first else 0.0


async def control(http, url: str, until: float, faders: bool, node: str, param: str) -> int:
    sent = 0
    async with http.ws_connect(url.replace("http", "ws", 1) + "/ws") as ws:
        async def read():
            async for _ in ws:
                pass
        reader = asyncio.create_task(read())
        while time.monotonic() < until:
            if faders:
                await ws.send_str(json.dumps({"op": "set", "node": node, "param": param,
                                              "x": (sent % 100) / 100}))
                sent += 1
            await asyncio.sleep(1 / 30)
        reader.cancel()
    return sent


async def main(url: str, token: str, n: int, seconds: float, faders: bool, node: str,
               param: str) -> dict:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(url + f"/?token={token}") as r:
            await r.read()
        until = time.monotonic() + seconds
        jobs = [watch(http, url, until) for _ in range(n)]
        jobs += [control(http, url, until, faders, node, param) for _ in range(n)]
        got = await asyncio.gather(*jobs, return_exceptions=True)
    return {"fps": [round(g, 2) if isinstance(g, float) else repr(g)[:80] for g in got[:n]],
            "sent": [g if isinstance(g, int) else repr(g)[:80] for g in got[n:]]}


async def latency(url: str, token: str, messages: int, rate: float) -> dict:
    import random

    rng = random.Random(1)
    sent = []
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url.replace("http", "ws", 1) + f"/ws?token={token}") as ws:
            await ws.receive(timeout=10)  # the first status: the show is running
            start = time.perf_counter()
            for i in range(messages):
                await asyncio.sleep(max(0.0, start + (i + rng.random()) / rate - time.perf_counter()))
                sent.append(time.perf_counter())
                await ws.send_str(json.dumps({"op": "set", "node": "sink", "param": "strength",
                                              "x": (i + 1) / (messages + 1)}))
            await asyncio.sleep(0.5)
    return {"sent": sent}


if __name__ == "__main__":
    if "--latency" in sys.argv:
        n, r = int(sys.argv[4]), float(sys.argv[5])
        print(json.dumps(asyncio.run(latency(sys.argv[1], sys.argv[2], n, r))), flush=True)
        sys.exit(0)
    url, token, n, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    faders = "--faders" in sys.argv
    print(json.dumps(asyncio.run(main(url, token, n, seconds, faders, "knob", "value"))), flush=True)

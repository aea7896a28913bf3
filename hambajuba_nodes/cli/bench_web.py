"""`hambajuba bench web`: the web control surface, timed on loopback.

fader_p99_ms  a fader move from the WebSocket to the FrameParams that carries it:
              a client (another process, as a phone is another device) sends
              `messages` fader moves at `rate` per second (each at a random point
              of its slot, so sends do not lock to the frames' phase) to an
              SAE sink's strength (message i carries a value that names it); after
              each frame of a headless show (the window's per-frame path) the sink's
              strength in FrameParams says which move reached it (older moves to the
              same fader count as applied: a newer value supersedes them).
              Target: one 60 fps frame + 3 ms. post_* is the web path's own share:
              WebSocket send to the inbox (the rest is waiting for the next frame).
preview_fps   JPEG frames a second each of 4 clients received from /stream.mjpg while
              the show published 512 px frames (`bench stage`'s test frames) at 60 fps
              (clients in another process).
window_fps_*  the show's frame rate (60 fps target: a 512 px frame published to the
              fan-out every frame) with no client and with 20 clients (each watching
              the preview, holding a WebSocket and moving a fader 30 times a second);
              window_slowdown_pct compares them (the issue's bound: 10 %).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

LO, HI = -400.0, 400.0  # sae.block strength's range: what a web fader plays across


def _show(fps: float):
    from graph_runtime.analysis.store import synthetic
    from graph_runtime.graph.patch import Patch
    from graph_runtime.show.headless_show import HeadlessShow

    p = Patch()
    p.add_node("sae.block", {"block": "down.2.1", "feature_id": 7, "strength": LO,  # names no message
                             "scale_by_mean": False}, node_id="sink")
    p.add_node("value.constant", {"value": 0.5}, node_id="knob")
    p.meta["perform"] = [["sink", "strength"], ["knob", "value"]]
    from hambajuba_nodes.registry import default_registry

    return HeadlessShow(p, registry=default_registry(), analysis=synthetic(600.0), fps=fps)


def _surface(show):
    from graph_runtime.stage.http.web import WebSurface

    token = b"bench-web-token-0123456789abcdef"
    web = WebSurface(show.control, port=0, token=token)
    web.start()
    return web, token


def bench_web(messages: int = 600, rate: float = 60.0, fps: float = 60.0,
              seconds: float = 5.0) -> dict:
    switch = sys.getswitchinterval()
    sys.setswitchinterval(0.001)  # as the window sets it (App.__init__): the GIL comes back sooner
    show = _show(fps)
    web, token = _surface(show)
    try:
        lat = _fader_latency(show, web, token, messages, rate, fps)
        load = _load(show, web, token, fps, seconds)
    finally:
        web.close()
        sys.setswitchinterval(switch)
    return {**lat, **load, "load_avg": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}


def _fader_latency(show, web, token: bytes, messages: int, rate: float, fps: float) -> dict:
    """The phone is another process (as it is another device): its send times come
    back on stdout, on the same monotonic clock as the frames'."""
    from graph_runtime.graph.frame import BLOCKS

    applied_at = np.full(messages, np.nan)
    posted_at = np.full(messages, np.nan)  # when the HTTP loop put it in the inbox
    inbox = show.control.inbox
    proc = subprocess.Popen([sys.executable, "-m", "graph_runtime.stage.http.bench_clients",
                             f"http://127.0.0.1:{web.port}", token.decode(), "--latency",
                             str(messages), str(rate)], stdout=subprocess.PIPE, text=True)
    show.tick(0.0)
    b = BLOCKS.index("down.2.1")
    period, k, newest = 1.0 / fps, 0, -1
    t0 = time.perf_counter()
    deadline = t0 + messages / rate + 15.0
    while time.perf_counter() < deadline and np.isnan(applied_at).any():
        k += 1
        slot = inbox._index.get(("web", "set", "sink", "strength"))
        if slot is not None and inbox.counts[slot]:  # the newest move waiting, and when it came
            i = round(inbox.values[slot] * (messages + 1)) - 1
            if 0 <= i < messages and np.isnan(posted_at[i]):
                posted_at[i] = inbox.stamps[slot]
        frame = show.tick(k * period)
        done = time.perf_counter()
        web.tick(fps=fps, force=k < 5)  # the client starts on the first status
        strength = float(np.asarray(frame.strength)[b, 0])
        seq = int(round((strength - LO) / (HI - LO) * (messages + 1))) - 1
        if newest < seq < messages:
            applied_at[newest + 1: seq + 1] = done
            newest = seq
        time.sleep(max(0.0, t0 + (k + 1) * period - time.perf_counter()))
    out, _ = proc.communicate(timeout=30)
    sent = np.array(json.loads(out.strip().splitlines()[-1])["sent"])
    lat = (applied_at - sent)[~np.isnan(applied_at)] * 1e3
    post = (posted_at - sent)[~np.isnan(posted_at)] * 1e3
    pct = (lambda a, q: round(float(np.percentile(a, q)), 3) if a.size else None)
    return {"messages": messages, "applied": int(lat.size), "rate_per_s": rate, "fps": fps,
            "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
            "max_ms": round(float(lat.max()), 3) if lat.size else None,
            "post_p50_ms": pct(post, 50), "post_p99_ms": pct(post, 99),
            "target_p99_ms": round(1e3 / fps + 3.0, 3), "inbox_sources": show.control.inbox.n}


def _load(show, web, token: bytes, fps: float, seconds: float) -> dict:
    from graph_runtime.stage.fanout import FrameFanout

    fan = FrameFanout()
    fan.add(web.source)
    from graph_runtime.stage.bench import test_frame

    # uint8, as the window hands the fan-out each shown frame; `bench stage`'s moving
    # gradient with a little noise (about 50 KB a JPEG, like a generated image)
    frames = [test_frame(i, 512) for i in range(8)]
    url = f"http://127.0.0.1:{web.port}"

    def play(clients: int, faders: bool) -> tuple[float, float, dict | None]:
        proc = None
        if clients:
            proc = subprocess.Popen([sys.executable, "-m", "graph_runtime.stage.http.bench_clients",
                                     url, token.decode(), str(clients), str(seconds)]
                                    + (["--faders"] if faders else []),
                                    stdout=subprocess.PIPE, text=True)
            time.sleep(1.0)  # let them connect
        period, work, n = 1.0 / fps, [], 0
        t0 = time.perf_counter()
        end = t0 + seconds - (1.5 if clients else 0.0)
        while time.perf_counter() < end:
            f0 = time.perf_counter()
            show.tick(n * period)
            web.tick(fps=fps)
            fan.publish(frames[n % 8], time.monotonic(), n * period)
            work.append((time.perf_counter() - f0) * 1e3)
            n += 1
            time.sleep(max(0.0, t0 + n * period - time.perf_counter()))
        got_fps = n / (time.perf_counter() - t0)
        found = None
        if proc is not None:
            out, _ = proc.communicate(timeout=seconds + 30)
            found = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
        return got_fps, float(np.percentile(work, 99)), found

    try:
        fps0, work0, _ = play(0, False)
        _, _, four = play(4, False)
        fps20, work20, twenty = play(20, True)
    finally:
        fan.close()
    fps4 = [f for f in (four or {}).get("fps", []) if isinstance(f, float)]
    return {"preview_clients": len(fps4),
            "preview_fps_per_client": round(float(np.mean(fps4)), 1) if fps4 else None,
            "preview_fps_min": round(min(fps4), 1) if fps4 else None,
            "window_fps_0_clients": round(fps0, 2), "window_fps_20_clients": round(fps20, 2),
            "window_slowdown_pct": round(100.0 * (fps0 - fps20) / fps0, 2),
            "window_work_p99_ms_0": round(work0, 3), "window_work_p99_ms_20": round(work20, 3),
            "clients_20_connected": sum(isinstance(f, float) and f > 0
                                        for f in (twenty or {}).get("fps", []))}

"""`hambajuba bench remote`: the transport's cost, with a null engine.

A `serve --model null` subprocess (a constant 512x512 image: no model cost)
and a RemoteEngine client on loopback:

    overhead_p99_ms    one frame at a time: send -> decoded image minus the
                       server's render time = encode + transfer + decode, p99
    fps                frames in flight (`in_flight`), newest-wins client loop
    fps_with_30ms_rtt  the same through a delaying proxy (15 ms each way),
                       a proxy subprocess so its copying is not in our GIL

Frames in flight must cover the round trip: at F frames/s and R s of round
trip, about F * R + 1 are needed; the window's default of 2 covers a GPU
render (~30 fps) behind a 30 ms link, the null engine's hundreds need more.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np

from graph_runtime.graph.frame import FrameParams

from .client import RemoteEngine


def _spawn(args: list[str], marker: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = proc.stdout.readline()
    try:
        return proc, int(line.split(marker, 1)[1].split()[0].rsplit(":", 1)[1])
    except (IndexError, ValueError):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"{' '.join(args[:3])} did not start: {line.strip()!r}") from None


def start_null_server(size: int = 512) -> tuple[subprocess.Popen, int]:
    return _spawn(["-m", "hambajuba_nodes.cli", "serve", "--model", "null", "--size", str(size),
                   "--port", "0"], "listening on")


def start_proxy(port: int, rtt_ms: float) -> tuple[subprocess.Popen, int]:
    return _spawn(["-m", "graph_runtime.remote.proxy", str(port), str(rtt_ms)], "proxy on")


def overhead_ms(engine: RemoteEngine, frames: int) -> np.ndarray:
    """Per frame, one in flight: (send -> decoded) - server render, ms."""
    frame = FrameParams()
    out = np.empty(frames)
    for i in range(frames + 10):
        t0 = time.perf_counter()
        engine.render(frame)
        ms = 1e3 * (time.perf_counter() - t0) - engine.last.render_ms
        if i >= 10:
            out[i - 10] = ms
    return out


def pipelined_fps(engine: RemoteEngine, seconds: float) -> float:
    """Images arriving per second while a newest-wins loop keeps the pipe full
    (an image superseded before the loop polled it still crossed the wire)."""
    frame = FrameParams()
    end = time.perf_counter() + 0.3           # warm up: fill the pipe, settle the link
    while time.perf_counter() < end:
        _step(engine, frame)
    n0, t0 = engine.received, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        _step(engine, frame)
    return (engine.received - n0) / (time.perf_counter() - t0)


def _step(engine: RemoteEngine, frame: FrameParams) -> None:
    while engine.submit(frame, 0.0) is not None:
        pass
    engine.wait(0.05)
    engine.poll()


def _client(port: int, **options) -> RemoteEngine:
    """A RemoteEngine on loopback, through the one factory."""
    from graph_runtime.render.engines import create_engine

    return create_engine(address=f"127.0.0.1:{port}", **options)


def bench_remote(*, size: int = 512, quality: int = 85, in_flight: int = 32,
                 frames: int = 400, seconds: float = 3.0, rtt_ms: float = 30.0) -> dict:
    server, port = start_null_server(size)
    procs = [server]
    try:
        eng = _client(port, quality=quality, in_flight=in_flight)
        over = overhead_ms(eng, frames)
        fps = pipelined_fps(eng, seconds)
        eng.close()
        time.sleep(0.3)
        near_two = _client(port, quality=quality, in_flight=2)
        fps_near_two = pipelined_fps(near_two, min(seconds, 2.0))
        near_two.close()
        proxy, pport = start_proxy(port, rtt_ms)
        procs.append(proxy)
        time.sleep(0.3)  # the server frees itself of the last client
        far = _client(pport, quality=quality, in_flight=in_flight)
        fps_far = pipelined_fps(far, seconds)
        rtt = far.timing["rtt_ms"]
        far.close()
        time.sleep(0.3)
        two = _client(pport, quality=quality, in_flight=2)
        fps_two = pipelined_fps(two, min(seconds, 2.0))
        two.close()
    finally:
        for p in procs:
            p.terminate()          # serve cleans up on SIGTERM
            p.wait()
    return {"overhead_p99_ms": round(float(np.percentile(over, 99)), 3),
            "overhead_p50_ms": round(float(np.percentile(over, 50)), 3),
            "fps": round(fps, 1), "fps_with_30ms_rtt": round(fps_far, 1),
            "rtt_ratio": round(fps_far / fps, 3) if fps else 0.0,
            "measured_rtt_ms": round(rtt, 2), "in_flight": in_flight,
            "fps_in_flight_2": round(fps_near_two, 1),
            "fps_with_30ms_rtt_in_flight_2": round(fps_two, 1),
            "codec": f"jpeg q{quality}", "size": size, "cpus": os.cpu_count(),
            "load_avg": round(os.getloadavg()[0], 2)}

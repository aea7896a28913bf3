"""`hambajuba bench stage`: what the stage costs, measured on the real objects.

    shm_copy_p99_ms            one 512x512 RGBA frame into the shared-memory ring (and
                               shm_copy_cpu_p99_ms: the same in this thread's CPU time)
    mjpeg_encode_p99_ms        TurboJPEG on the MJPEG encoder thread (a loopback viewer watching)
    mjpeg_main_thread_p99_ms   the window's share while serving (publish)
    record_main_thread_p99_ms  the window's share while recording (publish + heard), uint8
                               frames as the window hands them over
    record_dropped             shown frames the recorder did not encode (no room, thinned, caught up)
    record_lag_p50_s, record_lag_max_s
                               how far the file was behind the show (beyond the fixed 0.15 s
                               margin), read each window frame while an MJPEG viewer watches too
    record_stop_s              Stop pressed to the file finished
    record_encoded_fps         frames encoded per second (lower when the machine is busy)
    window_latency_p99_ms      with a display: publish to buffer swap in the output window

Wall-clock figures on a loaded machine measure the scheduler as much as the
code: the CPU-time figures (time.thread_time) say what the work itself costs.

The frames are a gradient with noise (JPEG and H.264 find neither trivial
nor hopeless); the window's 60 Hz frame loop is imitated with sleeps.
"""
from __future__ import annotations

import os
import socket
import tempfile
import threading
import time

import numpy as np

from .fanout import FrameFanout
from .mjpeg import MjpegServer
from .recorder import LiveRecorder
from .shm_ring import FrameRing

SIZE = 512


def test_frame(i: int, size: int = SIZE) -> np.ndarray:
    """(size, size, 4) uint8: a moving gradient plus a little noise."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    rng = np.random.default_rng(i)
    img = np.empty((size, size, 4), np.uint8)
    img[..., 0] = (x + 3 * i) % 256
    img[..., 1] = (y + 5 * i) % 256
    img[..., 2] = np.clip(128 + 40 * np.sin((x + y + i) / 37.0) + rng.normal(0, 6, x.shape), 0, 255)
    img[..., 3] = 255
    return img


def _p99(samples, q: float = 99) -> float:
    return float(np.percentile(np.asarray(samples, np.float64) * 1000.0, q)) if len(samples) else 0.0


def bench_shm(n: int = 1000) -> tuple[float, float]:
    """(wall p99, this thread's CPU-time p99) of one frame into the ring, ms."""
    ring = FrameRing(height=SIZE, width=SIZE)
    img = test_frame(0)
    times, cpu = [], []
    try:
        for i in range(n + 20):
            t0, c0 = time.perf_counter(), time.thread_time()
            ring.write(img, 0.0, 0.0)
            if i >= 20:  # warm-up excluded
                times.append(time.perf_counter() - t0)
                cpu.append(time.thread_time() - c0)
    finally:
        ring.close()
    return _p99(times), _p99(cpu)


def _viewer(port: int, stop: threading.Event) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /stream.mjpg HTTP/1.0\r\n\r\n")
        while not stop.is_set():
            if not s.recv(1 << 16):
                return


def bench_mjpeg(frames: int = 180) -> tuple[float, float]:
    server = MjpegServer("127.0.0.1", 0)
    server.start()
    fan = FrameFanout()
    fan.add(server)
    stop = threading.Event()
    viewer = threading.Thread(target=_viewer, args=(server.port, stop), daemon=True)
    viewer.start()
    imgs = [test_frame(i) for i in range(8)]
    try:
        for i in range(frames):
            fan.publish(imgs[i % 8], time.monotonic(), i / 60.0)
            time.sleep(1 / 60)
    finally:
        stop.set()
        fan.close()
    return _p99(list(server.encode_s)), _p99(list(fan.publish_s)[10:])


def bench_record(seconds: float = 8.0) -> dict:
    from graph_runtime.media.playback import Track

    folder = tempfile.mkdtemp(prefix="hambajuba-bench-stage-")
    sr = 48000
    track = Track((np.random.default_rng(0).standard_normal((sr * 10, 2)) * 0.1).astype(np.float32), sr)
    imgs = [test_frame(i) for i in range(8)]  # uint8, as the window's engine worker hands them over
    fan = FrameFanout()
    rec = LiveRecorder(fps=30.0)
    fan.add(rec)
    server = MjpegServer("127.0.0.1", 0)  # a viewer watching too, as on stage
    server.start()
    fan.add(server)
    stop = threading.Event()
    threading.Thread(target=_viewer, args=(server.port, stop), daemon=True).start()
    reason = rec.start(os.path.join(folder, "bench.mp4"), track_of=lambda: track)
    if reason:
        raise RuntimeError(reason)
    main, cpu, lag = [], [], []
    t_start = time.monotonic()
    i = 0
    while time.monotonic() - t_start < seconds:
        now = time.monotonic()
        t0, c0 = time.perf_counter(), time.thread_time()
        fan.heard(now, now - t_start, True)
        fan.publish(imgs[i % 8], now, now - t_start)
        main.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
        lag.append(rec.behind_s)
        i += 1
        time.sleep(1 / 60)
    t_stop = time.perf_counter()
    rec.stop(wait=True)
    stop_s = time.perf_counter() - t_stop
    stop.set()
    fan.close()
    for name in os.listdir(folder):
        os.unlink(os.path.join(folder, name))
    os.rmdir(folder)
    return {"record_main_thread_p99_ms": _p99(main[10:]), "record_main_thread_p50_ms": _p99(main[10:], 50),
            "record_main_thread_cpu_p99_ms": _p99(cpu[10:]), "record_dropped": int(rec.dropped),
            "record_frames": rec.frames_written, "record_encoded_fps": rec.frames_written / seconds,
            "record_lag_p50_s": float(np.percentile(lag, 50)), "record_lag_max_s": float(max(lag)),
            "record_stop_s": stop_s}


def bench_window(frames: int = 120) -> float | None:
    """Publish to swap in the output window, p99 ms (None without a display)."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return None
    from .supervisor import OutputProcess

    out = OutputProcess(size=(SIZE, SIZE))
    fan = FrameFanout()
    fan.add(out)
    imgs = [test_frame(i) for i in range(8)]
    lat, seen = [], 0
    try:
        if out.open():
            return None
        fan.publish(imgs[0], time.monotonic(), 0.0)
        end = time.monotonic() + 20
        while out._ring.shown()[0] == 0 and time.monotonic() < end:  # the child is starting
            time.sleep(0.05)
        for i in range(frames):
            fan.publish(imgs[i % 8], time.monotonic(), i / 60)
            time.sleep(1 / 60)
            seq, at = out._ring.shown()
            if seq > seen:
                seen = seq
                lat.append(at - out._ring.times(seq)[0])
    finally:
        fan.close()
    return _p99(lat) if lat else None


def bench_stage() -> dict:
    import sys

    sys.setswitchinterval(0.001)  # as the window sets it
    shm, shm_cpu = bench_shm()
    enc, mjpeg_main = bench_mjpeg()
    rec = {k: round(v, 4) if isinstance(v, float) else v for k, v in bench_record().items()}
    window = bench_window()
    if window is not None:
        rec["window_latency_p99_ms"] = round(window, 3)
    return {"shm_copy_p99_ms": round(shm, 4), "shm_copy_cpu_p99_ms": round(shm_cpu, 4),
            "mjpeg_encode_p99_ms": round(enc, 3),
            "mjpeg_main_thread_p99_ms": round(mjpeg_main, 4), **rec,
            "size": SIZE, "load_avg": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}

"""`hambajuba bench control`: OSC message -> FrameParams latency, nothing lost.

A headless show (the window's per-frame path: drain the control inbox,
apply edits, run the plan) plays the default patch on a synthetic 120 BPM
analysis at `fps`. A sender thread sends `messages` OSC messages over UDP
loopback at `rate` per second, round robin to the feature_id of each SAE
sink (message i carries i + 1: a value that names the message). After
each frame the sinks' feature ids in FrameParams.scene say which message
reached the frame; that message and every older one to the same param
count as applied (coalescing: a newer value supersedes them), with latency
= time the frame was ready - time the message was sent.
Target: p99 <= one frame period + 2 ms, applied == messages. frame_work_* is
the wall time of one frame's control + plan work, frame_cpu_* the same in
this thread's CPU time (on a loaded machine the wall clock also counts time
the OS gave the CPU to others; load_avg says how loaded it was).
"""
from __future__ import annotations

import os
import threading
import time

import numpy as np


def bench_control(messages: int = 2000, rate: float = 1000.0, fps: float = 60.0) -> dict:
    from pythonosc.udp_client import SimpleUDPClient

    from graph_runtime.analysis.store import synthetic
    from graph_runtime.control.osc import OscListener
    from graph_runtime.graph import patch as P
    from graph_runtime.graph.frame import BLOCKS, N_FEATURES
    from graph_runtime.show.headless_show import HeadlessShow
    from hambajuba_nodes.cli.common import DEFAULT_PATCH
    from hambajuba_nodes.registry import default_registry

    messages = min(int(messages), N_FEATURES - 1)
    show = HeadlessShow(P.load(DEFAULT_PATCH), registry=default_registry(),
                        analysis=synthetic(120.0), fps=fps)
    sinks = [n.id for n in show.model.patch.nodes if n.type == "sae.block"]
    show.tick(0.0)
    plan = show.live.plan
    slots = [(getattr(plan.nodes[s], "_b", BLOCKS.index(show.model.param_value(s, "block"))),
              getattr(plan.nodes[s], "_s", 0)) for s in sinks]
    listener = OscListener(show.control.inbox, "127.0.0.1", 0).start()
    sent_at = np.zeros(messages)
    applied_at = np.full(messages, np.nan)
    newest = [-1] * len(sinks)  # per sink: newest message seen in a frame

    def send():
        client = SimpleUDPClient("127.0.0.1", listener.port)
        start = time.perf_counter()
        for i in range(messages):
            due = start + i / rate
            while (now := time.perf_counter()) < due:
                time.sleep(min(due - now, 0.001))
            sent_at[i] = time.perf_counter()
            client.send_message(f"/hambajuba/{sinks[i % len(sinks)]}/feature_id", i + 1)

    sender = threading.Thread(target=send, name="bench-osc-send")
    period, frame_ms, frame_cpu_ms = 1.0 / fps, [], []
    t0 = time.perf_counter()
    sender.start()
    k, deadline = 0, t0 + messages / rate + 5.0
    try:
        while time.perf_counter() < deadline and np.isnan(applied_at).any():
            k += 1
            f0, c0 = time.perf_counter(), time.thread_time()
            frame = show.tick(k * period)
            ready = time.perf_counter()
            frame_ms.append((ready - f0) * 1e3)
            frame_cpu_ms.append((time.thread_time() - c0) * 1e3)  # this thread's own CPU time
            ids = frame.scene.feature_ids
            for j, (b, s) in enumerate(slots):
                seq = int(ids[b, s]) - 1
                if seq > newest[j] and seq < messages and seq % len(sinks) == j:
                    mine = np.arange(newest[j] + 1, seq + 1)
                    mine = mine[mine % len(sinks) == j]
                    applied_at[mine] = ready
                    newest[j] = seq
            time.sleep(max(0.0, t0 + (k + 1) * period - time.perf_counter()))
    finally:
        sender.join()
        listener.stop()
    lat = (applied_at - sent_at)[~np.isnan(applied_at)] * 1e3
    return {
        "messages": messages, "applied": int(lat.size), "fps": fps, "rate_per_s": rate,
        "p50_ms": round(float(np.percentile(lat, 50)), 3) if lat.size else None,
        "p99_ms": round(float(np.percentile(lat, 99)), 3) if lat.size else None,
        "max_ms": round(float(lat.max()), 3) if lat.size else None,
        "target_p99_ms": round(1e3 / fps + 2.0, 3),
        "frames": k, "frame_work_p50_ms": round(float(np.percentile(frame_ms, 50)), 3),
        "frame_work_p99_ms": round(float(np.percentile(frame_ms, 99)), 3),
        "frame_cpu_p99_ms": round(float(np.percentile(frame_cpu_ms, 99)), 3),
        "received": listener.received, "inbox_sources": show.control.inbox.n,
        "recompiles": show.live.generation, "load_avg": round(os.getloadavg()[0], 2),
    }

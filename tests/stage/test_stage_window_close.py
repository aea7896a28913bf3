"""Closing the output window never holds the main thread: not even when the
child is hung (stopped, not reading its control pipe)."""
from __future__ import annotations

import os
import signal
import time

from stage_cards import card

from graph_runtime.stage.fanout import FrameFanout
from graph_runtime.stage.supervisor import QUIT_S, OutputProcess


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie is gone for our purposes only once reaped; /proc says which
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] == "Z"
    except FileNotFoundError:
        return True


def test_close_on_a_hung_child_returns_within_50_ms_and_the_child_is_killed(display):
    fan = FrameFanout()
    out = OutputProcess(size=(320, 240))
    fan.add(out)
    try:
        assert out.open() is None
        end = time.monotonic() + 30
        while not any(line.startswith("open window") for line in out.lines) \
                and time.monotonic() < end:
            fan.publish(card(1, 128, 128), time.monotonic(), 0.0)
            time.sleep(0.05)
        pid = out.pid
        os.kill(pid, signal.SIGSTOP)                 # hung: reads nothing, quits never
        for _ in range(1500):                        # nearly fill its control pipe (64 KiB)
            if not out._send("snap /nonexistent/never-written.npy"):
                break
        worst = 0.0
        t0 = time.perf_counter()
        out.close()
        worst = max(worst, time.perf_counter() - t0)
        for i in range(30):                           # the show goes on meanwhile
            fan.publish(card(2 + i, 128, 128), time.monotonic(), i / 30)
        assert worst <= 0.050, f"close() held the main thread {1e3 * worst:.1f} ms"
        assert out.state == "closed"
        end = time.monotonic() + QUIT_S + 10
        while not _gone(pid) and time.monotonic() < end:
            time.sleep(0.05)
        assert _gone(pid)                             # killed by the reaper, not left behind
        assert out.open() is None and out.pid != pid  # and it opens again
    finally:
        fan.close()
        out.close()

"""Helpers of the fault battery (a uniquely named module, not conftest)."""
from __future__ import annotations

import time

from control_helpers import small_patch, strength  # noqa: F401  (the battery's helpers too)

from graph_runtime.graph.patch import Patch


def stage_patch() -> Patch:
    """The control tests' small patch (knob -> range -> sink2; sink's strength a
    param OSC and MIDI can move) with a CC binding that drives sink.strength."""
    p = small_patch()
    p.meta["title"] = "fault battery"
    p.bindings.append({"source": "cc", "channel": 0, "control": 21, "node": "sink",
                       "param": "strength", "min": 0.0, "max": 100.0})
    return p



def settle(listener, datagrams: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while listener.received < datagrams and time.monotonic() < end:
        time.sleep(0.002)

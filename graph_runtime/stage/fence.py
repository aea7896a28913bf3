"""A full memory fence for memory shared between processes (the frame ring).

A seqlock is correct only if the writer's pixel stores are visible before its
sequence store, and the reader's pixel loads happen between its two sequence
loads. x86 keeps stores in order and loads in order, so only the compiler
(here: CPython, which runs one bytecode at a time) could reorder them; ARM
and POWER (ARM laptops, Apple silicon under Linux) reorder both in hardware.
Python has no fence of its own, so this calls C11 `atomic_thread_fence
(memory_order_seq_cst)` from the GCC runtime's libatomic (a DMB ISH on arm64,
MFENCE on x86). About a microsecond a call, four calls a frame.

    fence()          # no store or load moves across this line
    FENCE_KIND       # "libatomic", or "x86-order" where the CPU needs none

Where libatomic is missing on a weakly ordered CPU, `fence` is None and the
ring relies on its per-frame checksum alone (shm_ring.py says how).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import platform
from typing import Callable

SEQ_CST = 5  # memory_order_seq_cst in C11's enum


def _libatomic_fence() -> Callable[[], None] | None:
    for name in (ctypes.util.find_library("atomic"), "libatomic.so.1"):
        if not name:
            continue
        try:
            fn = ctypes.CDLL(name).atomic_thread_fence
        except (OSError, AttributeError):
            continue
        fn.argtypes, fn.restype = [ctypes.c_int], None
        return lambda: fn(SEQ_CST)
    return None


def _pick() -> tuple[Callable[[], None] | None, str]:
    found = _libatomic_fence()
    if found is not None:
        return found, "libatomic"
    if platform.machine().lower() in ("x86_64", "amd64", "i386", "i686"):
        return (lambda: None), "x86-order"   # TSO: stores and loads stay in program order
    return None, "none"


fence, FENCE_KIND = _pick()

"""Helpers for the remote engine tests (a unique name: a `from conftest import`
would find whichever folder's conftest pytest loaded last)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = b"correct horse battery staple 0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn_serve(port: int, *extra: str, model: str = "null") -> subprocess.Popen:
    """`hambajuba serve` as a real process; returns once it listens. What it said
    before that (the engine's loading progress) is kept in `proc.said`."""
    proc = subprocess.Popen([sys.executable, "-m", "hambajuba_nodes.cli", "serve", "--model", model,
                             "--size", "128", "--port", str(port), *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    proc.said = []
    while True:
        line = proc.stdout.readline()
        assert line, "serve ended before listening: " + "".join(proc.said)
        proc.said.append(line)
        if "listening on" in line:
            return proc


def wait_until(cond, timeout: float = 20.0, step: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()

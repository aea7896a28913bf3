"""A display to open the window on: the user's, or a private Xvfb.

Used by the GUI tests and `hambajuba bench ui` on machines without a screen.
`private_display()` starts `Xvfb :N` on a free display number and returns
(display name, the Xvfb process); the caller stops the process.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def private_display(size: str = "1600x1000x24", first: int = 99):
    """Start Xvfb on the first free display from `first`; (":N", process)."""
    if shutil.which("Xvfb") is None:
        raise RuntimeError("no display and no Xvfb to make one (apt-get install xvfb)")
    for n in range(first, first + 50):
        if os.path.exists(f"/tmp/.X11-unix/X{n}") or os.path.exists(f"/tmp/.X{n}-lock"):
            continue
        proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", size, "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):  # up to 5 s for the socket to appear
            if proc.poll() is not None:
                break   # another process took :N first (its Xvfb holds the lock)
            if os.path.exists(f"/tmp/.X11-unix/X{n}") and _lock_owner(n) == proc.pid:
                return f":{n}", proc
            time.sleep(0.05)
        proc.kill()
        proc.wait(5)
    raise RuntimeError("could not start Xvfb on any display :%d..:%d" % (first, first + 49))


def _lock_owner(n: int) -> int:
    """The pid in /tmp/.XN-lock (the X server that owns :N), or 0. Two processes that
    pick the same free number at once both see a socket appear, but only one server
    wrote the lock: the other must not use that display (it vanishes with its owner)."""
    try:
        with open(f"/tmp/.X{n}-lock") as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def ensure_display():
    """DISPLAY set to a usable display; returns the Xvfb process we started, or None
    (hand it to release_display when done)."""
    if has_display():
        return None
    name, proc = private_display()
    os.environ["DISPLAY"] = name
    proc.display_name = name
    return proc


def release_display(proc) -> None:
    """Stop the Xvfb ensure_display started (None: it started none) and unset DISPLAY
    if it still names it: a caller in the same process must not find a display
    that is gone (its window would abort in glfw)."""
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    if os.environ.get("DISPLAY") == getattr(proc, "display_name", None):
        del os.environ["DISPLAY"]

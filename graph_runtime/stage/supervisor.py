"""The editor's side of the output window: a frame sink that owns the ring
and the child process, notices when the child dies and opens it again.

    out = OutputProcess(monitor=1, fullscreen=True)
    fanout.add(out); out.open()          # frames flow through shared memory
    msg = out.poll()                     # main thread, now and then: news or None
    out.reopen()                         # after it died or was closed

The child is `python -m graph_runtime.stage.output_window` (a fresh
interpreter: nothing of the editor's GL context, threads or torch is
inherited). Its stdin is the control line and its lifeline: when the editor
goes, the child's stdin ends and it quits. Killing the child (even -9) only
ends the window: `consume` keeps writing the ring, the show goes on, and
`poll` says so once, then opens it again by itself (AUTO_REOPENS times a
minute at most, so a window that dies at once does not loop): on the same
monitor, fullscreen if it was, and windowed at the place the child last
reported (it says `pos X Y` whenever it is moved), with no dialog.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import deque

import numpy as np

from .shm_ring import FrameRing

CHILD_MODULE = "graph_runtime.stage.output_window"
QUIT_S = 2.0  # a closed child has this long to quit before it is killed (off the main thread)
FIRST_SIZE = (512, 512)  # (H, W) of the ring made before the first frame
AUTO_REOPENS = 3  # automatic reopens allowed per REOPEN_WINDOW_S
REOPEN_WINDOW_S = 60.0


class OutputProcess:
    name = "output window"

    def __init__(self, *, monitor: int | None = None, fullscreen: bool = False,
                 size: tuple[int, int] = (960, 540), env: dict | None = None) -> None:
        self.monitor = monitor
        self.fullscreen = fullscreen
        self.size = size  # (W, H) of the window when not fullscreen
        self.env = env
        self.state = "closed"  # closed | open | died
        self.frames = 0  # frames written into the ring
        self._proc: subprocess.Popen | None = None
        self._ring: FrameRing | None = None
        self._lock = threading.Lock()  # the dispatcher writes while the main thread reopens
        self._news: deque[tuple[str, str]] = deque(maxlen=50)  # (level, text) for the window
        self.lines: deque[str] = deque(maxlen=100)  # everything the child said
        self.auto_reopen = True  # a window that died comes back by itself
        self.place: tuple[int, int, int, int] | None = None  # windowed: x, y, w, h it last had
        self.recovered = 0  # times it came back by itself
        self._reopened_at: deque[float] = deque(maxlen=AUTO_REOPENS)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle (main thread) ----------------------------------------------------------
    def open(self) -> str | None:
        """Start the window; None, or one line saying why it did not start."""
        if self.alive:
            return None
        with self._lock:
            if self._ring is None:
                self._ring = FrameRing(height=FIRST_SIZE[0], width=FIRST_SIZE[1])
            ring = self._ring.name
        w, h = self.size if self.place is None or self.fullscreen else self.place[2:]
        cmd = [sys.executable, "-m", CHILD_MODULE, "--ring", ring, "--size", f"{w}x{h}"]
        if self.place is not None and not self.fullscreen:
            cmd += ["--pos", f"{self.place[0]},{self.place[1]}"]
        if self.monitor is not None:
            cmd += ["--monitor", str(self.monitor)]
        if self.fullscreen:
            cmd.append("--fullscreen")
        env = {**os.environ, **(self.env or {})}
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, env=env, text=True, bufsize=1)
        except OSError as e:
            return f"output window: cannot start {sys.executable} ({e})"
        os.set_blocking(proc.stdin.fileno(), False)  # a hung child's full pipe never blocks us
        with self._lock:
            self._proc = proc
        threading.Thread(target=self._listen, args=(proc,), name="output-window-log",
                         daemon=True).start()
        self.state = "open"
        return None

    def reopen(self) -> str | None:
        self.close(keep_ring=True)
        return self.open()

    def where(self) -> str:
        """' fullscreen on monitor 1', ' at 1320,40': where it opens."""
        if self.fullscreen:
            return " fullscreen" + (f" on monitor {self.monitor}" if self.monitor is not None else "")
        mon = f" on monitor {self.monitor}" if self.monitor is not None else ""
        return mon + (f" at {self.place[0]},{self.place[1]}" if self.place else "")

    def _come_back(self, how: str) -> None:
        """After a death: open again, unless it died AUTO_REOPENS times this minute."""
        now = time.monotonic()
        recent = [t for t in self._reopened_at if now - t < REOPEN_WINDOW_S]
        if not self.auto_reopen or len(recent) >= AUTO_REOPENS:
            return
        self._reopened_at.append(now)
        self._proc = None
        reason = self.open()
        if reason is None:
            self.recovered += 1
            self._news.append(("info", f"output window came back by itself{self.where()} "
                                       f"after it died ({how})"))

    def close(self, keep_ring: bool = False) -> None:
        """Ask the child to quit and return at once (main thread: never more than a few
        ms, even on a hung child). A reaper thread waits QUIT_S for it, then kills it."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            _write_quietly(proc, "quit")
            threading.Thread(target=_reap, args=(proc,), name="output-window-reaper",
                             daemon=True).start()
        self.state = "closed"
        if not keep_ring:
            with self._lock:
                ring, self._ring = self._ring, None
            if ring is not None:
                ring.close()  # unlinks the name; a child still mapping it keeps its pages

    def poll(self) -> tuple[str, str] | None:
        """(level, text) once per event: the child died, closed, or warned."""
        proc = self._proc
        if self.state == "open" and proc is not None and proc.poll() is not None:
            code = proc.returncode
            if code == 0:
                self.state = "closed"
                self._news.append(("info", "output window closed; Stage > Open output window "
                                           "brings it back"))
            else:
                self.state = "died"
                how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
                last = next((ln for ln in reversed(self.lines) if ln.startswith("error")), "")
                self._news.append(("error", f"output window died ({how}{'; ' + last[6:] if last else ''})"
                                            f"; the show goes on: Stage > Reopen output window"))
                self._come_back(how)
        return self._news.popleft() if self._news else None

    def snap(self, path: str, timeout: float = 10.0) -> np.ndarray | None:
        """What the window shows now, (H, W, 3) uint8 (tests; reads the window's framebuffer)."""
        path = os.path.abspath(path)
        if os.path.exists(path):
            os.unlink(path)
        if not self._send(f"snap {path}"):
            return None
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if os.path.exists(path):
                return np.load(path, allow_pickle=False)
            time.sleep(0.02)
        return None

    # -- the sink (dispatcher thread) -----------------------------------------------------
    def consume(self, rgba: np.ndarray, shown_at: float, track_t: float, seq: int) -> None:
        h, w = rgba.shape[:2]
        with self._lock:
            ring = self._ring
            if ring is None:
                return  # closed: nothing to feed
            if not ring.fits(h, w):  # a bigger image (once, when the engine size changes)
                old, ring = ring, FrameRing(height=h, width=w)
                self._ring = ring
                self._send_locked(f"ring {ring.name}")
                old.close()  # unlinks the name; the child keeps its mapping until it moves
            ring.write(rgba, shown_at, track_t)
            self.frames += 1

    # -- helpers -------------------------------------------------------------------------
    def _send(self, line: str) -> bool:
        with self._lock:
            return self._send_locked(line)

    def _send_locked(self, line: str) -> bool:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return False
        return _write_quietly(proc, line)

    def _listen(self, proc: subprocess.Popen) -> None:
        try:
            for line in proc.stdout:
                line = line.rstrip()
                self.lines.append(line)
                if line.startswith("warn "):
                    self._news.append(("warn", f"output window: {line[5:]}"))
                elif line.startswith("pos "):  # "pos X Y W H": moved or resized (windowed)
                    try:
                        x, y, w, h = (int(v) for v in line.split()[1:5])
                        self.place = (x, y, w, h)
                    except ValueError:
                        pass
        except (OSError, ValueError):
            pass



def _write_quietly(proc: subprocess.Popen, line: str) -> bool:
    """One control line to the child; False when it is gone or not reading (its stdin is
    non-blocking: a child that stopped reading loses the line rather than stall us)."""
    try:
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        return True
    except (OSError, ValueError):  # BlockingIOError (a full pipe) is an OSError
        return False


def _reap(proc: subprocess.Popen) -> None:
    """Wait for a closed child to quit; kill it when it does not (hung, stopped)."""
    try:
        proc.wait(QUIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        try:
            proc.wait(QUIT_S)
        except subprocess.TimeoutExpired:
            pass
    for f in (proc.stdin, proc.stdout):
        try:
            f.close()
        except (OSError, ValueError):
            pass

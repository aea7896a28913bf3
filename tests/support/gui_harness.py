"""A real Dear PyGui window under Xvfb, driven frame by frame (the harness of
tests/gui and the live input tab's tests; their conftest.py files import it).

Each `gui` test that opens its window in the test's process (through
`make_app`) runs in a fresh interpreter (`python -m pytest NODEID`): Dear
PyGui 2.3 does not survive destroying a context and creating another in the
same process (a use-after-free that crashes on the next frame, depending on
heap layout), and forking a process that already runs torch's or OpenMP's
threads can deadlock. The child's files (screenshots) go under the parent
test's tmp_path (`window/`); its output is shown when it fails. A `gui` test
whose window is a command it starts (`hambajuba perform`, a show script) has
that process already, and runs here.

`display` (session): uses $DISPLAY, or starts `Xvfb :99` (the next free
number) for the session. `make_app`: builds an App with the null audio
output, a config folder under tmp_path, and (unless told otherwise) no
engine; closes it after the test. One window at a time: Dear PyGui has one
context per process.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest
import soundfile as sf

from graph_runtime.analysis.store import synthetic
from graph_runtime.engine.null_engine import NullEngine

CHILD = "HAMBAJUBA_GUI_TEST_CHILD"
VIEWPORT_TRIES = 5  # a child that Dear PyGui aborts before the test starts is run again (three
#                     aborts in a row were seen once with both cores busy: CI beside a render)
VIEWPORT_PAUSE_S = 1.0   # s, times the tries so far: the next try waits out what loaded the machine
# pytest plugins no window test uses, left out of each child: loading them (Hypothesis, and
# anyio, which pulls in trio and through it Hypothesis) is about 1 s of CPU per interpreter,
# half a minute across the suite's 47 window tests. A window test that wants one (an anyio
# marker, Hypothesis' reporting) takes its name out of this list.
CHILD_PLUGINS_OFF = ("-p", "no:hypothesispytest", "-p", "no:anyio")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run a `gui` test that builds its window here in a fresh interpreter (see the module doc)."""
    if pyfuncitem.get_closest_marker("gui") is None or os.environ.get(CHILD):
        return None
    if "make_app" not in pyfuncitem.fixturenames:   # its window is in a process it starts
        return None
    tmp = pyfuncitem.funcargs.get("tmp_path") or tempfile.mkdtemp(prefix="hambajuba-gui-")
    cmd = [sys.executable, "-m", "pytest", pyfuncitem.nodeid, "-q", "-p", "no:cacheprovider",
           *CHILD_PLUGINS_OFF, f"--basetemp={tmp}/window",
           "-W", "ignore::pytest.PytestUnraisableExceptionWarning"]
    for attempt in range(VIEWPORT_TRIES):
        r = subprocess.run(cmd, cwd=str(pyfuncitem.config.rootpath), env={**os.environ, CHILD: "1"},
                           capture_output=True, text=True, timeout=900)
        if not _viewport_never_opened(r):
            break
        viewport_retry_pause(attempt)
        # Dear PyGui 2.3 under Xvfb now and then aborts inside show_viewport (its
        # glfw window is not created; seen about once in 200 windows, twice in a
        # row on a loaded machine): the test has not started yet, so it runs
        # again in a fresh process
    if r.returncode != 0:
        pytest.fail(f"in its own process (exit {r.returncode}):\n{(r.stdout + r.stderr)[-8000:]}",
                    pytrace=False)
    return True


def _viewport_never_opened(r: subprocess.CompletedProcess) -> bool:
    """The child died of SIGABRT inside Dear PyGui's show_viewport, or because Xvfb
    refused its connection (glfw: "Failed to open display", seen a few times in
    thousands of windows), before the test ran."""
    out = r.stdout + r.stderr
    return r.returncode in (-6, 134) and ("in show_viewport" in out or "Failed to open display" in out)


def run_window_command(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """subprocess.run of a command that opens a window (`hambajuba perform ...`), run
    again when its window never opened (the aborts _viewport_never_opened reads), as the
    harness reruns a window test's own interpreter: nothing of the test had run yet.
    PYTHONFAULTHANDLER makes an abort print its stack (pytest does that for the
    harness's children), so an abort in show_viewport can be told from others."""
    kw["env"] = {**(kw.get("env") or os.environ), "PYTHONFAULTHANDLER": "1"}
    for attempt in range(VIEWPORT_TRIES):
        r = subprocess.run(cmd, **kw)
        if not _viewport_never_opened(r):
            break
        viewport_retry_pause(attempt)
    return r


def viewport_retry_pause(attempt: int) -> None:
    """Before trying a window again after Dear PyGui's abort (attempt: 0 for the first
    retry): the aborts come in runs while the machine is loaded, so each try waits a
    little longer. No wait after the last try."""
    if attempt + 1 < VIEWPORT_TRIES:
        time.sleep(VIEWPORT_PAUSE_S * (attempt + 1))


def xvfb_session(**private):
    """$DISPLAY, or a private Xvfb (private_display's size, first) for the
    session; yields the display name (a generator for session fixtures)."""
    from hambajuba_nodes.editor.display import has_display, private_display

    if has_display():
        yield os.environ.get("DISPLAY")
        return
    try:
        name, proc = private_display(**private)
    except RuntimeError as e:  # no display and no Xvfb on this machine
        pytest.skip(str(e))
    os.environ["DISPLAY"] = name
    yield name
    proc.terminate()
    proc.wait(5)
    os.environ.pop("DISPLAY", None)


@pytest.fixture(scope="session")
def display():
    yield from xvfb_session(first=99)


def synthetic_analyze(path, progress, duration):
    """Stand-in for the analysis pipeline: a beat grid and a pulsing bass."""
    n = int(round(duration * 50))
    t = np.arange(n) / 50.0
    pulse = (0.5 + 0.5 * np.cos(2 * np.pi * 2 * t)).astype(np.float32)
    progress(0.5, "synthetic analysis")
    chans = {f"{s}/energy_smooth": pulse for s in ("bass", "drums", "vocals", "other")}
    chans["vocals/pitch_normalized"] = (t / max(duration, 1e-3)).astype(np.float32)
    return synthetic(duration, channels=chans), "synthetic analysis (test)"


class GradientEngine(NullEngine):
    """A tiny engine for the window tests: a gradient whose tint follows the strengths,
    10 ms a frame."""

    def __init__(self, size=128):
        super().__init__(size, np.empty((size, size, 4), np.uint8), render_s=0.01, preview=True,
                         description="test stand-in engine (gradient)")
        y, x = np.mgrid[0:size, 0:size]
        self.base = np.stack([x, y, (x + y) // 2], -1).astype(np.float32) * (255.0 / size)
        self._image[..., 3] = 255

    def render(self, frame):
        out = super().render(frame)   # the render time, the frame count
        s = float(np.abs(frame.strength).sum())
        out[..., :3] = np.clip(self.base * (0.5 + 0.5 * np.tanh(s / 30.0)), 0, 255)
        return out


@pytest.fixture
def wav(tmp_path):
    """A short generated track: kick-like pulses on a bass tone, 44.1 kHz stereo."""
    def make(seconds=4.0, name="groove.wav"):
        sr = 44100
        t = np.arange(int(seconds * sr)) / sr
        env = np.exp(-((t * 2.0) % 1.0) * 8.0)
        y = 0.3 * np.sin(2 * np.pi * 55 * t) * env + 0.05 * np.sin(2 * np.pi * 440 * t)
        path = tmp_path / name
        sf.write(path, np.stack([y, y], 1).astype(np.float32), sr)
        return str(path)
    return make


@pytest.fixture
def make_app(display, tmp_path):
    from graph_runtime.media.playback import NullOutput
    from graph_runtime.show.options import ShowOptions
    from hambajuba_nodes.editor.app import App

    apps = []

    def make(**kw):
        kw.setdefault("engine", False)
        kw.setdefault("output", NullOutput("test: null audio output"))
        kw.setdefault("config", str(tmp_path / "config"))
        kw.setdefault("vsync", False)
        kw.setdefault("analyze", synthetic_analyze)
        kw.setdefault("width", 1400)
        kw.setdefault("height", 900)
        app = App(ShowOptions(**kw))
        apps.append(app)
        return app

    yield make
    for app in apps:
        if not getattr(app, "_closed", False):
            app.close()


def step_until(app, cond, timeout=20.0):
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.step()
        if cond():
            return True
    return False


def xdo(app, *args, settle=5):
    """Run one xdotool command while the window keeps drawing (it must see the events)."""
    proc = subprocess.Popen(["xdotool", *map(str, args)])
    while proc.poll() is None:
        app.step()
    app.step(settle)
    assert proc.returncode == 0


def centre(item):
    """Screen coordinates of a Dear PyGui item's centre (for xdotool)."""
    import dearpygui.dearpygui as dpg

    lo, hi = dpg.get_item_rect_min(item), dpg.get_item_rect_max(item)
    vx, vy = dpg.get_viewport_pos()
    return int(vx + (lo[0] + hi[0]) / 2), int(vy + (lo[1] + hi[1]) / 2)

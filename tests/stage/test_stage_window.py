"""The output window process under Xvfb: frames through shared memory, what it
shows, dying and coming back, choosing a monitor."""
from __future__ import annotations

import json
import os
import signal
import time

import numpy as np
import pytest
from stage_cards import card

from graph_runtime.stage.fanout import FrameFanout
from graph_runtime.stage.output_window import fit_rect, pick_monitor
from graph_runtime.stage.supervisor import OutputProcess

MONITORS = json.dumps([{"name": "laptop", "x": 0, "y": 0, "width": 640, "height": 400},
                       {"name": "projector", "x": 640, "y": 0, "width": 320, "height": 240}])


def expected_region(img: np.ndarray, win_w: int, win_h: int):
    """Where the frame lands in the window (letterboxed) and the window pixels
    at each texel centre: (rect, rows, cols)."""
    h, w = img.shape[:2]
    x0, y0, rw, rh = fit_rect(w, h, win_w, win_h)
    cols = (x0 + (np.arange(w) + 0.5) * rw / w).astype(int)
    rows = (y0 + (np.arange(h) + 0.5) * rh / h).astype(int)
    return (x0, y0, rw, rh), rows, cols


def shows(out: OutputProcess, img: np.ndarray, tmp_path, win=(320, 240), timeout=30.0):
    """Snapshot until the window shows `img` (letterboxed); the last snapshot."""
    (x0, y0, rw, rh), rows, cols = expected_region(img, *win)
    end = time.monotonic() + timeout
    snap = None
    while time.monotonic() < end:
        snap = out.snap(str(tmp_path / "snap.npy"))
        if snap is not None and snap.shape == (win[1], win[0], 3):
            seen = snap[np.ix_(rows, cols)].astype(int)
            if np.abs(seen - img[..., :3]).mean() <= 4.0:
                return snap
        time.sleep(0.2)
    raise AssertionError(f"the window never showed the frame (last snapshot {None if snap is None else snap.shape})")


@pytest.fixture
def stage(display):
    fan = FrameFanout()
    made = []

    def make(**kw):
        out = OutputProcess(size=(320, 240), **kw)
        fan.add(out)
        made.append(out)
        return out

    yield fan, make
    fan.close()


def test_the_window_shows_the_engines_last_frame_letterboxed(stage, tmp_path):
    fan, make = stage
    out = make()
    assert out.open() is None
    for i in range(5):
        fan.publish(card(i, 128, 128), time.monotonic(), i / 30)
    snap = shows(out, card(4, 128, 128), tmp_path)
    x0, y0, rw, rh = fit_rect(128, 128, 320, 240)
    assert (x0, rw, rh) == (40, 240, 240)
    assert snap[:, :x0 - 1].max() == 0 and snap[:, x0 + rw + 1:].max() == 0  # black bars
    assert any(line.startswith("open window 320x240") for line in out.lines)


def test_kill_9_mid_show_the_show_goes_on_and_reopen_works(stage, tmp_path):
    fan, make = stage
    out = make()
    out.auto_reopen = False  # the way back by hand (Shift+F9); it comes back by itself below
    out.open()
    fan.publish(card(1, 128, 128), time.monotonic(), 0.0)
    shows(out, card(1, 128, 128), tmp_path)
    first = out.pid
    os.kill(first, signal.SIGKILL)
    news, i = None, 2
    end = time.monotonic() + 20
    while news is None and time.monotonic() < end:  # the main loop keeps publishing
        fan.publish(card(i, 128, 128), time.monotonic(), i / 30)
        news = out.poll()
        i += 1
        time.sleep(1 / 60)
    assert news is not None and news[0] == "error"
    assert "output window died (killed by signal 9)" in news[1] and "Reopen" in news[1]
    assert out.state == "died" and fan.dispatched >= 2
    assert out.reopen() is None
    assert out.pid != first and out.state == "open"
    fan.publish(card(40, 128, 128), time.monotonic(), 2.0)
    shows(out, card(40, 128, 128), tmp_path)


def _kill_and_wait_news(fan, out, n=2, timeout=30.0):
    os.kill(out.pid, signal.SIGKILL)
    news, i = [], 2
    end = time.monotonic() + timeout
    while len(news) < n and time.monotonic() < end:  # the main loop keeps publishing
        fan.publish(card(i, 96, 128), time.monotonic(), i / 30)
        got = out.poll()
        if got:
            news.append(got)
        i += 1
        time.sleep(1 / 60)
    return news


def test_after_kill_9_it_comes_back_by_itself_fullscreen_on_the_same_monitor(stage, tmp_path):
    """After a crash the projector comes back with no dialog and no key to press:
    the same monitor, fullscreen as it was."""
    fan, make = stage
    out = make(monitor=1, fullscreen=True, env={"HAMBAJUBA_MONITORS": MONITORS})
    out.open()
    fan.publish(card(2, 96, 128), time.monotonic(), 0.0)
    shows(out, card(2, 96, 128), tmp_path, win=(320, 240))
    first = out.pid
    news = _kill_and_wait_news(fan, out)
    assert [n[0] for n in news] == ["error", "info"], news
    assert "output window died (killed by signal 9)" in news[0][1]
    assert news[1][1] == ("output window came back by itself fullscreen on monitor 1 after it "
                          "died (killed by signal 9)")
    assert out.alive and out.pid != first and out.state == "open" and out.recovered == 1
    fan.publish(card(5, 96, 128), time.monotonic(), 1.0)
    shows(out, card(5, 96, 128), tmp_path, win=(320, 240))
    assert sum("fullscreen 320x240 on monitor 1 (projector)" in ln for ln in out.lines) >= 1


def test_a_moved_window_comes_back_where_it_was(stage, tmp_path):
    import shutil
    import subprocess

    if shutil.which("xdotool") is None:
        pytest.skip("no xdotool")
    fan, make = stage
    out = make()
    out.open()
    fan.publish(card(2, 96, 128), time.monotonic(), 0.0)
    shows(out, card(2, 96, 128), tmp_path)
    wid = subprocess.run(["xdotool", "search", "--pid", str(out.pid)], capture_output=True,
                         text=True).stdout.split()
    assert wid, "the output window has no X window"
    subprocess.run(["xdotool", "windowmove", wid[-1], "300", "150"], check=True)
    end = time.monotonic() + 10
    while (out.place is None or out.place[:2] != (300, 150)) and time.monotonic() < end:
        time.sleep(0.05)
    assert out.place is not None and out.place[:2] == (300, 150), out.place
    news = _kill_and_wait_news(fan, out)
    assert news[-1][1].startswith("output window came back by itself at 300,150"), news
    end = time.monotonic() + 15
    while not any(ln.startswith("pos 300 150") for ln in list(out.lines)[-3:]) and \
            time.monotonic() < end:
        time.sleep(0.05)
    assert any(ln.startswith("pos 300 150") for ln in list(out.lines)[-3:]), list(out.lines)[-5:]


def test_fullscreen_on_a_chosen_monitor_and_a_missing_one(stage, tmp_path):
    fan, make = stage
    out = make(monitor=1, fullscreen=True, env={"HAMBAJUBA_MONITORS": MONITORS})
    out.open()
    fan.publish(card(2, 96, 128), time.monotonic(), 0.0)
    shows(out, card(2, 96, 128), tmp_path, win=(320, 240))
    assert any("fullscreen 320x240 on monitor 1 (projector)" in ln for ln in out.lines)
    out.close()

    wrong = make(monitor=5, env={"HAMBAJUBA_MONITORS": MONITORS})
    wrong.open()
    fan.publish(card(3, 96, 128), time.monotonic(), 0.0)
    shows(wrong, card(3, 96, 128), tmp_path)  # a window all the same
    end = time.monotonic() + 10
    news = None
    while news is None and time.monotonic() < end:
        news = wrong.poll()
        time.sleep(0.05)
    assert news == ("warn", "output window: monitor 5 does not exist (2 monitors: 0..1); "
                            "opened a window on the primary screen instead")


def test_letterbox_and_monitor_choice_rules():
    assert fit_rect(512, 512, 1920, 1080) == (420, 0, 1080, 1080)
    assert fit_rect(1024, 512, 1920, 1080) == (0, 60, 1920, 960)
    mons = json.loads(MONITORS)
    assert pick_monitor(mons, 1) == (mons[1], "")
    assert pick_monitor(mons, None) == (None, "")
    chosen, warning = pick_monitor(mons, -1)
    assert chosen is None and "monitor -1 does not exist" in warning


def test_a_bigger_image_moves_the_window_to_a_bigger_ring(stage, tmp_path):
    fan, make = stage
    out = make()
    out.open()
    fan.publish(card(5, 128, 128), time.monotonic(), 0.0)
    shows(out, card(5, 128, 128), tmp_path)
    first_ring = out._ring.name
    big = card(6, 600, 640)  # past the 512 x 512 ring made before the first frame
    fan.publish(big, time.monotonic(), 0.1)
    shows(out, big, tmp_path)
    assert out._ring.name != first_ring and out.alive

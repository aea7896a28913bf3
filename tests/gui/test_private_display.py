"""Private Xvfb displays: processes that start one at the same moment each get
their own, and each display belongs to the Xvfb that was returned with it
(a display that belonged to someone else vanished with its owner mid-test)."""
from __future__ import annotations

import concurrent.futures as cf
import shutil

import pytest

from hambajuba_nodes.editor.display import _lock_owner, private_display

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="no Xvfb")


def test_displays_started_at_once_are_distinct_and_owned():
    with cf.ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda _: private_display(size="320x240x24", first=230), range(4)))
    try:
        names = [name for name, _ in got]
        assert len(set(names)) == 4, names
        for name, proc in got:
            assert proc.poll() is None, name
            assert _lock_owner(int(name[1:])) == proc.pid, name
    finally:
        for _, proc in got:
            proc.terminate()
            proc.wait(5)


def test_a_display_ensured_then_released_leaves_no_display_behind(monkeypatch):
    """`bench ui` in a process without a screen starts its own Xvfb; afterwards the
    process must not still name that display (a later window there aborts in glfw)."""
    import os

    from hambajuba_nodes.editor.display import ensure_display, release_display

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    proc = ensure_display()
    assert proc is not None and proc.poll() is None
    name = os.environ["DISPLAY"]
    assert _lock_owner(int(name[1:])) == proc.pid
    release_display(proc)
    assert proc.poll() is not None and "DISPLAY" not in os.environ
    monkeypatch.setenv("DISPLAY", ":7")      # the user's own display is left alone
    assert ensure_display() is None
    release_display(None)
    assert os.environ["DISPLAY"] == ":7"

"""A slow frame does not turn one key press into two. ImGui times a held key's
auto-repeat with the frame clock, so a 400 ms frame while Ctrl+Z was down undid
twice (and a toggle would flip back by itself); editor/key_presses.py counts a
press only when the key was up before it (undo and redo repeat once held 0.5 s
of wall-clock time). The window test drives the real handlers with xdotool,
running frame by frame, one frame made slow on purpose."""
from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from hambajuba_nodes.editor.key_presses import LOST_RELEASE_S, REPEAT_AFTER_S, KeyPresses

needs_xdotool = pytest.mark.skipif(shutil.which("xdotool") is None, reason="needs xdotool")


class _Clock:
    def __init__(self) -> None:
        self.s, self.frame = 0.0, 0

    def tick(self, s: float) -> None:
        self.s += s
        self.frame += 1


def _presses():
    c = _Clock()
    return KeyPresses(clock=lambda: c.s, frame=lambda: c.frame), c


def test_a_repeat_after_a_slow_frame_is_not_a_press():
    k, c = _presses()
    assert k.fresh(65)
    assert k.fresh(65)                     # a second handler, the same event, the same frame
    c.tick(0.4)                            # one slow frame, the key still down: ImGui repeats it
    assert not k.fresh(65)
    k.released(65)
    c.tick(0.02)
    assert k.fresh(65)                     # pressed again


def test_undo_repeats_once_held_and_a_missed_release_does_not_lock_a_key():
    k, c = _presses()
    z = next(iter(k.repeatable))
    assert k.fresh(z)
    c.tick(0.3)
    assert not k.fresh(z)
    c.tick(REPEAT_AFTER_S)
    assert k.fresh(z)                      # held: undo again, as editors do ...
    c.tick(0.05)
    assert k.fresh(z)                      # ... at the repeat rate from then on
    k.released(z)
    assert k.fresh(z)
    c.tick(0.3)
    assert not k.fresh(z)                  # a new hold waits again
    assert k.fresh(70)
    c.tick(LOST_RELEASE_S + 0.1)           # its release never came (the window lost focus)
    assert k.fresh(70)


def _xdo(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True)


@pytest.mark.gui
@needs_xdotool
def test_one_ctrl_z_across_a_slow_frame_undoes_once(make_app):
    app = make_app(width=1000, height=700)
    view, model = app.view, app.model
    view.add_node_at("time.lfo", (40, 40))
    view.add_node_at("time.lfo", (300, 40))
    app.step(5)
    assert len(model.patch.nodes) == 2
    _xdo("keydown", "ctrl", "keydown", "z")
    time.sleep(0.05)
    app.step()
    time.sleep(0.4)                        # a slow frame while the keys are down
    app.step()
    _xdo("keyup", "z", "keyup", "ctrl")
    time.sleep(0.05)
    app.step(5)
    assert len(model.patch.nodes) == 1, app.last_status()

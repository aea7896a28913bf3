"""Which key presses are presses, for every key handler of the window.

Dear PyGui's key press handlers also fire on the key's auto-repeat, and ImGui
times the repeat with the frame clock: one slow frame (300 ms on a busy machine)
while a key is down turns a single press into two. Ctrl+Z undid twice, and a
toggle (Space, F10, F11) would play and pause, or start and stop a recording,
by itself. Here a press counts when the key was up before it, or, for the
shortcuts that are meant to repeat while held (undo and redo), once it has been
held REPEAT_AFTER_S of wall-clock time (then at ImGui's repeat rate, as editors
do). Several handlers see the same event in the same frame: each is told the same.

Main thread only (Dear PyGui's handlers); a dict of the keys now held.
"""
from __future__ import annotations

import time

import dearpygui.dearpygui as dpg

REPEAT_AFTER_S = 0.5   # s held before a repeatable key's press counts again
LOST_RELEASE_S = 1.0   # s without any event of a held key after which its release was missed
#                        (the window lost focus): held keys repeat every ~50 ms of frames


class KeyPresses:
    def __init__(self, *, clock=time.monotonic, frame=dpg.get_frame_count) -> None:
        self._clock, self._frame = clock, frame
        self._down: dict[int, list] = {}   # key -> [s it went down, frame that counted last, s last seen]
        self.repeatable = {int(dpg.mvKey_Z), int(dpg.mvKey_Y)}

    def install(self) -> None:
        with dpg.handler_registry():
            dpg.add_key_release_handler(callback=lambda s, key: self.released(key))

    def released(self, key) -> None:
        self._down.pop(int(key), None)

    def fresh(self, key) -> bool:
        """True for a press that counts (see the module doc); False for a repeat."""
        key, now, frame = int(key), self._clock(), self._frame()
        held = self._down.get(key)
        if held is None or now - held[2] >= LOST_RELEASE_S:
            self._down[key] = [now, frame, now]
            return True
        if frame == held[1]:                   # another handler, the same event
            return True
        held[2] = now
        if key in self.repeatable and now - held[0] >= REPEAT_AFTER_S:
            held[1] = frame                    # other handlers of this frame: the same answer
            return True
        return False


PRESSES = KeyPresses()


def fresh(key) -> bool:
    """The window's key filter: PRESSES.fresh (installed by the window's input bindings)."""
    return PRESSES.fresh(key)

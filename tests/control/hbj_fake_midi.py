"""A mido backend module for tests: ports that exist only in this process.

Loaded with mido.Backend("hbj_fake_midi"); its Input calls the callback it
is given (the real MidiHandler) from another thread, as rtmidi does.
"""
from __future__ import annotations

import threading

NAMES: list[str] = []  # ports "plugged in" now
OPEN: dict[str, "Input"] = {}


def get_devices(**kwargs):
    return [{"name": n, "is_input": True, "is_output": False} for n in NAMES]


class Input:
    def __init__(self, name=None, virtual=False, callback=None, **kwargs):
        if name not in NAMES:
            raise OSError(f"unknown port {name!r}")
        self.name, self.callback, self.closed = name, callback, False
        OPEN[name] = self

    def close(self):
        self.closed = True
        OPEN.pop(self.name, None)


def send(name: str, *messages) -> None:
    """Deliver messages to an open port's callback on a separate thread (like rtmidi)."""
    port = OPEN[name]

    def run():
        for m in messages:
            port.callback(m)

    th = threading.Thread(target=run)
    th.start()
    th.join()

"""A mido backend module for tests: ports that exist only in this process.

Loaded with mido.Backend("hbj_fake_midi"); its Input calls the callback it
is given (the real MidiHandler) from another thread, as rtmidi does. An
Output named like an open Input is a loopback cable: what is sent goes out as
bytes (Message.bytes()) and comes back through mido's real Parser into that
input's callback, on the sending thread.
"""
from __future__ import annotations

import threading

import mido

NAMES: list[str] = []  # ports "plugged in" now
OPEN: dict[str, "Input"] = {}


def get_devices(**kwargs):
    return [{"name": n, "is_input": True, "is_output": True} for n in NAMES]


class Output:
    def __init__(self, name=None, virtual=False, **kwargs):
        if name not in NAMES:
            raise OSError(f"unknown port {name!r}")
        self.name, self.closed = name, False
        self.parser = mido.Parser()
        self.sent = 0

    def send(self, msg):
        self.parser.feed(msg.bytes())          # the wire: bytes, parsed by mido's own parser
        self.sent += 1
        port = OPEN.get(self.name)
        for m in self.parser:
            if port is not None and port.callback is not None:
                port.callback(m)

    def close(self):
        self.closed = True


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

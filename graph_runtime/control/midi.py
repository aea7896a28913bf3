"""MIDI in through mido (python-rtmidi backend): ports, the handler, reconnection;
MIDI out ports for the clock (open_output).

Each open port calls `MidiHandler` on rtmidi's own thread; the handler only
posts into the Inbox (never touches the patch, the plan or the window):

    ("cc", port, channel, control)     value 0..127 (+ decoded relative clicks)
    ("note", port, channel, note)      velocity 1..127, one post per note-on
    ("noteoff", port, channel, note)   0
    ("pitchbend", port, channel, None) x in [0, 1]

A port that disappears mid-show is closed and reopened when it returns
(a watch thread compares the port list every second); the show never stops.
Tests feed the same handler from a fake mido backend (tests/control/).
"""
from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections import deque
from typing import Callable

from .inbox import Inbox
from .mapping import relative_delta
from .midi_clock import CLOCK_KINDS

DEFAULT_BACKEND = "mido.backends.rtmidi"
ALSA_SEQ = "/dev/snd/seq"
WATCH_S = 1.0


class MidiError(Exception):
    """A one-line, user-facing reason (no ALSA sequencer, unknown port)."""


def backend(name: str | None = None):
    import mido

    return mido.Backend(name or DEFAULT_BACKEND, load=True)


def input_names(be) -> list[str]:
    """Port names, or MidiError saying why there are none to list."""
    try:
        return list(be.get_input_names())
    except Exception as e:  # rtmidi raises its own SystemError (not the builtin) and friends
        raise MidiError(_why(e)) from None


def _why(e: Exception) -> str:
    text = str(e).strip()
    if "ALSA" in text or type(e).__name__ == "SystemError":
        # python-rtmidi without /dev/snd/seq (containers, CI)
        return (f"MIDI is unavailable: the ALSA sequencer cannot be opened ({text}); is "
                "/dev/snd/seq present and readable by this user?")
    return f"MIDI is unavailable: {type(e).__name__}: {text}"


def _stem(name: str) -> str:
    """ALSA appends ' 20:0' (client:port), which changes on replug."""
    return re.sub(r"\s+\d+:\d+$", "", name)


def resolve(name: str, names: list[str]) -> str | None:
    if name in names:
        return name
    hits = [n for n in names if _stem(n) == _stem(name)]
    return hits[0] if len(hits) == 1 else None


class RelativeMap:
    """Which (channel, cc) are endless encoders, and in which style.

    The session replaces `styles` wholesale when bindings change (one atomic
    reference store); the handler only reads it."""

    def __init__(self) -> None:
        self.styles: dict[tuple[int, int], str] = {}

    def style(self, channel: int, control: int) -> str | None:
        s = self.styles
        return s.get((channel, control)) or s.get((-1, control))


class MidiHandler:
    """mido message -> Inbox post. One instance per port (its thread owns its slots).
    Clock, start, stop and continue go, stamped on arrival, to the ClockIn (midi_clock.py)."""

    def __init__(self, inbox: Inbox, port: str, relative: RelativeMap, clock=None) -> None:
        self.inbox, self.port, self.relative, self.clock = inbox, port, relative, clock

    def __call__(self, msg) -> None:
        kind = msg.type
        if kind in CLOCK_KINDS:
            if self.clock is not None:
                self.clock.feed(kind, time.perf_counter())
        elif kind == "control_change":
            delta = 0.0
            style = self.relative.style(msg.channel, msg.control)
            if style is not None:
                delta = float(relative_delta(style, msg.value))
            self.inbox.post(("cc", self.port, msg.channel, msg.control), msg.value, delta)
        elif kind == "note_on" and msg.velocity > 0:
            self.inbox.post(("note", self.port, msg.channel, msg.note), msg.velocity)
        elif kind in ("note_off", "note_on"):
            self.inbox.post(("noteoff", self.port, msg.channel, msg.note), 0)
        elif kind == "pitchwheel":
            self.inbox.post(("pitchbend", self.port, msg.channel, None), (msg.pitch + 8192) / 16383.0)


class MidiInputs:
    """The ports the performer chose, kept open across unplug/replug."""

    def __init__(self, inbox: Inbox, relative: RelativeMap | None = None, *,
                 backend_name: str | None = None, report: Callable[[str], None] | None = None,
                 clock=None) -> None:
        self.inbox = inbox
        self.clock = clock          # a midi_clock.ClockIn: the ports' clock messages go there
        self.relative = relative or RelativeMap()
        self.backend_name = backend_name
        self._be = None
        self.wanted: list[str] = []
        self.open_ports: dict[str, object] = {}  # wanted name -> open mido port
        self.messages: deque[str] = deque(maxlen=100)  # for the main thread to show
        self._report = report or self.messages.append
        self._stop = threading.Event()
        self._watch: threading.Thread | None = None
        self._lock = threading.Lock()  # open/close from the watch and the main thread

    @property
    def be(self):
        if self._be is None:
            self._be = backend(self.backend_name)
        return self._be

    def names(self) -> list[str]:
        if self.backend_name in (None, DEFAULT_BACKEND) and sys.platform.startswith("linux") \
                and not os.path.exists(ALSA_SEQ):  # say so without rtmidi's stderr noise
            raise MidiError(f"MIDI is unavailable: the ALSA sequencer cannot be opened ({ALSA_SEQ} "
                            "is absent: a container or CI machine without sound devices?)")
        return input_names(self.be)

    def open(self, name: str) -> str:
        """Open a port by name (the ALSA client:port suffix may differ); returns its full name."""
        names = self.names()
        real = resolve(name, names)
        if real is None:
            listed = ", ".join(repr(n) for n in names) or "none"
            raise MidiError(f"no MIDI input port {name!r}; ports: {listed}")
        with self._lock:
            if name not in self.wanted:
                self.wanted.append(name)
            self._open(name, real)
        return real

    def _open(self, name: str, real: str) -> None:
        if name in self.open_ports:
            return
        try:
            port = self.be.open_input(real, callback=MidiHandler(self.inbox, name, self.relative,
                                                                   self.clock))
        except Exception as e:  # rtmidi's errors are not OSErrors
            raise MidiError(f"cannot open MIDI port {real!r}: {e}") from None
        self.open_ports[name] = port

    def close(self, name: str) -> None:
        with self._lock:
            if name in self.wanted:
                self.wanted.remove(name)
            self._close(name)

    def _close(self, name: str) -> None:
        port = self.open_ports.pop(name, None)
        if port is not None:
            try:
                port.close()
            except Exception:  # a vanished device may fail to close; it is gone either way
                pass

    def check(self) -> None:
        """Close ports that vanished, reopen wanted ones that came back."""
        try:
            names = self.names()
        except MidiError:
            return
        with self._lock:
            for name in list(self.wanted):
                real = resolve(name, names)
                if name in self.open_ports and real is None:
                    self._close(name)
                    self._report(f"MIDI port {name!r} disappeared; the show goes on, it "
                                 "reconnects when the port returns")
                elif name not in self.open_ports and real is not None:
                    try:
                        self._open(name, real)
                        self._report(f"MIDI port {name!r} is back")
                    except MidiError as e:
                        self._report(str(e))

    def start_watch(self, every_s: float = WATCH_S) -> None:
        if self._watch is not None:
            return
        self._stop.clear()

        def loop():
            while not self._stop.wait(every_s):
                self.check()

        self._watch = threading.Thread(target=loop, name="midi-watch", daemon=True)
        self._watch.start()

    def stop(self) -> None:
        self._stop.set()
        if self._watch is not None:
            self._watch.join(timeout=2.0)
            self._watch = None
        with self._lock:
            for name in list(self.open_ports):
                self._close(name)


def open_output(name: str, *, backend_name: str | None = None):
    """A mido output port by name (the ALSA client:port suffix may differ); MidiError
    (one line) when there is none or MIDI is unavailable."""
    be = backend(backend_name)
    if backend_name in (None, DEFAULT_BACKEND) and sys.platform.startswith("linux") \
            and not os.path.exists(ALSA_SEQ):
        raise MidiError(f"MIDI is unavailable: the ALSA sequencer cannot be opened ({ALSA_SEQ} "
                        "is absent: a container or CI machine without sound devices?)")
    try:
        names = list(be.get_output_names())
    except Exception as e:
        raise MidiError(_why(e)) from None
    real = resolve(name, names)
    if real is None:
        listed = ", ".join(repr(n) for n in names) or "none"
        raise MidiError(f"no MIDI output port {name!r}; ports: {listed}")
    try:
        return be.open_output(real)
    except Exception as e:
        raise MidiError(f"cannot open MIDI output {real!r}: {e}") from None

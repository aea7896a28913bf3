"""Playing the patch from outside: MIDI, OSC, bindings, scenes, tap tempo.

Threads: MIDI ports (rtmidi's callback threads), the one OSC receive
thread and the stage's HTTP loop (the web page, web.py) only post into the
Inbox (inbox.py). The main thread drains it once at the start of each frame
(show/control_session.py: ControlSession.drain) and applies values through
the show's document (set_param), so the running plan takes them in place and
undo/save see them. This package is the I/O; nothing here imports dearpygui or torch.
"""
from .inbox import Inbox

__all__ = ["Inbox"]

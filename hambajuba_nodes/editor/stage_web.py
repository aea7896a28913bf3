"""Stage > Web control: start and stop the web surface (phones and tablets as controllers) from the window.

`perform --web [HOST:]PORT [--web-token-file F]` starts it with the window;
the menu entry starts and stops it (its address field chooses where). When
it runs, a small window shows the join URL and its QR code. Every frame
`tick` hands the page's status (fps, recording, problems) to the surface's
board, which publishes ten times a second; the WebSocket's messages reach
the show through the control session's inbox, like OSC and MIDI.
"""
from __future__ import annotations

import time
from collections import deque

import dearpygui.dearpygui as dpg

from graph_runtime.stage.http.board import EVERY
from graph_runtime.stage.mjpeg import StageError, parse_address


class StageWeb:
    def __init__(self, stage, address: str, token: bytes | None, card) -> None:
        self.stage, self.address, self.token, self.card = stage, address, token, card
        self.surface = None
        self.items: dict[str, int] = {}
        self.errors: deque[tuple[float, str]] = deque(maxlen=4)  # (monotonic s, the stage's error)
        self._problems: list[str] = []  # what the page's status line shows, refreshed twice a second
        self._frame = 0

    @property
    def app(self):
        return self.stage.app

    def register(self) -> None:
        """The window's handlers for what a phone can ask (main thread, at start)."""
        cmds = self.app.control.session.commands
        cmds["record"] = self._record
        cmds["view"] = lambda name: None  # one view today: the image
        cmds["assign"] = self.app.pick_feature

    def _record(self, on: bool) -> None:
        rec = self.stage.recorder
        if on and not rec.recording:
            self.stage.start_recording(None)
        elif not on and rec.recording:
            self.stage.stop_recording()

    # -- the menu --------------------------------------------------------------------------
    def build_menu(self) -> None:
        self.items["toggle"] = dpg.add_menu_item(label=self._label(), callback=lambda: self.toggle())
        self.items["at"] = dpg.add_input_text(label="web [host:]port", default_value=self.address,
                                              width=140, on_enter=True,
                                              callback=lambda s, a: self._set_address(a))

    def _label(self) -> str:
        if self.surface is None:
            return f"Web control on {self.address}"
        return f"Stop web control ({self.surface.join_url.split('?')[0]})"  # the token: on the card

    def update_label(self) -> None:
        if "toggle" in self.items:
            dpg.configure_item(self.items["toggle"], label=self._label())

    def _set_address(self, text: str) -> None:
        try:
            parse_address(text.strip(), flag="--web")
        except StageError as e:
            self.stage._say("error", str(e))
            return
        self.address = text.strip()
        self.stage._say("info", f"web control will listen on {self.address}")

    def toggle(self) -> None:
        self.stop() if self.surface is not None else self.start()

    # -- start / stop ------------------------------------------------------------------------
    def start(self) -> str | None:
        if self.surface is not None:
            return None
        from graph_runtime.stage.http.web import WebSurface

        try:
            host, port = parse_address(self.address, flag="--web")
            surface = WebSurface(self.app.control.session, host=host, port=port, token=self.token,
                                 http=self.stage.http, source=self.stage.jpeg,
                                 features=lambda: self.app.features.index)
            surface.start()
        except StageError as e:
            self.stage._say("error", str(e))
            return str(e)
        self.surface = surface
        self.stage.fanout.add(self.stage.jpeg)
        self.card.show(surface.join_url)
        self.stage._say("info", f"web control at {surface.join_url.split('?')[0]} (scan the QR code "
                                "on the join card with a phone)")
        self.update_label()
        return None

    def stop(self, quiet: bool = False) -> None:
        surface, self.surface = self.surface, None
        if surface is None:
            return
        surface.close()
        if self.stage.server is None:
            self.stage.fanout.remove(self.stage.jpeg)
        if not quiet:
            self.card.hide()
            self.stage._say("info", "web control stopped")
            self.update_label()

    def note_problem(self, text: str) -> None:
        self.errors.append((time.monotonic(), text))

    def tick(self) -> None:
        surface = self.surface
        if surface is None:
            return
        self._frame += 1
        if self._frame % EVERY:  # the page's status: ten times a second, nothing in between
            return
        if self._frame % 30 == 0:  # the patch's problems and the stage's errors of the last minute
            recent = [t for at, t in self.errors if time.monotonic() - at < 60.0]
            self._problems = [str(p) for p in (getattr(self.app.live, "problems", None) or ())[:4]] + recent
        surface.tick(fps=self.app.output.fps(), recording=self.stage.recorder.recording, view="image",
                     problems=self._problems, force=True)

    def state(self) -> str:
        s = self.surface
        return f" | web {len(s.clients)} client(s)" if s is not None else ""

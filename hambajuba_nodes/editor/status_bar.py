"""The status bar at the bottom of the window, and the Messages tab.

Every message goes to Messages (newest first, 300 kept). The bar shows the
newest one, except that an error stands: it stays, red, until another error
replaces it or the user dismisses it (the x beside it, or `dismiss()`);
what came after it meanwhile ("autosaved to ...") is counted beside it and
is in Messages. A message too long for the bar is cut with "..." and shown
whole in the bar's tooltip and in Messages.
"""
from __future__ import annotations

import time
from collections import deque

import dearpygui.dearpygui as dpg

from . import theme

CHAR_W = 7.0  # px per character of the default font: how much of a message fits
SHOWN_MESSAGES = 40


class StatusBar:
    def __init__(self, messages: deque) -> None:
        self.messages = messages  # (clock "HH:MM:SS", level, text), shared with the app
        self.last = ""  # the newest message, whatever the bar shows
        self.standing: str | None = None  # the error on the bar until replaced or dismissed
        self.after = 0  # messages since the standing error (in Messages)
        self.shown = ""  # the full text the bar stands for
        self.text = self.dismiss_button = self.more = self.tip = self.messages_text = None
        self.width = 1200.0
        self._colour = theme.DIM

    def build(self) -> None:
        """The bar's widgets, in the current container (a horizontal group)."""
        self.dismiss_button = dpg.add_button(label="x", small=True, show=False,
                                             callback=lambda: self.dismiss())
        self.text = dpg.add_text("", color=theme.DIM)
        with dpg.tooltip(self.text):
            self.tip = dpg.add_text("", wrap=700)
        self.more = dpg.add_text("", color=theme.DIM)

    def bind_messages(self, item) -> None:
        self.messages_text = item

    def post(self, level: str, text: str) -> None:
        self.last = text
        self.messages.append((time.strftime("%H:%M:%S"), level, text))
        self._messages_tab()
        if level == "error":
            self.standing, self.after = text, 0
            self._show(text, theme.ERROR)
        elif self.standing is not None:
            self.after += 1
            self._more()
        else:
            self._show(text, theme.WARNING if level == "warn" else theme.DIM)

    def dismiss(self) -> None:
        """Take the standing error off the bar (it stays in Messages); the
        newest message after it, if any, shows instead."""
        if self.standing is None:
            return
        after = list(self.messages)[-self.after:] if self.after else []
        self.standing, self.after = None, 0
        level, text = (after[-1][1], after[-1][2]) if after else ("info", "")
        self._show(text, theme.WARNING if level == "warn" else theme.DIM)

    def resolve(self, prefix: str) -> None:
        """The problem an error named is gone: dismiss it if it still stands."""
        if self.standing is not None and prefix in self.standing:
            self.dismiss()

    def set_width(self, px: float) -> None:
        self.width = max(200.0, float(px))
        if self.shown:
            self._show(self.shown, self._colour)

    # -- drawing -----------------------------------------------------------------------------
    def _show(self, text: str, colour) -> None:
        self.shown, self._colour = text, colour
        if self.text is None:
            return
        room = max(20, int((self.width - 160) / CHAR_W))
        dpg.set_value(self.text, text if len(text) <= room else text[: room - 3] + "...")
        dpg.configure_item(self.text, color=colour)
        dpg.set_value(self.tip, text + ("\n(full list: the Messages tab)" if len(text) > room else ""))
        dpg.configure_item(self.dismiss_button, show=self.standing is not None)
        self._more()

    def _more(self) -> None:
        if self.more is not None:
            dpg.set_value(self.more, f"  (+{self.after} newer in Messages)"
                          if self.standing is not None and self.after else "")

    def _messages_tab(self) -> None:
        if self.messages_text is not None and dpg.does_item_exist(self.messages_text):
            recent = list(self.messages)[-SHOWN_MESSAGES:][::-1]
            dpg.set_value(self.messages_text, "\n".join(f"{t} {lv}: {m}" for t, lv, m in recent))

"""The status bar at the bottom of the window, and the Messages tab.

Every message goes to Messages (newest first, 300 kept). The bar always
shows the newest one, coloured by its level: info grey, warn yellow, error
red. An error is not lost when something newer comes: until the problem is
resolved (`resolve`) or dismissed (the x, or `dismiss()`), a red chip beside
the newest message keeps it in view ("! cannot save ... (+2 newer)"). A
message too long for the bar is cut with "..." and shown whole in the bar's
tooltip and in Messages.
"""
from __future__ import annotations

import time
from collections import deque

import dearpygui.dearpygui as dpg

from . import theme

CHAR_W = 7.0  # px per character of the default font: how much of a message fits
SHOWN_MESSAGES = 40


def colour_of(level: str):
    return theme.ERROR if level == "error" else theme.WARNING if level == "warn" else theme.DIM


class StatusBar:
    def __init__(self, messages: deque) -> None:
        self.messages = messages  # (clock "HH:MM:SS", level, text), shared with the app
        self.last = ""  # the newest message, whatever the bar shows
        self.standing: str | None = None  # the error on the bar until replaced or dismissed
        self.after = 0  # messages since the standing error (in Messages)
        self.shown = ""  # the full text the bar stands for
        self.text = self.dismiss_button = self.more = self.tip = self.messages_text = None
        self.more_tip = None
        self.width = 1200.0
        self._colour = theme.DIM

    def build(self) -> None:
        """The bar's widgets, in the current container (a horizontal group)."""
        self.dismiss_button = dpg.add_button(label="x", small=True, show=False,
                                             callback=lambda: self.dismiss())
        self.text = dpg.add_text("", color=theme.DIM)
        with dpg.tooltip(self.text):
            self.tip = dpg.add_text("", wrap=700)
        self.more = dpg.add_text("", color=theme.ERROR)
        with dpg.tooltip(self.more):
            self.more_tip = dpg.add_text("", wrap=700)

    def bind_messages(self, item) -> None:
        self.messages_text = item

    def post(self, level: str, text: str) -> None:
        self.last = text
        self.messages.append((time.strftime("%H:%M:%S"), level, text))
        self._messages_tab()
        if level == "error":
            self.standing, self.after = text, 0
        elif self.standing is not None:
            self.after += 1
        self._show(text, colour_of(level))

    def dismiss(self) -> None:
        """Take the standing error's chip off the bar (it stays in Messages)."""
        if self.standing is None:
            return
        shown_error = self.shown == self.standing
        self.standing, self.after = None, 0
        if shown_error:  # the error itself was the newest: the bar empties
            self._show("", theme.DIM)
        else:
            self._show(self.shown, self._colour)

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
        chip = 66 if self.standing is not None and text != self.standing else 0  # the error chip
        room = max(20, int((self.width - 160) / CHAR_W) - chip)
        dpg.set_value(self.text, text if len(text) <= room else text[: room - 3] + "...")
        dpg.configure_item(self.text, color=colour)
        dpg.set_value(self.tip, text + ("\n(full list: the Messages tab)" if len(text) > room else ""))
        dpg.configure_item(self.dismiss_button, show=self.standing is not None)
        self._more()

    def _more(self) -> None:
        """The chip of an unresolved error when something newer is on the bar."""
        if self.more is None:
            return
        chip = ""
        if self.standing is not None and self.shown != self.standing:
            head = self.standing if len(self.standing) <= 60 else self.standing[:57] + "..."
            chip = f"  ! {head}"
        dpg.set_value(self.more, chip)
        if self.more_tip is not None:
            dpg.set_value(self.more_tip, f"{self.standing}\n(+{self.after} newer; x dismisses; all in "
                          "the Messages tab)" if chip else "")

    def _messages_tab(self) -> None:
        if self.messages_text is not None and dpg.does_item_exist(self.messages_text):
            recent = list(self.messages)[-SHOWN_MESSAGES:][::-1]
            dpg.set_value(self.messages_text, "\n".join(f"{t} {lv}: {m}" for t, lv, m in recent))

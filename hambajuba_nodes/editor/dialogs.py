"""Modal questions and file choosers, built on demand, answered by callbacks.

Nothing blocks: `ask` shows a modal with buttons and returns at once; the
chosen button's callback runs from the window's callback queue like any
other click. Tests answer a dialog with `answer(label)`.
"""
from __future__ import annotations

import os
from typing import Callable

import dearpygui.dearpygui as dpg


class Dialogs:
    def __init__(self) -> None:
        self._open: list[tuple[int, dict[str, Callable[[], None]]]] = []

    @property
    def pending(self) -> list[str]:
        """Titles of the dialogs on screen (for tests and scripted runs)."""
        return [dpg.get_item_label(w) for w, _ in self._open if dpg.does_item_exist(w)]

    def ask(self, title: str, text: str, buttons: list[tuple[str, Callable[[], None]]], *,
            width: int = 460) -> int:
        actions = dict(buttons)
        vw, vh = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
        with dpg.window(label=title, modal=True, no_collapse=True, no_close=True, width=width,
                        autosize=True, pos=[max(0, vw // 2 - width // 2), max(0, vh // 2 - 150)],
                        no_saved_settings=True) as win:
            dpg.add_text(text, wrap=width - 20)
            dpg.add_spacer(height=6)
            with dpg.group(horizontal=True):
                for label, _ in buttons:
                    dpg.add_button(label=label, user_data=label,
                                   callback=lambda s, a, u, w=win: self._press(w, u))
        self._open.append((win, actions))
        return win

    def message(self, title: str, text: str, *, width: int = 460) -> int:
        return self.ask(title, text, [("OK", lambda: None)], width=width)

    def answer(self, label: str) -> bool:
        """Press `label` on the newest dialog that has it."""
        for win, actions in reversed(self._open):
            if label in actions:
                self._press(win, label)
                return True
        return False

    def _press(self, win: int, label: str) -> None:
        for i, (w, actions) in enumerate(self._open):
            if w == win:
                del self._open[i]
                if dpg.does_item_exist(w):
                    dpg.delete_item(w)
                actions[label]()
                return

    # -- files ---------------------------------------------------------------------------
    def choose_file(self, title: str, extensions: tuple[str, ...], on_chosen: Callable[[str], None],
                    *, save: bool = False, default: str = "") -> int:
        """Dear PyGui's file dialog; on_chosen(path) when the user picks one."""
        def chosen(sender, app_data):
            path = (app_data or {}).get("file_path_name") or ""
            if dpg.does_item_exist(sender):
                dpg.delete_item(sender)
            if path:
                on_chosen(path)

        folder = os.path.dirname(default) if default else os.getcwd()
        with dpg.file_dialog(label=title, width=640, height=420, modal=True, show=True,
                             directory_selector=False, callback=chosen,
                             cancel_callback=lambda s, a: dpg.delete_item(s),
                             default_path=folder,
                             default_filename=os.path.basename(default) if save and default else "") as fd:
            for ext in extensions:
                dpg.add_file_extension(ext, color=(120, 210, 130, 255))
            dpg.add_file_extension(".*")
        return fd

"""Modal questions and file choosers, built on demand, answered by callbacks.

Nothing blocks: `ask` shows a modal with buttons and returns at once; the
chosen button's callback runs from the window's callback queue like any
other click. Tests answer a dialog with `answer(label)`.

While any of these is on screen the canvas takes no keys (`modal_open`): a
Backspace typed in a file name must not delete the selected node.

File choosers accept what a user types: an absolute path or `~/...` in the
file name field is taken as it is (Dear PyGui would join it to the folder
shown), a double-click on a file picks it, and a chooser starts in the
folder it is given.
"""
from __future__ import annotations

import os
from typing import Callable

import dearpygui.dearpygui as dpg

FILE_W, FILE_H = 640, 420


class Dialogs:
    def __init__(self) -> None:
        self._open: list[tuple[int, dict[str, Callable[[], None]]]] = []
        self._files: dict[int, Callable[[dict], None]] = {}  # file dialog -> its chosen()

    @property
    def pending(self) -> list[str]:
        """Titles of the dialogs on screen (for tests and scripted runs)."""
        return [dpg.get_item_label(w) for w, _ in self._open if dpg.does_item_exist(w)]

    def modal_open(self) -> bool:
        """A question or a file chooser is on screen (keys belong to it)."""
        self._files = {fd: cb for fd, cb in self._files.items() if dpg.does_item_exist(fd)}
        if any(dpg.is_item_shown(fd) for fd in self._files):
            return True
        return any(dpg.does_item_exist(w) for w, _ in self._open)

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
                    *, save: bool = False, default: str = "", folder: str = "",
                    first_filter: str = "") -> int:
        """Dear PyGui's file dialog; on_chosen(path) when the user picks one.
        `folder`: where it starts (else the default's folder, else the current
        one); `first_filter`: a filter shown first (e.g. all audio at once)."""
        def chosen(sender, app_data):
            path = chosen_path(app_data)
            self._files.pop(sender, None)
            if dpg.does_item_exist(sender):
                dpg.delete_item(sender)
            if path:
                on_chosen(path)

        def cancelled(sender, app_data=None):
            self._files.pop(sender, None)
            if dpg.does_item_exist(sender):
                dpg.delete_item(sender)

        start = folder or (os.path.dirname(default) if default else "") or os.getcwd()
        with dpg.file_dialog(label=title, width=FILE_W, height=FILE_H, modal=True, show=True,
                             directory_selector=False, callback=chosen, cancel_callback=cancelled,
                             default_path=start,
                             default_filename=os.path.basename(default) if save and default else "") as fd:
            if first_filter:
                dpg.add_file_extension(first_filter, color=(120, 210, 130, 255))
            for ext in extensions:
                dpg.add_file_extension(ext, color=(120, 210, 130, 255))
            dpg.add_file_extension(".*")
        self._files[fd] = lambda info, fd=fd: chosen(fd, info)
        return fd

    def open_double_clicked(self) -> bool:
        """A double-click inside an open (not save) file chooser on a file:
        pick it, as OK would. The first click of the two selected it."""
        for fd, pick in list(self._files.items()):
            if not dpg.does_item_exist(fd) or not dpg.is_item_shown(fd):
                continue
            if not _mouse_over(fd):
                continue
            info = dpg.get_file_dialog_info(fd) or {}
            path = chosen_path(info)
            if path and os.path.isfile(path):
                pick(info)
                return True
        return False


def chosen_path(app_data: dict | None) -> str:
    """The path the user meant: an absolute or ~ name as typed, else the
    name in the folder shown (what Dear PyGui joins)."""
    app_data = app_data or {}
    name = (app_data.get("file_name") or "").strip()
    if name.startswith("~") or os.path.isabs(name):
        return os.path.expanduser(name)
    return app_data.get("file_path_name") or ""


def _mouse_over(item) -> bool:
    """The mouse is over `item`'s window: file dialogs report no rect, they sit
    centred on the viewport at their configured size."""
    vw, vh = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
    cfg = dpg.get_item_configuration(item)
    w, h = cfg.get("width") or FILE_W, cfg.get("height") or FILE_H
    x0, y0 = (vw - w) / 2, (vh - h) / 2
    mx, my = dpg.get_mouse_pos(local=False)
    return x0 <= mx < x0 + w and y0 <= my < y0 + h

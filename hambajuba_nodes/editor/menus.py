"""The window's menu bar: File, Edit, Add, Play, Control, View, Stage, Help."""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from .input import SHORTCUTS


class Menus:
    """Builds the menu bar (part of App)."""

    def _build_menus(self) -> None:
        with dpg.menu_bar():
            with dpg.menu(label="File"):
                dpg.add_menu_item(label="New", shortcut="Ctrl+N", callback=lambda: self.new_patch())
                dpg.add_menu_item(label="Open patch...", shortcut="Ctrl+O", callback=lambda: self.ask_open_patch())
                self.recent_menu = dpg.add_menu(label="Open recent")
                dpg.add_menu_item(label="Save", shortcut="Ctrl+S", callback=lambda: self.save())
                dpg.add_menu_item(label="Save as...", shortcut="Ctrl+Shift+S", callback=lambda: self.ask_save_as())
                dpg.add_separator()
                dpg.add_menu_item(label="Open track...", callback=lambda: self.ask_open_track())
                dpg.add_separator()
                dpg.add_menu_item(label="Quit", shortcut="Ctrl+Q", callback=lambda: self.request_quit())
            with dpg.menu(label="Edit"):
                dpg.add_menu_item(label="Undo", shortcut="Ctrl+Z", callback=lambda: self.undo())
                dpg.add_menu_item(label="Redo", shortcut="Ctrl+Shift+Z", callback=lambda: self.redo())
                dpg.add_separator()
                dpg.add_menu_item(label="Cut", shortcut="Ctrl+X", callback=lambda: self.view.cut_selected())
                dpg.add_menu_item(label="Copy", shortcut="Ctrl+C", callback=lambda: self.view.copy_selected())
                dpg.add_menu_item(label="Paste", shortcut="Ctrl+V", callback=lambda: self.view.paste_at())
                dpg.add_menu_item(label="Duplicate", shortcut="Ctrl+D", callback=lambda: self.view.duplicate_selected())
                dpg.add_menu_item(label="Delete selected", shortcut="Del", callback=lambda: self.view.delete_selected())
                dpg.add_separator()
                dpg.add_menu_item(label="Add comment", callback=lambda: self.add_comment())
            with dpg.menu(label="Add") as add:
                dpg.add_menu_item(label="Search nodes...", shortcut="Tab / right-click",
                                  callback=lambda: self.input.open_add_menu(centre=True))
                dpg.add_menu_item(label="Auto chain (stem -> block)...",
                                  callback=lambda: self.ask_auto_chain())
                dpg.add_separator()
                self.add_menu.build_menu(add)
            with dpg.menu(label="Play"):
                dpg.add_menu_item(label="Play / pause", shortcut="Space", callback=lambda: self.bar.toggle())
                dpg.add_menu_item(label="Back to start", callback=lambda: self.seek(0.0))
            self.control.build_menu()
            with dpg.menu(label="View"):
                dpg.add_menu_item(label="Perform mode", shortcut="F11", callback=lambda: self.toggle_perform())
                self.meters_item = dpg.add_menu_item(label="Live meters", check=True, default_value=True,
                                                     callback=lambda s, a: setattr(self.meters, "enabled", a))
                dpg.add_menu_item(label="Fullscreen window", callback=lambda: dpg.toggle_viewport_fullscreen())
            self.stage.build_menu()
            with dpg.menu(label="Help"):
                dpg.add_menu_item(label="Shortcuts and mouse", callback=lambda: self.dialogs.message(
                    "Shortcuts", SHORTCUTS, width=700))
        self._refresh_recent()

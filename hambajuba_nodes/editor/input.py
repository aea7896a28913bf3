"""Keyboard and mouse bindings of the window, and the list of them (Help).

Every binding calls a handler the menus and tests call too; the only logic
here is when a key means what: shortcuts stay off while a text field (any
input, or a slider or drag being typed into) is active or while a dialog or
file chooser is open -- keys typed there never reach the canvas; Delete and
Tab act only over the canvas, an open add-node menu takes Enter and Escape,
F11 and Escape leave perform mode, F fits the patch into view, Enter assigns
the feature row picked in the browser.
"""
from __future__ import annotations

import time

import dearpygui.dearpygui as dpg

from .key_presses import PRESSES

DOUBLE_CLICK_S = 0.5  # two left clicks on one spot within this open a file in a chooser

SHORTCUTS = """Canvas
  right-click or Tab     add a node (type to search, Enter adds the first)
  drag pin to pin        link (kinds must match; the status bar says why not)
  click a link or node   select it       Del / Backspace   delete the selection
  box-drag, Ctrl+click   select several  middle-drag       pan
  F                      fit the whole patch into view
Sliders
  drag left/right moves from where it is (Shift: fine); Ctrl+click types a value
  params spanning more than two decades (rates, frequencies) move in ratios
Features
  click a row selects it; Assign, a double-click or Enter gives it to the sink
Edit
  Ctrl+Z / Ctrl+Shift+Z (Ctrl+Y)   undo / redo
  Ctrl+C / Ctrl+X / Ctrl+V / Ctrl+D   copy / cut / paste / duplicate
Files
  Ctrl+N new   Ctrl+O open   Ctrl+S save   Ctrl+Shift+S save as   Ctrl+Q quit
Play
  Space play/pause   F11 perform mode (Esc leaves; I shows/hides the operator's line)
Performing
  1-9        recall scene 1-9 (the Control tab's "when": now, next beat, next bar)
  T          tap tempo          [ / ]   nudge the beat 10 ms earlier / later
Stage
  F9         open / close the output window     Shift+F9   reopen it
  F10        record / stop recording
  F12 (perform --mcp) freeze agents; again hands control back
Nodes
  '+ N more' shows all ports and params of a big node
  the '...' beside feature_id opens the feature browser for that sink
  'mask - paint' opens the mask painter: left paints, right erases"""


class InputBindings:
    def __init__(self, app) -> None:
        self.app = app
        self._last_click: tuple[float, tuple[float, float]] = (0.0, (0.0, 0.0))

    def install(self) -> None:
        PRESSES.install()
        with dpg.handler_registry():
            dpg.add_key_press_handler(callback=self.on_key)
            dpg.add_mouse_release_handler(button=dpg.mvMouseButton_Left, callback=self.on_mouse_release)
            dpg.add_mouse_click_handler(button=dpg.mvMouseButton_Right, callback=self.on_right_click)
            dpg.add_mouse_double_click_handler(button=dpg.mvMouseButton_Left,
                                               callback=self.on_double_click)
            dpg.add_mouse_click_handler(button=dpg.mvMouseButton_Left, callback=self.on_left_click)

    def on_key(self, sender, key) -> None:
        if not PRESSES.fresh(key):          # a slow frame's auto-repeat, not a press
            return None
        app, view = self.app, self.app.view
        ctrl = dpg.is_key_down(dpg.mvKey_LControl) or dpg.is_key_down(dpg.mvKey_RControl)
        shift = dpg.is_key_down(dpg.mvKey_LShift) or dpg.is_key_down(dpg.mvKey_RShift)
        if key == dpg.mvKey_F11:
            return app.toggle_perform()
        if key == dpg.mvKey_Escape:
            if app.output.performing:
                return app.toggle_perform()
            return app.add_menu.close()
        if app.add_menu.is_open:
            if key == dpg.mvKey_Return:
                app.add_menu.pick_first()
            return None
        if not self.canvas_takes_keys():
            return None
        if key == dpg.mvKey_Return and app.features.armed and \
                dpg.get_value(app.tabs) == app.tab_features:
            app.features.pick()
            return None
        if ctrl:
            action = {dpg.mvKey_Z: app.redo if shift else app.undo, dpg.mvKey_Y: app.redo,
                      dpg.mvKey_C: view.copy_selected, dpg.mvKey_X: view.cut_selected,
                      dpg.mvKey_V: view.paste_at, dpg.mvKey_D: view.duplicate_selected,
                      dpg.mvKey_S: app.ask_save_as if shift else app.save,
                      dpg.mvKey_O: app.ask_open_patch, dpg.mvKey_N: app.new_patch,
                      dpg.mvKey_Q: app.request_quit}.get(key)
            if action is not None:
                action()
            return None
        if key in (dpg.mvKey_Delete, dpg.mvKey_Back) and view.hovered():
            view.delete_selected()
        elif key == dpg.mvKey_Spacebar:
            app.bar.toggle()
        elif key == dpg.mvKey_Tab and view.hovered():
            self.open_add_menu()
        elif key == dpg.mvKey_F and view.hovered():
            view.fit_to_view()
        return None

    def canvas_takes_keys(self) -> bool:
        """No dialog is open and no text is being typed anywhere: a key means
        a shortcut. (Dear PyGui's key handlers see every key, also the ones a
        focused text field or a file chooser's name field consumes.)"""
        app = self.app
        if app.dialogs.modal_open() or modal_window_open():
            return False
        return not (app.view.any_text_active() or self.typing() or text_field_active())

    def on_double_click(self, sender=None, app_data=None) -> None:
        self.app.dialogs.open_double_clicked()

    def on_left_click(self, sender=None, app_data=None) -> None:
        """Two clicks on one spot within DOUBLE_CLICK_S also count as a double-click:
        Dear PyGui times them in frames, and a busy machine's slow frames can
        stretch a quick double-click past its limit."""
        now, at = time.monotonic(), dpg.get_mouse_pos(local=False)
        t0, at0 = self._last_click
        self._last_click = (now, at)
        if now - t0 <= DOUBLE_CLICK_S and abs(at[0] - at0[0]) + abs(at[1] - at0[1]) <= 6:
            self._last_click = (0.0, (0.0, 0.0))
            self.app.dialogs.open_double_clicked()

    def typing(self) -> bool:
        """A text field outside the nodes is being edited (search boxes...)."""
        app = self.app
        for tag in (app.features.tags.get("search"), app.add_menu.search, app.features.tags.get("id")):
            if tag is not None and dpg.is_item_active(tag):
                return True
        return False

    def on_mouse_release(self, sender=None, app_data=None) -> None:
        """After a click or drag on the canvas: record moved nodes (one undo
        step) and let the panels follow the selection."""
        app, view = self.app, self.app.view
        if view.hovered() or app.selected:
            view.sync_positions()
        sel = view.selected_nodes()
        if sel != app.selected:
            app.selected = sel
            app.model.selection = tuple(sel)
            if len(sel) == 1:
                app.select_target(sel[0])

    def on_right_click(self, sender=None, app_data=None) -> None:
        if self.app.view.hovered() and not self.app.add_menu.is_open:
            self.open_add_menu()

    def open_add_menu(self, centre: bool = False) -> None:
        app = self.app
        if centre:
            app.add_menu.open(app.view.view_centre(), screen=(200, 120))
            return
        mx, my = dpg.get_mouse_pos(local=False)
        app.add_menu.open(app.view.screen_to_grid(mx, my), screen=(mx, my))


# items that take typed text while active (sliders and drags after Ctrl+click)
_TYPED = frozenset(f"mvAppItemType::mv{k}" for k in (
    "InputText", "InputInt", "InputFloat", "InputDouble", "InputIntMulti", "InputFloatMulti",
    "InputDoubleMulti", "DragFloat", "DragInt", "DragDouble", "SliderFloat", "SliderInt",
    "SliderDouble", "Combo"))


def text_field_active() -> bool:
    """Any text-taking item of the window is active (scanned on a key press
    only: a few thousand items, about a millisecond)."""
    for item in dpg.get_all_items():
        if dpg.get_item_type(item) in _TYPED and dpg.is_item_active(item):
            return True
    return False


def modal_window_open() -> bool:
    """A modal window of the app's own (auto chain, a question) is shown."""
    for w in dpg.get_windows():
        cfg = dpg.get_item_configuration(w)
        if cfg.get("modal") and cfg.get("show", True):
            return True
    return False

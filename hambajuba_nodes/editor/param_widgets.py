"""Param widgets generated from a node type's declared params.

One function per Param kind; each builds the widget inside a node attribute,
labelled with the param's name and unit, bounded by its range, with its doc
and range as a tooltip. Every widget reports edits through one callback,
`on_change(node_id, name, value, merge)`, which the node editor routes to
EditorModel.set_param: the same handler whatever the widget.

Numbers are drag fields, never sliders: a click does not jump the value to
the click point, a drag moves it relative to where it was (a bounded range
takes DRAG_PX pixels end to end; Shift makes it ten times finer), and
Ctrl+click or double-click types a value. A param whose range spans more
than two decades (a rate of 0.001..1000 Hz) moves in ratios: each pixel
multiplies it by about 1 + LOG_STEP, so 60 px from 1 Hz is 1.8 Hz, not
776. The feel (speed by value, Shift) is set from an active-item handler,
i.e. once per frame while that one widget is being dragged.

Text and path fields commit when the field is left or Enter is pressed (not
per keystroke: a prompt is re-encoded by the engine on each commit).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import dearpygui.dearpygui as dpg

from graph_runtime.graph.node import Param

SLIDER_SPAN = 2000.0  # ranges wider than this (or unbounded) move by a share of the value
DRAG_PX = 400.0  # pixels of drag across a whole bounded range
LOG_STEP = 0.01  # log-scaled params: each pixel changes the value by about 1 %
LOG_DECADES = 2.0  # a range lo..hi with lo > 0 and hi / lo above 10**this is log-scaled
FINE = 0.01  # Shift: Dear PyGui drags 10x faster with Shift held, so 0.01 nets 10x finer
WIDTH = 150

OnChange = Callable[[str, str, Any, Any], None]


@dataclass
class ParamWidget:
    name: str
    kind: str
    tag: int | str
    text_input: bool = False  # a text field: keyboard shortcuts must not fire while it is active
    handlers: int | None = None  # its item handler registry (commit on leave), deleted with it

    def show(self, value: Any) -> None:
        """Put a model value into the widget (no callback fires)."""
        if self.kind == "mask":
            lit = sum(1 for v in value or () if v > 0.5)
            dpg.configure_item(self.tag, label=f"mask: {lit}/256 lit - paint")
        elif value is not None:
            dpg.set_value(self.tag, value)

    def enable(self, on: bool) -> None:
        dpg.configure_item(self.tag, enabled=on)


def describe(prm: Param) -> str:
    parts = [prm.doc] if prm.doc else []
    if prm.min is not None or prm.max is not None:
        lo = "-inf" if prm.min is None else f"{prm.min:g}"
        hi = "inf" if prm.max is None else f"{prm.max:g}"
        parts.append(f"range {lo} .. {hi} {prm.unit}".rstrip())
    if prm.choices:
        parts.append("one of: " + ", ".join(prm.choices))
    parts.append(f"default {prm.default!r}" if prm.kind != "mask" else "16x16 grid, cells 0..1")
    return "\n".join(parts)


def build(prm: Param, value: Any, *, node_id: str, parent, on_change: OnChange,
          on_special: Callable[[str, str, str], None] | None = None,
          width: int = WIDTH) -> ParamWidget:
    """Build the widget for one param inside `parent`; returns its handle."""
    maker = _MAKERS.get(prm.kind, _make_text)
    w = maker(prm, value, node_id, parent, on_change, on_special, width)
    with dpg.tooltip(w.tag):
        dpg.add_text(f"{prm.name}", color=(200, 200, 220, 255))
        dpg.add_text(describe(prm), wrap=320)
    return w


def _unit(prm: Param) -> str:
    return f" {prm.unit}" if prm.unit else ""


def _cb(on_change: OnChange, node_id: str, name: str, merge: bool = True):
    def callback(sender, app_data, user_data=None):
        on_change(node_id, name, app_data, ("param", node_id, name) if merge else None)
    return callback


def is_log(prm: Param) -> bool:
    """Ranges of more than two decades above zero move in ratios."""
    return prm.min is not None and prm.max is not None and prm.min > 0 and \
        prm.max / prm.min > 10 ** LOG_DECADES


def drag_speed(prm: Param, value: float, *, fine: bool = False) -> float:
    """Value change per pixel of drag at `value`."""
    lo, hi = prm.min, prm.max
    if is_log(prm):
        speed = max(abs(float(value)), lo) * LOG_STEP
    elif lo is None or hi is None or hi - lo > SLIDER_SPAN:
        speed = max(abs(float(value)) * 0.01, 0.01)
    else:
        speed = (hi - lo) / DRAG_PX
        if prm.kind == "int":
            speed = max(speed, 0.05)  # at most 20 px per step
    return speed * (FINE if fine else 1.0)


def _make_float(prm, value, node_id, parent, on_change, on_special, width):
    lo = prm.min if prm.min is not None else -1e6
    hi = prm.max if prm.max is not None else 1e6
    fmt = f"{prm.name} %.4g{_unit(prm)}"
    tag = dpg.add_drag_float(parent=parent, width=width, default_value=float(value), format=fmt,
                             min_value=lo, max_value=hi, clamped=True,
                             speed=drag_speed(prm, value), callback=_cb(on_change, node_id, prm.name))
    return ParamWidget(prm.name, prm.kind, tag, handlers=_drag_feel(tag, prm))


def _make_int(prm, value, node_id, parent, on_change, on_special, width):
    lo = int(prm.min) if prm.min is not None else -(2 ** 31)
    hi = int(prm.max) if prm.max is not None else 2 ** 31 - 1
    if prm.name == "feature_id" and on_special is not None:
        with dpg.group(horizontal=True, parent=parent):
            tag = dpg.add_input_int(default_value=int(value), min_value=lo, max_value=hi,
                                    min_clamped=True, max_clamped=True, width=width - 34,
                                    label="", callback=_cb(on_change, node_id, prm.name, False))
            dpg.add_button(label="...", width=28,
                           callback=lambda: on_special("browse_features", node_id, prm.name))
        return ParamWidget(prm.name, prm.kind, tag, text_input=True)
    fmt = f"{prm.name} %d{_unit(prm)}"
    tag = dpg.add_drag_int(parent=parent, width=width, default_value=int(value),
                           min_value=lo, max_value=hi, clamped=True, format=fmt,
                           speed=drag_speed(prm, value), callback=_cb(on_change, node_id, prm.name))
    return ParamWidget(prm.name, prm.kind, tag, handlers=_drag_feel(tag, prm))


def _drag_feel(tag, prm: Param) -> int:
    """While the widget is dragged: speed by value (log params) and Shift (fine)."""
    def active(sender, app_data):
        if not dpg.does_item_exist(tag):
            return
        fine = dpg.is_key_down(dpg.mvKey_LShift) or dpg.is_key_down(dpg.mvKey_RShift)
        speed = drag_speed(prm, dpg.get_value(tag), fine=fine)
        if speed != feel[0]:
            feel[0] = speed
            dpg.configure_item(tag, speed=speed)

    feel = [drag_speed(prm, dpg.get_value(tag))]
    with dpg.item_handler_registry() as reg:
        dpg.add_item_active_handler(callback=active)
    dpg.bind_item_handler_registry(tag, reg)
    return reg


def _make_bool(prm, value, node_id, parent, on_change, on_special, width):
    tag = dpg.add_checkbox(parent=parent, label=prm.name, default_value=bool(value),
                           callback=_cb(on_change, node_id, prm.name, False))
    return ParamWidget(prm.name, prm.kind, tag)


def _make_choice(prm, value, node_id, parent, on_change, on_special, width):
    tag = dpg.add_combo(list(prm.choices), parent=parent, default_value=str(value),
                        width=width - 8 * min(len(prm.name), 10), label=prm.name,
                        callback=_cb(on_change, node_id, prm.name, False))
    return ParamWidget(prm.name, prm.kind, tag)


def _make_text(prm, value, node_id, parent, on_change, on_special, width):
    multiline = prm.name == "text"  # comments and long prompts
    tag = dpg.add_input_text(parent=parent, default_value=str(value or ""), hint=prm.name,
                             width=width + (70 if multiline else 0),
                             height=64 if multiline else 0, multiline=multiline,
                             on_enter=not multiline,
                             callback=_commit(on_change, node_id, prm.name) if not multiline else None)
    handlers = _commit_on_leave(tag, on_change, node_id, prm.name)
    if prm.kind == "path" and on_special is not None:
        dpg.add_button(parent=parent, label=f"choose {prm.name}...",
                       callback=lambda: on_special("choose_path", node_id, prm.name))
    return ParamWidget(prm.name, prm.kind, tag, text_input=True, handlers=handlers)


def _commit(on_change: OnChange, node_id: str, name: str):
    def callback(sender, app_data, user_data=None):
        on_change(node_id, name, dpg.get_value(sender), None)
    return callback


def _commit_on_leave(tag, on_change, node_id, name) -> int:
    with dpg.item_handler_registry() as reg:
        dpg.add_item_deactivated_after_edit_handler(callback=lambda s, a: on_change(
            node_id, name, dpg.get_value(tag), None))
    dpg.bind_item_handler_registry(tag, reg)
    return reg


def _make_mask(prm, value, node_id, parent, on_change, on_special, width):
    tag = dpg.add_button(parent=parent, label="mask - paint", width=width,
                         callback=lambda: on_special and on_special("paint_mask", node_id, prm.name))
    w = ParamWidget(prm.name, prm.kind, tag)
    w.show(value)
    return w


_MAKERS = {
    "float": _make_float,
    "int": _make_int,
    "bool": _make_bool,
    "choice": _make_choice,
    "text": _make_text,
    "path": _make_text,
    "mask": _make_mask,
}


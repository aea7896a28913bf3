"""The perform panel (Max's presentation mode): pinned params, large controls.

Pins live in the patch (`meta.perform`: [[node_id, param], ...]), so a show
opens with its panel. In perform mode the panel floats at the right edge,
over the output: a tall vertical fader per number, a big toggle per bool,
a combo per choice. They edit through EditorModel.set_param like any widget
(a drag is one undo step), so pinned params are MIDI-learnable: arm Learn,
move a pinned fader, move the hardware control.
"""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from graph_runtime.control.mapping import default_range

MAX_PINS = 16
FADER_H = 320
PANEL_W = 96  # per pin


def pins_of(patch) -> list[tuple[str, str]]:
    raw = patch.meta.get("perform", [])
    if not isinstance(raw, list):
        return []
    return [(p[0], p[1]) for p in raw[:MAX_PINS]
            if isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)]


class PerformPanel:
    def __init__(self, app, session) -> None:
        self.app, self.session = app, session
        self.window: int | None = None
        self.widgets: dict[tuple[str, str], int] = {}
        self._built_for: object = None

    def build(self) -> None:
        with dpg.window(label="perform", show=False, no_collapse=True, no_saved_settings=True,
                        no_close=True, height=FADER_H + 130) as self.window:
            self.cue = dpg.add_text("", color=(245, 190, 60, 255))  # "next: drop in 3 beats"
            self.row = dpg.add_group(horizontal=True)

    # -- pins (undoable: they are part of the patch) ----------------------------------------
    def pin(self, node: str, param: str) -> str | None:
        def edit(patch):
            pins = [list(p) for p in pins_of(patch) if tuple(p) != (node, param)]
            if len(pins) >= MAX_PINS:
                raise ValueError(f"the perform panel holds {MAX_PINS} params")
            patch.meta["perform"] = pins + [[node, param]]

        return self.app.model.apply(f"pin {node}.{param}", edit)[1]

    def unpin(self, node: str, param: str) -> str | None:
        def edit(patch):
            patch.meta["perform"] = [list(p) for p in pins_of(patch) if tuple(p) != (node, param)]

        return self.app.model.apply(f"unpin {node}.{param}", edit)[1]

    def pin_last(self) -> None:
        last = self.session.last_touched
        if last is None:
            self.app.status("warn", "touch a param in the node editor first, then pin it")
            return
        reason = self.pin(*last)
        self.app.status("error" if reason else "info", reason or f"pinned {'.'.join(last)}")

    # -- per frame ---------------------------------------------------------------------------
    def tick(self) -> None:
        if self.window is None:
            return
        pins = pins_of(self.app.model.patch)
        show = bool(self.app.output.performing and pins)
        if dpg.is_item_shown(self.window) != show:
            dpg.configure_item(self.window, show=show)
            if show:
                self._place(len(pins))
                dpg.focus_item(self.window)
        if not show:
            return
        if self._built_for != pins:
            self._rebuild(pins)
        cue = self.app.bar.cue_text(self.app.transport.time()) if getattr(
            self.app.bar, "cue_text", None) else ""
        if dpg.get_value(self.cue) != cue:
            dpg.set_value(self.cue, cue)
        model = self.app.model
        for (node, param), tag in self.widgets.items():
            if not dpg.is_item_active(tag):
                value = model.param_value(node, param)
                if value is not None and dpg.get_value(tag) != value:
                    dpg.set_value(tag, value)

    def _place(self, n: int) -> None:
        vw = dpg.get_viewport_client_width()
        w = max(PANEL_W * n + 24, 160)
        dpg.configure_item(self.window, pos=[max(0, vw - w - 12), 40], width=w)

    def _rebuild(self, pins: list[tuple[str, str]]) -> None:
        self._built_for = list(pins)
        dpg.delete_item(self.row, children_only=True)
        self.widgets.clear()
        for node, param in pins:
            cls = self.app.model.node_class(node)
            prm = cls.param(param) if cls is not None else None
            with dpg.group(parent=self.row, width=PANEL_W - 8):
                dpg.add_text(f"{node}\n{param}", wrap=PANEL_W - 8)
                if prm is None:
                    dpg.add_text("(gone)")
                    continue
                value = self.app.model.param_value(node, param)
                cb = self._setter(node, param)
                if prm.kind in ("float", "int"):
                    lo, hi = default_range(prm)
                    add = dpg.add_slider_float if prm.kind == "float" else dpg.add_slider_int
                    tag = add(vertical=True, height=FADER_H, width=PANEL_W - 16,
                              min_value=lo if prm.kind == "float" else int(lo),
                              max_value=hi if prm.kind == "float" else int(hi),
                              default_value=value, callback=cb)
                elif prm.kind == "bool":
                    tag = dpg.add_checkbox(label="on", default_value=bool(value), callback=cb)
                elif prm.kind == "choice":
                    tag = dpg.add_combo(prm.choices, default_value=value, callback=cb)
                else:
                    dpg.add_text(f"({prm.kind})")
                    continue
                self.widgets[(node, param)] = tag
                dpg.add_button(label="unpin", callback=lambda _s, _a, n=node, p=param: self.unpin(n, p))

    def _setter(self, node: str, param: str):
        def set_(sender, value):
            reason = self.app.model.set_param(node, param, value, merge=("perform", node, param))
            if reason:
                self.app.status("error", reason)
        return set_

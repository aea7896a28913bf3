"""Mask painter: paint where a feature acts, on the steered blocks' 16x16 grid.

Left button paints (at the brush level), right button erases, a drag is one
stroke and one undo step. Presets: floor, ceiling, center, fill, clear, and
invert. It edits the selected node's mask param (the Paint mask node's
`grid`; its `preset` switches to "custom"), through EditorModel.set_params,
so the edit recompiles and reaches the engine on the next frame.

Row 0 is the top of the image, as in FrameParams.
"""
from __future__ import annotations

from typing import Callable

import dearpygui.dearpygui as dpg

from graph_runtime.show.commands import EditorModel

from . import theme

N = 16
CELL = 15  # pixels per cell on screen
PRESETS = ("floor", "ceiling", "center", "fill", "clear")


def preset_cells(name: str) -> list[float]:
    """The node library's preset when it has it, else the same shapes here."""
    try:
        from hambajuba_nodes.mask import preset_cells as library

        return library(name)
    except (ImportError, ValueError):
        pass
    rows = {"floor": range(N // 2, N), "ceiling": range(0, N // 2),
            "center": range(N // 4, N - N // 4), "fill": range(N), "clear": range(0)}[name]
    return [1.0 if r in rows else 0.0 for r in range(N) for _ in range(N)]


def mask_param(model: EditorModel, node_id: str | None) -> str | None:
    """The name of the node's mask param, or None."""
    cls = model.node_class(node_id) if node_id else None
    if cls is None:
        return None
    for prm in cls.params:
        if prm.kind == "mask":
            return prm.name
    return None


class MaskPainter:
    def __init__(self, model: EditorModel, *, status: Callable[[str, str], None]) -> None:
        self.model = model
        self.status = status
        self.node: str | None = None
        self.cells: list[float] = [1.0] * (N * N)
        self.brush = 1.0
        self._rects: list[int] = []
        self._shown: list[float] = []
        self._stroke = 0
        self._painting = False
        self._last_cell: tuple[int, int] | None = None
        self.tags: dict[str, int] = {}

    # -- building -------------------------------------------------------------------
    def build(self, parent) -> None:
        t = self.tags
        with dpg.group(parent=parent):
            t["target"] = dpg.add_text("select a Paint mask node to paint its grid", color=theme.DIM)
            with dpg.group(horizontal=True):
                t["canvas"] = dpg.add_drawlist(width=N * CELL + 2, height=N * CELL + 2)
                with dpg.group():
                    for name in PRESETS + ("invert",):
                        dpg.add_button(label=name, width=90, user_data=name,
                                       callback=lambda s, a, u: self.apply_preset(u))
                    t["brush"] = dpg.add_slider_float(width=90, min_value=0.05, max_value=1.0,
                                                      default_value=1.0, format="brush %.2f",
                                                      callback=lambda s, a: setattr(self, "brush", a))
            dpg.add_text("left: paint   right: erase   row 0 = top of the image", color=theme.DIM)
        for r in range(N):
            for c in range(N):
                x, y = 1 + c * CELL, 1 + r * CELL
                self._rects.append(dpg.draw_rectangle((x, y), (x + CELL - 1, y + CELL - 1),
                                                      parent=t["canvas"], color=(60, 60, 72, 255),
                                                      fill=_colour(1.0)))
        self._shown = [1.0] * (N * N)
        with dpg.handler_registry():
            dpg.add_mouse_down_handler(button=dpg.mvMouseButton_Left, callback=lambda: self._mouse(True))
            dpg.add_mouse_down_handler(button=dpg.mvMouseButton_Right, callback=lambda: self._mouse(False))
            dpg.add_mouse_release_handler(callback=lambda: self.end_stroke())

    # -- target --------------------------------------------------------------------------
    def set_node(self, node_id: str | None) -> None:
        name = mask_param(self.model, node_id)
        self.node = node_id if name else None
        if self.tags:
            dpg.set_value(self.tags["target"], f"painting {node_id}.{name}" if self.node
                          else "select a Paint mask node to paint its grid")
        self.sync()

    def sync(self) -> None:
        """Show the target's grid as the model has it (after undo, preset, ...)."""
        if self.node is None or self.model.patch.node(self.node) is None:
            self.node = None
            return
        name = mask_param(self.model, self.node)
        preset = self.model.param_value(self.node, "preset")
        if isinstance(preset, str) and preset in PRESETS:
            cells = preset_cells(preset)
        else:
            cells = list(self.model.param_value(self.node, name) or [1.0] * (N * N))
        self.cells = [float(v) for v in cells]
        self._draw()

    # -- the handlers (mouse and buttons call these) ------------------------------------------
    def paint_cell(self, row: int, col: int, value: float) -> str | None:
        if self.node is None:
            return "no mask node selected"
        if not (0 <= row < N and 0 <= col < N):
            return None
        i = row * N + col
        if self.cells[i] == value:
            return None
        self.cells[i] = float(value)
        return self._commit(merge=("stroke", self.node, self._stroke))

    def apply_preset(self, name: str) -> str | None:
        if self.node is None:
            self.status("warn", "select a Paint mask node first")
            return "no mask node selected"
        if name == "invert":
            self.cells = [1.0 - v for v in self.cells]
        else:
            self.cells = preset_cells(name)
        self.model.end_gesture()
        return self._commit(merge=None)

    def paint_line(self, a: tuple[int, int], b: tuple[int, int], value: float) -> None:
        """Every cell from a to b: a fast drag skips cells between two frames."""
        (r0, c0), (r1, c1) = a, b
        n = max(abs(r1 - r0), abs(c1 - c0), 1)
        for k in range(n + 1):
            self.paint_cell(round(r0 + (r1 - r0) * k / n), round(c0 + (c1 - c0) * k / n), value)

    def end_stroke(self) -> None:
        self._last_cell = None
        if self._painting:
            self._painting = False
            self._stroke += 1
            self.model.end_gesture()

    def _commit(self, merge) -> str | None:
        name = mask_param(self.model, self.node)
        values = {name: list(self.cells)}
        cls = self.model.node_class(self.node)
        prm = cls.param("preset") if cls else None
        if prm is not None and "custom" in prm.choices:
            values["preset"] = "custom"
        reason = self.model.set_params(self.node, values, merge=merge)
        if reason:
            self.status("error", reason)
        self._draw()
        return reason

    def _mouse(self, paint: bool) -> None:
        canvas = self.tags.get("canvas")
        if canvas is None or self.node is None or not dpg.is_item_hovered(canvas):
            return
        x, y = dpg.get_drawing_mouse_pos()
        cell = (int((y - 1) // CELL), int((x - 1) // CELL))
        self._painting = True
        self.paint_line(self._last_cell or cell, cell, self.brush if paint else 0.0)
        self._last_cell = cell

    def _draw(self) -> None:
        if not self._rects:
            return
        for i, v in enumerate(self.cells):
            if self._shown[i] != v:
                self._shown[i] = v
                dpg.configure_item(self._rects[i], fill=_colour(v))


def _colour(v: float):
    lo, hi = (30, 30, 38), (205, 110, 240)
    return tuple(int(a + (b - a) * v) for a, b in zip(lo, hi)) + (255,)

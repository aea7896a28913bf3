"""Where things are on the node editor's canvas, as the view sees it.

A mixin of NodeEditorView (node_editor.py): screen <-> patch coordinates
(measured off a drawn node: Dear PyGui does not expose the editor's own
panning), the visible area, the view's own pan (canvas_view.py says why),
fit to view, scrolling new nodes into view, free space for a new node, and
whether the mouse is over the canvas.
"""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from . import canvas_view


class CanvasGeometry:
    def grid_offset(self) -> tuple[float, float]:
        """screen = grid + offset: measured from any drawn node (the editor's
        panning is not exposed, so it is read off a node's rectangle)."""
        for items in self._nodes.values():
            state = dpg.get_item_state(items.tag)
            rect = state.get("rect_min")
            if rect and state.get("visible", True) and (rect[0] or rect[1]):
                return rect[0] - items.pos[0], rect[1] - items.pos[1]
        if self.editor is not None:  # no node drawn yet: the canvas is not panned
            pos = dpg.get_item_state(self.area).get("pos") or (0, 0)
            return float(pos[0]), float(pos[1])
        return 0.0, 0.0

    def screen_to_grid(self, x: float, y: float) -> tuple[float, float]:
        ox, oy = self.grid_offset()
        return x - ox, y - oy

    def visible_box(self) -> canvas_view.Box:
        """The canvas area on screen, in patch coordinates."""
        state = dpg.get_item_state(self.area)
        (x0, y0), (w, h) = state.get("pos") or (0, 0), state.get("rect_size") or (600, 400)
        gx, gy = self.screen_to_grid(x0, y0)
        return gx, gy, gx + w, gy + h

    def node_boxes(self, skip=()) -> list[canvas_view.Box]:
        """Each drawn node's box in patch coordinates (its drawn size, or a default)."""
        out = []
        for nid, items in self._nodes.items():
            if nid in skip:
                continue
            w, h = dpg.get_item_rect_size(items.tag) or (0, 0)
            w, h = (w or canvas_view.NODE_W), (h or canvas_view.NODE_H)
            out.append((items.pos[0], items.pos[1], items.pos[0] + w, items.pos[1] + h))
        return out

    def free_spot(self, size: tuple[float, float] = (canvas_view.NODE_W, canvas_view.NODE_H)) \
            -> tuple[float, float]:
        """Where a new node goes when the user did not say: free and visible if
        there is room, else below the patch (and then scrolled into view)."""
        if self.editor is None:
            return (100.0, 100.0)
        taken, visible = self.node_boxes(), self.visible_box()
        return canvas_view.free_spot(taken, visible, size) or canvas_view.below(taken, visible)

    def set_pan(self, pan: tuple[float, float]) -> None:
        """Move the drawing (not the patch): every node at its position + pan."""
        self.pan = (float(round(pan[0])), float(round(pan[1])))  # whole px: positions read back as ints
        for items in self._nodes.values():
            dpg.set_item_pos(items.tag, [items.pos[0] + self.pan[0], items.pos[1] + self.pan[1]])
        self._place_ghosts()

    def fit_to_view(self) -> bool:
        """Show the whole patch (centred where it fits, from its top-left where
        it does not: the editor cannot zoom). False when there is nothing to fit."""
        box = canvas_view.bounds(self.node_boxes())
        if box is None or self.editor is None:
            return False
        dx, dy = canvas_view.fit_shift(box, self.visible_box())
        if dx or dy:
            self.set_pan((self.pan[0] + dx, self.pan[1] + dy))
        return True

    def reveal(self, node_ids: list[str]) -> None:
        """Scroll so these nodes are on screen (after they are drawn)."""
        self._reveal = list(node_ids)

    def tick(self) -> None:
        """Once a frame (cheap): fit or reveal when a draw has measured the nodes."""
        if self._fit_pending:
            self._fit_pending -= 1
            if self._fit_pending == 0:
                self.fit_to_view()
        elif self._reveal:
            ids, self._reveal = [n for n in self._reveal if n in self._nodes], []
            box = canvas_view.bounds([b for n in ids for b in self._boxes_of(n)])
            if box is not None:
                dx, dy = canvas_view.reveal_shift(box, self.visible_box())
                if dx or dy:
                    self.set_pan((self.pan[0] + dx, self.pan[1] + dy))

    def _boxes_of(self, nid: str) -> list[canvas_view.Box]:
        items = self._nodes[nid]
        w, h = dpg.get_item_rect_size(items.tag) or (0, 0)
        return [(items.pos[0], items.pos[1], items.pos[0] + (w or canvas_view.NODE_W),
                 items.pos[1] + (h or canvas_view.NODE_H))]

    def view_centre(self) -> tuple[float, float]:
        if self.editor is None:
            return (100.0, 100.0)
        state = dpg.get_item_state(self.area)
        (x0, y0), (w, h) = state.get("pos") or (0, 0), state.get("rect_size") or (600, 400)
        return self.screen_to_grid(x0 + w / 2 - 80, y0 + h / 2 - 60)

    def hovered(self) -> bool:
        """The mouse is over the canvas (the editor reports no hover state of
        its own, so this is geometry: its child window's position and size)."""
        if self.editor is None:
            return False
        state = dpg.get_item_state(self.area)
        (x0, y0), (w, h) = state.get("pos", (0, 0)), state.get("rect_size", (0, 0))
        mx, my = dpg.get_mouse_pos(local=False)
        return x0 <= mx < x0 + w and y0 <= my < y0 + h


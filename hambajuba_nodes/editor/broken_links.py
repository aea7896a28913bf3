"""Stand-ins for what a broken link names: a mixin of NodeEditorView.

A link in the file whose node or port the patch lacks is still drawn (red,
selectable, deletable): to a red pin "? port (missing)" added to the node
when the node exists, else to a stand-in node "missing node 'x'" that is
not part of the patch, placed up and to the side of the node at the link's
other end. Stand-ins no broken link uses any more are removed.
"""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from . import theme


class BrokenLinks:
    def _ghost_pin(self, nid: str, port: str, side: str, other: str) -> int:
        """A red pin for a port the patch lacks: on the node if it exists, else
        on a stand-in node beside the link's other end."""
        key = (nid, port, side)
        if key in self._ghost_pins:
            return self._ghost_pins[key]
        items = self._nodes.get(nid)
        parent = items.tag if items is not None else self._ghost_node(nid, other, side)
        kind = dpg.mvNode_Attr_Output if side == "out" else dpg.mvNode_Attr_Input
        with dpg.node_attribute(parent=parent, attribute_type=kind) as attr:
            dpg.add_text(f"? {port} (missing)", color=theme.ERROR)
        self._ghost_pins[key] = attr
        return attr

    def _ghost_node(self, nid: str, other: str, side: str) -> int:
        if nid in self._ghost_nodes:
            return self._ghost_nodes[nid]
        tag = dpg.add_node(label=f"missing node '{nid}'", parent=self.editor, user_data=None)
        with dpg.node_attribute(parent=tag, attribute_type=dpg.mvNode_Attr_Static):
            dpg.add_text("not in the patch: select the red\nlink and press Delete", color=theme.ERROR)
        dpg.bind_item_theme(tag, self.themes.error_node)
        self._ghost_nodes[nid] = tag
        self._ghost_near[nid] = (other, side)
        self._place_ghosts()
        return tag

    def _place_ghosts(self) -> None:
        for nid, tag in self._ghost_nodes.items():
            other, side = self._ghost_near.get(nid, ("", "out"))
            items = self._nodes.get(other)
            x, y = items.pos if items is not None else (0.0, 0.0)
            # up and to the side of the node it links to: the red link stays long enough to click
            x, y = x + (-320.0 if side == "out" else 320.0), y - 180.0
            dpg.set_item_pos(tag, [x + self.pan[0], y + self.pan[1]])

    def _drop_ghosts(self) -> None:
        """Stand-ins no broken link uses any more go (their links are gone already)."""
        used = {(l.src[0], l.src[1], "out") for l in self.broken} | \
               {(l.dst[0], l.dst[1], "in") for l in self.broken}
        for key in [k for k in self._ghost_pins if k not in used]:
            tag = self._ghost_pins.pop(key)
            if dpg.does_item_exist(tag):
                dpg.delete_item(tag)
        nodes = {k[0] for k in used}
        for nid in [n for n in self._ghost_nodes if n not in nodes or n in self._nodes]:
            tag = self._ghost_nodes.pop(nid)
            self._ghost_near.pop(nid, None)
            for key in [k for k in self._ghost_pins if k[0] == nid and nid not in self._nodes]:
                self._ghost_pins.pop(key)
            if dpg.does_item_exist(tag):
                dpg.delete_item(tag)


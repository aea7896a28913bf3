"""The add-node menu: every registered node type, found by name or family.

Opened by right-clicking the canvas (or Tab over it, or the "Add" menu);
typing filters by every word against type id, title, family and doc;
Enter or a click places the first / chosen type where the menu was opened.
`matches` is pure and tested without a window.
"""
from __future__ import annotations

from typing import Callable

import dearpygui.dearpygui as dpg

from graph_runtime.graph.node import Registry


def entries(registry: Registry) -> list[tuple[str, str, str, str]]:
    """(family, title, type_id, doc) for every type, grouped by family."""
    out = [(c.family or c.type_id.split(".")[0], c.title or c.type_id, c.type_id, c.doc or "")
           for c in registry]
    return sorted(out, key=lambda e: (e[0], e[1].lower()))


def matches(registry: Registry, query: str) -> list[tuple[str, str, str, str]]:
    """Entries containing every word of `query`; title hits rank first."""
    words = query.lower().split()
    found = []
    for e in entries(registry):
        family, title, type_id, doc = e
        head = f"{title} {type_id} {family}".lower()
        if all(w in head or w in doc.lower() for w in words):
            rank = 0 if all(w in head for w in words) else 1
            found.append((rank, e))
    return [e for _, e in sorted(found, key=lambda r: r[0])]


class AddNodeMenu:
    def __init__(self, registry: Registry, on_pick: Callable[[str, tuple[float, float]], None]) -> None:
        self.registry = registry
        self.on_pick = on_pick
        self.window = None
        self.search = None
        self.list = None
        self.at: tuple[float, float] = (0.0, 0.0)
        self._first: str | None = None

    def build(self) -> None:
        with dpg.window(label="Add node", show=False, width=340, height=380, no_collapse=True,
                        no_saved_settings=True) as self.window:
            self.search = dpg.add_input_text(hint="search nodes: name, family, what it does",
                                             width=-1, callback=self._refresh, on_enter=False)
            self.list = dpg.add_child_window(height=-1, border=False)
        self._refresh()

    def build_menu(self, parent) -> None:
        """The menu-bar version: one submenu per family."""
        families: dict[str, list] = {}
        for family, title, type_id, _doc in entries(self.registry):
            families.setdefault(family, []).append((title, type_id))
        for family, items in families.items():
            with dpg.menu(label=family, parent=parent):
                for title, type_id in items:
                    dpg.add_menu_item(label=f"{title}  ({type_id})", user_data=type_id,
                                      callback=lambda s, a, u: self.on_pick(u, None))

    def open(self, at: tuple[float, float], screen: tuple[float, float] | None = None) -> None:
        """Show the menu; the chosen node goes to grid position `at`."""
        self.at = at
        dpg.set_value(self.search, "")
        self._refresh()
        if screen is not None:
            dpg.set_item_pos(self.window, [int(screen[0]), int(screen[1])])
        dpg.show_item(self.window)
        dpg.focus_item(self.search)

    def close(self) -> None:
        if self.window is not None:
            dpg.hide_item(self.window)

    @property
    def is_open(self) -> bool:
        return self.window is not None and dpg.is_item_shown(self.window)

    def pick_first(self) -> None:
        if self._first is not None:
            self._pick(None, None, self._first)

    def _pick(self, sender, app_data, type_id: str) -> None:
        self.close()
        self.on_pick(type_id, self.at)

    def _refresh(self, *args) -> None:
        dpg.delete_item(self.list, children_only=True)
        query = dpg.get_value(self.search) or ""
        found = matches(self.registry, query)
        self._first = found[0][2] if found else None
        family = None
        for fam, title, type_id, doc in found:
            if fam != family:
                family = fam
                dpg.add_text(fam, parent=self.list, color=(150, 150, 170, 255))
            item = dpg.add_selectable(label=f"  {title}", parent=self.list, user_data=type_id,
                                      callback=self._pick)
            if doc:
                with dpg.tooltip(item):
                    dpg.add_text(f"{type_id}\n{doc}", wrap=300)
        if not found:
            dpg.add_text("no node type matches", parent=self.list)

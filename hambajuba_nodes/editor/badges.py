"""Binding badges on the node editor's param widgets: "[CC 21]" before the name,
and "[LEARN: move a control]" on the param Learn waits for, so the feedback is on
the node the performer is looking at, not only in the Control tab.

The node editor builds the widgets; this only prefixes their format (drags)
or label (checkboxes, combos) and puts the original back when the binding
goes. Widgets rebuilt by the editor come back plain and are badged again on
the next refresh (every REFRESH frames: a few dozen configure calls at most).
"""
from __future__ import annotations

import dearpygui.dearpygui as dpg

REFRESH = 15  # frames between refreshes
LEARN_BADGE = "[LEARN: move a control]"


class Badges:
    def __init__(self, view) -> None:
        self.view = view
        self._done: dict[int, tuple[str, str, str]] = {}  # tag -> (attribute, original, badge)
        self._frame = 0
        self._learning = None

    def tick(self, bindings, learning: tuple[str, str] | None = None) -> None:
        self._frame += 1
        if self._frame % REFRESH and learning == self._learning:
            return
        self._learning = learning  # a new learn target is badged at once
        want: dict[tuple[str, str], str] = {}
        for b in bindings:
            if not b.is_action:
                want[(b.node, b.param)] = f"[{b.describe()}]"
        if learning is not None:
            want[learning] = LEARN_BADGE
        seen = set()
        for nid, items in getattr(self.view, "_nodes", {}).items():
            for name, w in getattr(items, "params", {}).items():
                tag = w.tag
                if not dpg.does_item_exist(tag):
                    continue
                seen.add(tag)
                self._show(tag, want.get((nid, name)))
        for tag in [t for t in self._done if t not in seen]:
            del self._done[tag]  # the widget is gone with its node

    def _show(self, tag: int, badge: str | None) -> None:
        done = self._done.get(tag)
        if done is not None and done[2] == badge:
            return
        if done is not None:  # put the original back first
            attr, original, _ = done
            dpg.configure_item(tag, **{attr: original})
            del self._done[tag]
        if badge is None:
            return
        cfg = dpg.get_item_configuration(tag)
        attr = "format" if "%" in str(cfg.get("format", "")) else "label"
        original = str(cfg.get(attr, "") or "")
        dpg.configure_item(tag, **{attr: f"{badge} {original}"})
        self._done[tag] = (attr, original, badge)

    def badge_of(self, tag: int) -> str | None:
        done = self._done.get(tag)
        return done[2] if done else None

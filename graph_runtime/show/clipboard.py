"""Copy, cut, paste and duplicate: the clipboard commands of the EditorModel.

A mixin of EditorModel (commands.py): it uses the model's patch, undo
checkpoint and change notification. The clipboard is plain JSON data
(nodes with their params and positions, the links among them), detached
from the document, so it can also travel as text to another window.
"""
from __future__ import annotations

import copy
import json
from typing import Iterable

from .changes import Change

PASTE_OFFSET = (40.0, 40.0)


class ClipboardCommands:
    def copy(self, node_ids: Iterable[str]) -> int:
        """Copy nodes and the links among them; returns how many nodes."""
        ids = [n for n in dict.fromkeys(node_ids) if self.patch.node(n) is not None]
        if not ids:
            return 0
        keep = set(ids)
        self.clipboard = {
            "nodes": [self.patch.node(n).to_json() for n in ids],
            "links": [l.to_json() for l in self.patch.links
                      if l.src[0] in keep and l.dst[0] in keep],
        }
        self.clipboard = json.loads(json.dumps(self.clipboard))  # detached, plain data
        return len(ids)

    def clipboard_text(self) -> str:
        return json.dumps(self.clipboard or {}, sort_keys=True)

    def cut(self, node_ids: Iterable[str]) -> int:
        ids = list(node_ids)
        n = self.copy(ids)
        if n:
            self.delete(ids)
        return n

    def paste(self, at: tuple[float, float] | None = None, clip: dict | None = None) -> list[str]:
        """Insert the clipboard with fresh ids; links among the pasted nodes are
        kept. `at` puts the pasted group's top-left corner there, else it is
        offset from the originals. Returns the new ids (also the selection)."""
        clip = clip if clip is not None else self.clipboard
        nodes = [n for n in (clip or {}).get("nodes", []) if isinstance(n, dict)]
        if not nodes:
            return []
        xs = [float(n.get("pos", [0, 0])[0]) for n in nodes]
        ys = [float(n.get("pos", [0, 0])[1]) for n in nodes]
        dx, dy = PASTE_OFFSET if at is None else (at[0] - min(xs), at[1] - min(ys))
        self._checkpoint("paste")
        new_ids: dict[str, str] = {}
        for n in nodes:
            type_id = str(n.get("type", ""))
            pos = n.get("pos", [0, 0])
            spec = self.patch.add_node(type_id, copy.deepcopy(n.get("params", {})),
                                       (float(pos[0]) + dx, float(pos[1]) + dy))
            new_ids[str(n.get("id"))] = spec.id
        for l in (clip or {}).get("links", []):
            try:
                (s, sp), (d, dp) = l["from"], l["to"]
            except (KeyError, TypeError, ValueError):
                continue
            if s in new_ids and d in new_ids:
                self.patch.connect((new_ids[s], sp), (new_ids[d], dp))
        self.selection = tuple(new_ids.values())
        self._changed(Change("structure", self.selection))
        return list(self.selection)

    def duplicate(self, node_ids: Iterable[str]) -> list[str]:
        """Copy + paste in one go, without touching the clipboard."""
        saved = self.clipboard
        try:
            if not self.copy(node_ids):
                return []
            return self.paste()
        finally:
            self.clipboard = saved


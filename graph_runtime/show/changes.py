"""Change: what an EditorModel command touched, so each view updates only that."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Change:
    """What a command touched, so views update only that.

    kind: "structure" (nodes or links added/removed), "params", "positions",
    "engine", "document" (a whole new patch: open, new, undo, redo).
    """

    kind: str
    nodes: tuple[str, ...] = ()
    params: tuple[str, ...] = ()  # kind "params": the names set (empty: any of the node's)

"""One agent param fade: a param on its way to a target over beats of the grid."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ParamFade:
    """One param on its way to `target`: switches or lerps from `start_t` (track s)
    over `beats` beats of the grid (0: a switch at start_t)."""

    node: str
    param: str
    target: Any
    start_t: float
    beats: float
    lerp: bool
    whole: bool = False
    started: bool = False
    start_pos: float = 0.0
    source: float = 0.0

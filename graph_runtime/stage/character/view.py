"""The character view in a render: `render --view character`.

Opened before anything heavy (a bad skin or a missing creature file is a
one-line error), prepared once the analysis is known, then per frame
`frame(rgba, t, dt)` returns the composed canvas that the encoder gets.

A render reads a snapshot of the creature and never writes it, so the same
inputs give the same frames: the sidecar records the snapshot's sha256,
which skin drew him, and the sync log (blink and widen times in track
seconds, per-frame orb values per stem).
"""
from __future__ import annotations

import hashlib
import os

from .compositor import Compositor
from .creature import Creature, open_snapshot
from .drive import SyncLog
from .skin import Skin, SkinError, load_skin

VIEWS = ("image", "character")
DEFAULT_CANVAS = (1280, 720)


class ViewError(Exception):
    """One line: what is wrong and where."""


class CharacterView:
    def __init__(self, skin: Skin, creature: Creature, source: str,
                 canvas: tuple[int, int] = DEFAULT_CANVAS) -> None:
        self.skin, self.creature, self.source = skin, creature, source
        self.canvas = canvas
        self.comp: Compositor | None = None
        self.log: SyncLog | None = None

    @classmethod
    def open(cls, skin: str | None, creature: str | None,
             canvas: tuple[int, int] = DEFAULT_CANVAS, say=print) -> "CharacterView":
        try:
            look = load_skin(skin)
        except SkinError as e:
            raise ViewError(str(e)) from None
        try:
            snap, warning = open_snapshot(creature)
        except FileNotFoundError as e:
            raise ViewError(str(e)) from None
        if warning:
            say(warning)
        source = creature if creature in (None, "fresh") else os.path.abspath(creature)
        return cls(look, snap, source or "user", canvas)

    def prepare(self, analysis, frames: int) -> None:
        self.comp = Compositor(self.skin, self.canvas[0], self.canvas[1], self.creature, analysis)
        self.log = SyncLog(frames)

    def preroll(self, t: float, dt: float) -> None:
        """Step without drawing or logging (a render from --start S equals one from the top)."""
        self.comp.drive.step(t, dt)

    def start(self) -> None:
        self.comp.drive.log = self.log

    def frame(self, rgba, t: float, dt: float):
        return self.comp.frame(rgba, t, dt)

    def sidecar(self) -> dict:
        with open(self.skin.path, "rb") as f:
            skin_sha = hashlib.sha256(f.read()).hexdigest()
        return {"view": "character", "canvas": list(self.canvas),
                "skin": {"name": self.skin.name, "path": self.skin.path, "sha256": skin_sha},
                "creature": {"source": self.source, "sha256": self.creature.sha256()},
                "character": self.log.sidecar() if self.log is not None else {}}

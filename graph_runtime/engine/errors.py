"""EngineError: the one error type at the engine's boundary.

Every failure a user can cause or fix (missing weights, a corrupt checkpoint,
a feature id out of range, a bad album-art file, CUDA out of memory) becomes
an EngineError whose text names the part and says what to do. The editor
catches this one type, shows the text, and keeps running.
"""
from __future__ import annotations

DOWNLOAD_COMMAND = "hambajuba models download"


class EngineError(Exception):
    """A clear, user-facing engine failure. `part` names what failed."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(f"{part}: {message}")
        self.part = part
        self.message = message

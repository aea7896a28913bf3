"""Where the shipped example patches live (the repository's patches/ folder)."""
from __future__ import annotations

from pathlib import Path

PATCHES = Path(__file__).resolve().parents[2] / "patches"
DEFAULT_PATCH = PATCHES / "default.patch"


def default_patch() -> str | None:
    return str(DEFAULT_PATCH) if DEFAULT_PATCH.exists() else None

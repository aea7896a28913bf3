"""Where the shipped example patches live."""
from __future__ import annotations

import os

PATCHES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                       "patches")


def default_patch() -> str | None:
    path = os.path.join(PATCHES, "default.patch")
    return path if os.path.exists(path) else None

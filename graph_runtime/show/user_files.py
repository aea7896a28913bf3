"""Where the user's own files go: the data folder (DESIGN.md section 3).

$XDG_DATA_HOME/hambajuba, or ~/.local/share/hambajuba when that is unset,
worked out from the environment each time (tests set HOME). Autosaves and
recovery files live under `autosave/`, keyed by the patch's absolute path,
never beside a shipped patch or inside the install.
"""
from __future__ import annotations

import hashlib
import os

UNTITLED = "untitled.autosave.patch"


def user_data_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "hambajuba")


def autosave_path(patch_path: str | None) -> str:
    """The autosave of the patch at `patch_path` (None: an untitled patch):
    `<data>/autosave/<name>-<12 hex of the absolute path>.patch.autosave`, so two
    `live.patch` files in different folders never share one."""
    folder = os.path.join(user_data_dir(), "autosave")
    if not patch_path:
        return os.path.join(folder, UNTITLED)
    full = os.path.abspath(os.path.expanduser(patch_path))
    key = hashlib.sha256(full.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    stem = os.path.splitext(os.path.basename(full))[0][:64] or "patch"
    return os.path.join(folder, f"{stem}-{key}.patch.autosave")

"""Files: new / open / save / save-as, recent files, autosave and recovery.

`Files` is the controller (no window calls; the app asks the questions).

* Saving is atomic (graph_runtime.graph.patch.save). Before every save the app
  records node positions from the canvas, so the file has the layout.
* A file that does not open (corrupt JSON, a newer version, not a patch)
  leaves the current document as it was and returns one line per problem.
  Unknown node types open as placeholders (the compiler names them).
* Every `autosave_every` seconds, when there are unsaved changes, the patch
  is written to a side file in the user's data folder, keyed by the patch's
  path (graph_runtime/show/user_files.py: never beside the patch, so never
  inside the install for a shipped one). A clean exit or a save removes it.
  Opening a patch whose side file is newer offers to recover it.
* Recent files (10) live in `<config>/recent.json`.

Config folder: $HAMBAJUBA_CONFIG, else $XDG_CONFIG_HOME/hambajuba, else
~/.config/hambajuba.
"""
from __future__ import annotations

import json
import os
import time
from typing import Callable

from graph_runtime.graph import patch as patch_io
from graph_runtime.graph.patch import Patch, PatchError
from graph_runtime.media.atomic import write_atomic

from .commands import EditorModel

AUTOSAVE_EVERY = 30.0  # seconds
RECENT_MAX = 10
SIDE_SUFFIX = ".autosave"
UNTITLED_SIDE = "untitled.autosave.patch"


def config_dir() -> str:
    env = os.environ.get("HAMBAJUBA_CONFIG")
    if env:
        return env
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "hambajuba")


class Files:
    def __init__(self, model: EditorModel, *, config: str | None = None,
                 autosave_every: float = AUTOSAVE_EVERY,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.model = model
        self.config = config or config_dir()
        self.autosave_every = float(autosave_every)
        self.now = now
        self.path: str | None = None
        self.recent: list[str] = self._read_recent()
        self._last_autosave = now()
        self._autosaved_revision = -1
        self.before_save: Callable[[], None] = lambda: None
        self.last_autosave_path: str | None = None

    # -- names ------------------------------------------------------------------------
    @property
    def title(self) -> str:
        name = os.path.basename(self.path) if self.path else "untitled.patch"
        return f"{name}{' *' if self.model.dirty else ''}"

    def side_path(self, path: str | None = None) -> str:
        """The autosave of `path` (default: the open patch) in the user's data folder."""
        from graph_runtime.show.user_files import autosave_path

        return autosave_path(path if path is not None else self.path)

    # -- documents --------------------------------------------------------------------------
    def new(self) -> None:
        self.model.replace(Patch())
        self.path = None

    def open(self, path: str) -> list[str]:
        """Open a patch; [] on success, else the problems (nothing changed)."""
        path = os.path.abspath(os.path.expanduser(os.fspath(path)))
        try:
            patch = patch_io.load(path)
        except PatchError as e:
            return e.problems
        self.model.replace(patch)
        self.path = path
        self._remember(path)
        return []

    def save(self) -> str | None:
        """Save to the current path; None when done, else why not.
        Returns "no path" for a new patch (ask for one, then save_as)."""
        if not self.path:
            return "no path"
        return self.save_as(self.path)

    def save_as(self, path: str) -> str | None:
        path = os.path.abspath(os.path.expanduser(os.fspath(path)))  # "~/show.patch" too
        if not path.endswith(".patch"):
            path += ".patch"
        self.before_save()
        try:
            patch_io.save(self.model.patch, path)
        except (OSError, ValueError) as e:
            return f"cannot save {path}: {getattr(e, 'strerror', None) or e}"
        old_side = self.side_path()
        self.path = path
        self.model.mark_saved()
        self._remember(path)
        for side in {old_side, self.side_path()}:
            _unlink(side)
        return None

    # -- autosave and recovery --------------------------------------------------------------------
    def tick(self) -> str | None:
        """Called every frame; writes the side file when due. Returns its path
        when it wrote one."""
        now = self.now()
        if now - self._last_autosave < self.autosave_every:
            return None
        self._last_autosave = now
        return self.autosave()

    def autosave(self) -> str | None:
        if not self.model.dirty or self._autosaved_revision == self.model.revision:
            return None
        side = self.side_path()
        try:
            os.makedirs(os.path.dirname(side), exist_ok=True)
            self.before_save()
            patch_io.save(self.model.patch, side)
        except (OSError, ValueError):
            return None  # autosave is best effort; the status bar is not spammed
        self._autosaved_revision = self.model.revision
        self.last_autosave_path = side
        return side

    def recovery_for(self, path: str | None) -> str | None:
        """A side file newer than the patch (or any, for untitled), else None."""
        side = self.side_path(path)
        if not os.path.exists(side):
            return None
        if path and os.path.exists(path) and os.path.getmtime(side) <= os.path.getmtime(path):
            return None
        return side

    def recover(self, side: str) -> list[str]:
        """Load the side file as the current document, unsaved (path unchanged)."""
        try:
            patch = patch_io.load(side)
        except PatchError as e:
            return e.problems
        self.model.replace(patch, saved=False)
        return []

    def discard_recovery(self, path: str | None = None) -> None:
        _unlink(self.side_path(path))

    def close(self) -> None:
        """A clean exit: the side file is not needed any more."""
        _unlink(self.side_path())

    # -- recent files ---------------------------------------------------------------------------
    def _remember(self, path: str) -> None:
        self.recent = [path] + [p for p in self.recent if p != path]
        self.recent = self.recent[:RECENT_MAX]
        try:
            os.makedirs(self.config, exist_ok=True)
            write_atomic(os.path.join(self.config, "recent.json"),
                         json.dumps(self.recent, indent=1))
        except OSError:
            pass

    def _read_recent(self) -> list[str]:
        try:
            with open(os.path.join(self.config, "recent.json"), encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            return []
        if not isinstance(data, list):
            return []
        return [p for p in data if isinstance(p, str) and len(p) < 4096][:RECENT_MAX]


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass

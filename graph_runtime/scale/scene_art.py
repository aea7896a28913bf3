"""Files a patch names (album art) travel to Ray workers as bytes.

No filesystem is shared with the workers: the driver reads each image the
control track's scenes name (once per job, bounded by the engine's own file
limit) and the worker writes it into a folder of its own, named by content,
under the file's own name (so the engine's messages name the user's file).
A file the driver cannot read travels as the reason; the worker then points
the scene at a path that does not exist, and the engine refuses that scene
there as it would here: noise and a warning, never an aborted render.

    arts = read_arts(track.scenes)          # driver: {path: bytes | reason}
    scenes = place_arts(scenes, arts)       # worker: paths into its own folder
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any

from graph_runtime.media.atomic import write_atomic

MAX_ART_BYTES = 200 << 20  # the engine refuses larger files anyway (latent_image.py)

_folder: str | None = None  # this worker process's art folder (made on first use)


def read_arts(scenes: list[dict[str, Any]]) -> dict[str, bytes | str]:
    """Every album-art path the scenes name -> its bytes, or why it cannot be read."""
    arts: dict[str, bytes | str] = {}
    for scene in scenes:
        path = scene.get("latent_image")
        if not isinstance(path, str) or path in arts:
            continue
        try:
            with open(path, "rb") as f:
                data = f.read(MAX_ART_BYTES + 1)
            arts[path] = data if len(data) <= MAX_ART_BYTES else \
                f"file is larger than {MAX_ART_BYTES >> 20} MB"
        except OSError as e:
            arts[path] = f"cannot read it ({e.strerror or e})"
    return arts


def place_arts(scenes: list[dict[str, Any]], arts: dict[str, bytes | str] | None) -> list[dict]:
    """Scene dicts whose album-art paths point into this worker's own folder."""
    if not arts:
        return scenes
    out = []
    for scene in scenes:
        path = scene.get("latent_image")
        if isinstance(path, str) and path in arts:
            scene = dict(scene, latent_image=_local_copy(path, arts[path]))
        out.append(scene)
    return out


def _local_copy(path: str, data: bytes | str) -> str:
    global _folder
    if _folder is None:
        _folder = tempfile.mkdtemp(prefix="hambajuba-ray-art-")
    name = os.path.basename(path) or "album-art"
    if isinstance(data, str):  # unreadable on the driver: a path that does not exist here
        return os.path.join(_folder, "unreadable", name)
    where = os.path.join(_folder, hashlib.sha256(data).hexdigest()[:32])
    local = os.path.join(where, name)
    if not os.path.exists(local):
        os.makedirs(where, exist_ok=True)
        write_atomic(local, data)
    return local

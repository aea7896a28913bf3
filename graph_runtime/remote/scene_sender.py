"""What scene the server holds, and the message that brings it up to date.

The client sends a scene before a frame only when the frame's Scene object or
version moved, or the link is new (a reconnected server knows nothing).
Album art is read here and travels as bytes (the server opens no path we
name), once per connection: later scenes name it by its sha256.
"""
from __future__ import annotations

import hashlib
import os

from graph_runtime.graph.frame import Scene

from . import protocol
from .protocol import ProtocolError


class SceneSender:
    def __init__(self) -> None:
        self.sent = 0                        # scene messages made (reconnections included)
        self._scene = None                   # the Scene object last sent (held: ids get reused)
        self._key = None                     # (its version, link id)
        self._arts_on_link: set[str] = set()
        self._art_cache: tuple | None = None  # (path, mtime_ns, size, bytes, sha256 hex)

    def new_link(self) -> None:
        self._arts_on_link = set()

    def message(self, scene: Scene, link_id: int) -> dict | None:
        """The scene message, or None when the server has this scene already.
        ProtocolError (once per scene: the server keeps the last good one) on unreadable art."""
        key = (scene.version, link_id)
        if scene is self._scene and key == self._key:
            return None
        self._scene, self._key = scene, key
        self.sent += 1
        msg = protocol.scene_to_wire(scene, None)
        art = self._art(scene.latent_image)
        if art is not None:
            data, sha = art
            msg["art_name"] = os.path.basename(str(scene.latent_image))[:100]  # for messages
            if sha in self._arts_on_link:
                msg["art_id"] = sha
            else:
                msg["art"] = data
                self._arts_on_link.add(sha)
        return msg

    def _art(self, path) -> tuple[bytes, str] | None:
        if path is None:
            return None
        try:
            st = os.stat(path)
            c = self._art_cache
            if c is not None and c[:3] == (str(path), st.st_mtime_ns, st.st_size):
                return c[3], c[4]
            if st.st_size > protocol.MAX_ART_BYTES:
                raise ProtocolError(f"album art {path} is {st.st_size >> 20} MB; at most "
                                    f"{protocol.MAX_ART_BYTES >> 20} MB travels to a remote engine")
            with open(path, "rb") as f:
                data = f.read(protocol.MAX_ART_BYTES + 1)
        except OSError as e:
            raise ProtocolError(f"album art {path}: cannot read it ({e.strerror})") from None
        sha = hashlib.sha256(data).hexdigest()
        self._art_cache = (str(path), st.st_mtime_ns, st.st_size, data, sha)
        return data, sha

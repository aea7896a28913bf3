"""The control track: every frame's FrameParams of a render, recorded in order.

Phase one of a distributed render runs the patch over the whole span on one
CPU (physics state flows frame to frame) and keeps what the engine would
have been handed each frame:

    vecs          (N, VEC_LEN) float32   the packed FrameParams vector per frame
    scene_frames  (K,) int64             local frame index where scene k takes over
    scenes        K scene dicts          (scene_codec), scene 0 at frame 0

Phase two renders any slice [a, b) of it on any worker: a worker needs only
vecs[a:b], the scene in force at a and the changes inside the slice. The file
is an .npz written atomically, loaded with allow_pickle=False; JSON parts are
stored as uint8 arrays.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from graph_runtime.graph.frame import VEC_LEN
from graph_runtime.media.atomic import write_atomic

from .scene_codec import scene_to_data

FORMAT = "hambajuba.controls"
VERSION = 1


@dataclass
class ControlTrack:
    fps: float
    first: int  # track frame index of vecs[0] (frame g shows t = g / fps)
    vecs: np.ndarray  # (N, VEC_LEN) float32
    scene_frames: np.ndarray  # (K,) int64, ascending, scene_frames[0] == 0
    scenes: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return int(self.vecs.shape[0])

    def scene_index(self, i: int) -> int:
        """Which scene is in force at local frame i."""
        return int(np.searchsorted(self.scene_frames, i, side="right") - 1)

    def slice(self, a: int, b: int) -> "ControlTrack":
        """Frames [a, b) as a track of their own (what one chunk needs)."""
        k0 = self.scene_index(a)
        k1 = self.scene_index(b - 1) + 1
        frames = np.maximum(self.scene_frames[k0:k1] - a, 0)
        return ControlTrack(self.fps, self.first + a, self.vecs[a:b], frames,
                            self.scenes[k0:k1], dict(self.meta, slice=[a, b]))

    # -- file ------------------------------------------------------------------
    def save(self, path: str) -> None:
        buf = io.BytesIO()
        np.savez(buf, vecs=self.vecs, scene_frames=self.scene_frames,
                 fps=np.float64(self.fps), first=np.int64(self.first),
                 scenes=_json_bytes(self.scenes), meta=_json_bytes(dict(self.meta, format=FORMAT,
                                                                       version=VERSION)))
        write_atomic(path, buf.getvalue())

    @classmethod
    def load(cls, path: str) -> "ControlTrack":
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes())
            if meta.get("format") != FORMAT:
                raise ValueError(f"{path}: not a hambajuba control track")
            if int(meta.get("version", 0)) > VERSION:
                raise ValueError(f"{path}: control track version {meta['version']} is newer than "
                                 f"this hambajuba reads ({VERSION}); update hambajuba")
            vecs = z["vecs"]
            if vecs.ndim != 2 or vecs.shape[1] != VEC_LEN or vecs.dtype != np.float32:
                raise ValueError(f"{path}: vecs must be (N, {VEC_LEN}) float32")
            return cls(float(z["fps"]), int(z["first"]), vecs, z["scene_frames"].astype(np.int64),
                       json.loads(z["scenes"].tobytes()), meta)


def _json_bytes(obj: Any) -> np.ndarray:
    return np.frombuffer(json.dumps(obj, sort_keys=True).encode("utf-8"), dtype=np.uint8)


def record(plan, *, first: int, count: int, fps: float,
           on_frame: Callable[[int, int], None] | None = None) -> ControlTrack:
    """Run `plan` from frame 0 (pre-roll, not kept) through first + count - 1,
    keeping frames [first, first + count): the same frames render() makes."""
    dt = 1.0 / fps
    for g in range(first):
        plan.run(g * dt, dt)
    vecs = np.empty((count, VEC_LEN), dtype=np.float32)
    scene_frames: list[int] = []
    scenes: list[dict] = []
    seen = None
    for i in range(count):
        frame = plan.run((first + i) * dt, dt)
        vecs[i] = frame.vec
        key = (id(frame.scene), frame.scene.version)
        if key != seen:  # a node touched the scene (new feature id, prompt, seed, image)
            seen = key
            scene_frames.append(i)
            scenes.append(scene_to_data(frame.scene))
        if on_frame is not None:
            on_frame(i, count)
    return ControlTrack(fps, first, vecs, np.asarray(scene_frames, dtype=np.int64), scenes)

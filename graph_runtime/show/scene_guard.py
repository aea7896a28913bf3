"""A Scene the engine refuses never stops the output.

The engine applies a Scene (feature ids, prompts, seeds, album art) when its
object or version changes, and raises when it cannot (an unreadable album
image, a feature id the SAE lacks). The engine worker hands it rotating
snapshot copies of one Scene, so the engine cannot tell "the one I refused"
from "a new one": it would re-apply and re-refuse it every frame and render
nothing; a headless render would abort on its first frame. The guard sits
in front of the engine (the window's engine thread, graph_runtime/render/loop.py):

    - a render that fails while a new Scene is applied, and succeeds with
      the last good Scene, is a refusal: that Scene (by version and content)
      is remembered with the reason, and the last good one is shown;
    - a snapshot of a remembered refused Scene is replaced by the last good
      Scene before the engine sees it (the same object every time: the
      engine applies it once and then just renders);
    - with no good Scene yet (a patch refused from its first frame), the
      refused one is tried without its album image, then also without its
      features: the plain noise destination, never a frozen window.

`refusal` is the reason the Scene now asked for is refused, or None; the
window shows it on the node and in Messages. A new version of the same
content (a recompile, the image param set again after fixing the file) is
tried again. The guard never changes a Scene; it picks which one the
engine gets. Imports numpy only; one thread uses a guard.
"""
from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import Any, Callable

import numpy as np

from graph_runtime.graph.frame import Scene

REMEMBERED = 32  # refused Scenes kept (each a few hundred bytes)


def scene_content(scene: Scene) -> tuple:
    """Everything the engine applies, without the version (hashable)."""
    return tuple(getattr(scene, f.name).tobytes() if f.name == "feature_ids"
                 else getattr(scene, f.name) for f in dataclasses.fields(scene) if f.name != "version")


class SceneGuard:
    def __init__(self, describe: Callable[[BaseException], str]) -> None:
        self.describe = describe
        self.refusal: str | None = None
        self.refused_count = 0
        self._refused: OrderedDict[tuple, str] = OrderedDict()  # (version, content) -> reason
        self._good: Scene | None = None
        self._good_content: tuple | None = None
        self._seen: Scene | None = None
        self._seen_key: tuple | None = None

    def scene_for(self, scene: Scene) -> Scene:
        """The Scene to hand the engine for this asked-for one: itself, or the
        last good one when it was refused before."""
        if scene is self._good:
            return scene
        reason = self._refused.get(self._key(scene))
        self.refusal = reason
        return self._good if reason is not None and self._good is not None else scene

    def failed(self, scene: Scene, render_with: Callable[[Scene], Any],
               error: BaseException) -> Any:
        """Rendering with `scene` raised `error`. If the Scene is to blame (a
        fallback renders), remember it and return that image; else None (a
        real error, for the caller to report)."""
        if scene is self._good or self._key(scene)[1] == self._good_content:
            return None  # the good Scene itself failed: not a refusal
        for fallback in self._fallbacks(scene):
            try:
                image = render_with(fallback)
            except Exception:
                continue
            self._remember(scene, self.describe(error))
            self.accepted(fallback)
            return image
        return None

    def accepted(self, scene: Scene) -> None:
        if scene is not self._good:
            self._good, self._good_content = scene, scene_content(scene)

    def _fallbacks(self, scene: Scene) -> list[Scene]:
        if self._good is not None:
            return [self._good]
        plain = dataclasses.replace(scene, latent_image=None, feature_ids=scene.feature_ids.copy())
        bare = dataclasses.replace(plain, feature_ids=np.full_like(scene.feature_ids, -1))
        return [plain, bare]

    def _remember(self, scene: Scene, reason: str) -> None:
        self._refused[self._key(scene)] = reason
        while len(self._refused) > REMEMBERED:
            self._refused.popitem(last=False)
        self.refusal = reason
        self.refused_count += 1

    def _key(self, scene: Scene) -> tuple:
        if scene is not self._seen:  # snapshots rotate a few objects; each is never mutated
            self._seen, self._seen_key = scene, (scene.version, scene_content(scene))
        return self._seen_key

"""Scene <-> plain JSON data, field by field (never pickle).

A Scene travels to Ray workers inside a control track, so it is written as
data: feature ids as nested int lists, prompts as text or nested
{"a", "b", "pos"} blends, seeds as ints, the album-art path as text.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graph_runtime.graph.frame import BLOCKS, SLOTS, PromptBlend, Scene

MAX_BLEND_DEPTH = 64  # nested prompt blends; a file saying more is refused


def _prompt_to_data(p: "str | PromptBlend") -> Any:
    if isinstance(p, PromptBlend):
        return {"a": _prompt_to_data(p.a), "b": _prompt_to_data(p.b), "pos": float(p.pos)}
    return str(p)


def _prompt_from_data(d: Any, depth: int = 0) -> "str | PromptBlend":
    if isinstance(d, str):
        return d
    if depth > MAX_BLEND_DEPTH or not isinstance(d, dict) or set(d) != {"a", "b", "pos"}:
        raise ValueError("scene prompt: expected text or a {a, b, pos} blend")
    return PromptBlend(_prompt_from_data(d["a"], depth + 1), _prompt_from_data(d["b"], depth + 1),
                       float(d["pos"]))


def scene_to_data(scene: Scene) -> dict[str, Any]:
    return {
        "version": int(scene.version),
        "feature_ids": np.asarray(scene.feature_ids, dtype=np.int64).tolist(),
        "prompt_a": _prompt_to_data(scene.prompt_a),
        "prompt_b": _prompt_to_data(scene.prompt_b),
        "seed_a": int(scene.seed_a),
        "seed_b": int(scene.seed_b),
        "latent_image": scene.latent_image,
    }


def scene_from_data(d: dict[str, Any]) -> Scene:
    ids = np.asarray(d["feature_ids"], dtype=np.int32)
    if ids.shape != (len(BLOCKS), SLOTS):
        raise ValueError(f"scene feature_ids: expected shape ({len(BLOCKS)}, {SLOTS})")
    image = d.get("latent_image")
    if image is not None and not isinstance(image, str):
        raise ValueError("scene latent_image: expected a path or null")
    return Scene(version=int(d["version"]), feature_ids=ids,
                 prompt_a=_prompt_from_data(d["prompt_a"]), prompt_b=_prompt_from_data(d["prompt_b"]),
                 seed_a=int(d["seed_a"]), seed_b=int(d["seed_b"]), latent_image=image)

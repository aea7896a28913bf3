"""Applying a Scene: the rare, expensive per-frame changes, done only on change.

When Scene.version moves, the engine compares each part with what it last
applied and redoes only what differs:

    feature id of a (block, slot)  -> copy that decoder column into the
                                      block's direction buffer (tier 1)
    prompt A or B                  -> encode (cached) and copy the embeddings
    seed A or B                    -> draw that noise and copy it
    album-art path                 -> load, encode with TAESD, copy the latent

A scene is checked whole before anything is written, so a bad one (feature
id out of range, unreadable image, ...) raises EngineError and leaves the
engine showing the previous scene.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from graph_runtime.graph.frame import BLOCKS, SLOTS, Scene

from .errors import EngineError
from .generate import Generator
from .latent_image import encode_image
from .noise import seeded_noise
from .prompts import PromptEncoder
from .steering import SteeredBlock

_UNSET = object()
MAX_CACHED_IMAGES = 8


def check_feature_ids(ids, n_features: int) -> np.ndarray:
    """(len(BLOCKS), SLOTS) ints, each -1 (empty) or a feature id in range."""
    arr = np.asarray(ids)
    if arr.shape != (len(BLOCKS), SLOTS) or arr.dtype.kind not in "iu":
        raise EngineError("scene.feature_ids", f"expected integers of shape ({len(BLOCKS)}, {SLOTS}), "
                          f"got {arr.dtype} {arr.shape}")
    for b, s in zip(*np.nonzero((arr < -1) | (arr >= n_features))):
        raise EngineError(f"block {BLOCKS[b]} slot {s}", f"feature id {int(arr[b, s])} out of range "
                          f"0..{n_features - 1} (-1 = empty slot)")
    return arr.astype(np.int64)


def check_seed(seed, name: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise EngineError(f"scene.{name}", f"a seed is an integer, got {seed!r}")
    return int(seed)


class SceneState:
    """What the engine's buffers currently hold, and how to change it."""

    def __init__(self, gen: Generator, steered: dict[str, SteeredBlock],
                 decoders: dict[str, torch.Tensor], prompts: PromptEncoder, n_features: int) -> None:
        self.gen, self.steered, self.decoders = gen, steered, decoders  # decoders: (C, F) on device
        self.prompts, self.n_features = prompts, n_features
        self.version: int | None = None
        self.prompt_keys = [_UNSET, _UNSET]
        self.seeds = [None, None]
        self.image_path = _UNSET
        self._images: dict[tuple, torch.Tensor] = {}

    @property
    def has_image(self) -> bool:
        return self.image_path is not None and self.image_path is not _UNSET

    @torch.no_grad()
    def apply(self, scene: Scene) -> None:
        """Check everything, then write only what changed. EngineError on a bad scene."""
        ids = check_feature_ids(scene.feature_ids, self.n_features)
        seeds = [check_seed(scene.seed_a, "seed_a"), check_seed(scene.seed_b, "seed_b")]
        prompts = [self._resolve_if_new(i, p) for i, p in enumerate((scene.prompt_a, scene.prompt_b))]
        latent = self._latent_if_new(scene.latent_image)
        self._write_features(ids)
        self._write_prompts(prompts, (scene.prompt_a, scene.prompt_b))
        self._write_seeds(seeds)
        if latent is not None:
            self.gen.image_latent.copy_(latent[1])
            self.image_path = latent[0]
        self.version = scene.version

    def _write_features(self, ids: np.ndarray) -> None:
        for b, name in enumerate(BLOCKS):
            block = self.steered[name]
            for s in range(SLOTS):
                fid = int(ids[b, s])
                if fid != block.feature_ids[s]:      # tier 1: only a changed id copies
                    block.set_feature(s, fid, None if fid < 0 else self.decoders[name][:, fid])

    def _resolve_if_new(self, i: int, prompt):
        if self.prompt_keys[i] is not _UNSET and prompt == self.prompt_keys[i]:
            return None
        embeds, pooled = self.prompts.resolve(prompt)
        _check_shape(embeds, self.gen.prompt_a, "prompt embeddings")
        _check_shape(pooled, self.gen.pooled_a, "pooled prompt embedding")
        return embeds, pooled

    def _write_prompts(self, resolved, keys) -> None:
        targets = ((self.gen.prompt_a, self.gen.pooled_a), (self.gen.prompt_b, self.gen.pooled_b))
        for i, value in enumerate(resolved):
            if value is None:
                continue
            (embeds, pooled), (embeds_buf, pooled_buf) = value, targets[i]
            embeds_buf.copy_(embeds)
            pooled_buf.copy_(pooled)
            self.prompt_keys[i] = keys[i]

    def _write_seeds(self, seeds: list[int]) -> None:
        lat = self.gen.noise_a.shape[-1]
        for i, (buf, seed) in enumerate(((self.gen.noise_a, seeds[0]), (self.gen.noise_b, seeds[1]))):
            if seed != self.seeds[i]:
                # GPU SYNC (seed change only): H2D copy from pageable memory
                buf.copy_(seeded_noise(seed, lat))
                self.seeds[i] = seed

    def _latent_if_new(self, path) -> tuple | None:
        """(path, latent) when the album art changed, else None. Zero latent for no image."""
        if path == self.image_path:
            return None
        if path is None:
            return None, torch.zeros_like(self.gen.image_latent)
        if not isinstance(path, (str, Path)):
            raise EngineError("scene.latent_image", f"a file path or None, got {type(path).__name__}")
        key = _file_key(Path(path))
        if key not in self._images:
            if len(self._images) >= MAX_CACHED_IMAGES:
                self._images.pop(next(iter(self._images)))
            self._images[key] = encode_image(self.gen.vae, path, self.gen.size)
        return path, self._images[key]


def _file_key(path: Path) -> tuple:
    try:
        st = path.stat()
    except OSError as e:
        raise EngineError(f"latent image {path.name}", f"cannot read {path}: {e}") from None
    return str(path.resolve()), st.st_mtime_ns, st.st_size


def _check_shape(value: torch.Tensor, buf: torch.Tensor, what: str) -> None:
    if value.shape != buf.shape:
        raise EngineError("prompt", f"{what} have shape {tuple(value.shape)}, the UNet needs "
                          f"{tuple(buf.shape)}")

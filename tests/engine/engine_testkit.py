"""Helpers shared by the engine tests (imported by name: tests/engine is on sys.path)."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import torch

from graph_runtime.engine.sae import real_like_means
from graph_runtime.graph.frame import BLOCK_PATHS, NOISE_THETA, PROMPT_POS, FrameParams


def frame_with(feature_ids=None, strength=None, masks=None, prompt_a="", prompt_b="",
               pos=0.0, theta=0.0) -> FrameParams:
    """A fresh FrameParams (a new Scene object, so the engine applies it)."""
    frame = FrameParams()
    if feature_ids is not None:
        frame.scene.feature_ids[:] = feature_ids
    frame.scene.prompt_a, frame.scene.prompt_b = prompt_a, prompt_b
    frame.scene.touch()
    if strength is not None:
        frame.strength[:] = strength
    if masks is not None:
        frame.masks[:] = masks
    frame.vec[PROMPT_POS], frame.vec[NOISE_THETA] = pos, theta
    return frame


@torch.no_grad()
def x0_of(engine, frame: FrameParams) -> torch.Tensor:
    """The x0 latent of a frame (scene applied, vec loaded; no decode)."""
    engine.load(frame)
    return engine.generator.denoise(engine.frame).clone()


def image_of(engine, frame: FrameParams) -> np.ndarray:
    return engine.render(frame).copy()


def sae_folder(root: Path, block: str) -> Path:
    """The upstream folder name of a block's SAE."""
    return root / f"unet.{BLOCK_PATHS[block]}_k10_hidden5120_auxk256_bs4096_lr0.0001"


def save_as_if_on_cuda(tensor: torch.Tensor, path: Path) -> None:
    """torch.save, then record the storage location as cuda:0 (as a file saved on a GPU)."""
    torch.save(tensor, path)
    src = zipfile.ZipFile(path)
    entries = [(i.filename, src.read(i.filename)) for i in src.infolist()]
    src.close()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as dst:
        for name, data in entries:
            if name.endswith("data.pkl"):
                data = data.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
            dst.writestr(name, data)


def write_upstream_sae(folder: Path, d: int = 8, n: int = 32, seed: int = 0) -> dict:
    """One block's config.json, state_dict.pth and CUDA-tagged mean.pt, as sdxl-unbox wrote them."""
    folder.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    encoder = torch.randn(n, d, generator=g)
    decoder = encoder.T.clone()
    decoder = decoder.T.contiguous().T                       # column-major, as upstream stores it
    decoder /= decoder.norm(dim=0)
    state = {"encoder.weight": encoder, "decoder.weight": decoder, "pre_bias": torch.randn(d, generator=g),
             "latent_bias": torch.randn(n, generator=g),
             "stats_last_nonzero": torch.zeros(n, dtype=torch.long)}
    (folder / "config.json").write_text(json.dumps(
        {"n_dirs_local": n, "d_model": d, "k": 4, "auxk": 256, "dead_steps_threshold": 2441}))
    torch.save({"state_dict": state}, folder / "state_dict.pth")
    mean = real_like_means(n, generator=g)                  # about 10-50, as the real mean.pt
    save_as_if_on_cuda(mean, folder / "mean.pt")
    return {"decoder": decoder, "encoder": encoder, "mean": mean, "state": state}

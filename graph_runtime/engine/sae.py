"""Sparse autoencoders of the four steered blocks, in the sdxl-unbox format.

On disk (hub repo surokpro2/sdxl-saes, one folder per block, the files either
directly in it or in a `final/` subfolder):

    unet.<block path>_k10_hidden5120_auxk256_bs4096_lr0.0001/
        config.json     {"n_dirs_local": 5120, "d_model": 1280, "k": 10,
                         "auxk": 256, "dead_steps_threshold": ...}
        state_dict.pth  torch.save({"state_dict": {
                            "encoder.weight": (5120, 1280),
                            "decoder.weight": (1280, 5120), unit-norm columns,
                            "pre_bias": (1280,), "latent_bias": (5120,),
                            "stats_last_nonzero": (5120,) int64}})
        mean.pt         (5120,) mean activation per feature, saved from a
                        CUDA device: always loaded with map_location="cpu"

Feature f's steering direction is decoder.weight[:, f]. Everything is read
with weights_only=True (a checkpoint is data, never code), sizes are checked
against config.json before use, and every failure is an EngineError naming
the block and the file.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from graph_runtime.graph.frame import BLOCK_PATHS, BLOCKS

from .errors import DOWNLOAD_COMMAND, EngineError

SAE_SUFFIX = "_k10_hidden5120_auxk256_bs4096_lr0.0001"
SAE_FILES = ("config.json", "state_dict.pth", "mean.pt")
MAX_FEATURES = 1 << 16       # bounds checked before anything is allocated
MAX_WIDTH = 1 << 13
MAX_CONFIG_BYTES = 64 * 1024
MAX_CHECKPOINT_BYTES = 2 << 30
MAX_MEAN_BYTES = 8 << 20


@dataclass
class SAE:
    """One block's SAE, on the CPU in float32."""

    block: str                  # "down.2.1", ...
    k: int                      # TopK sparsity
    decoder: torch.Tensor       # (d_model, n_features), column f = feature f
    means: np.ndarray           # (n_features,) float32 mean activations
    encoder: torch.Tensor | None = None      # (n_features, d_model)
    pre_bias: torch.Tensor | None = None     # (d_model,)
    latent_bias: torch.Tensor | None = None  # (n_features,)
    repaired_means: int = 0     # non-finite means replaced by the median
    repaired_columns: int = 0   # non-finite decoder columns zeroed

    @property
    def d_model(self) -> int:
        return self.decoder.shape[0]

    @property
    def n_features(self) -> int:
        return self.decoder.shape[1]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """TopK codes of block updates x (..., d_model) -> (..., n_features)."""
        if self.encoder is None:
            raise EngineError(f"SAE {self.block}", "loaded without its encoder")
        pre = (x - self.pre_bias) @ self.encoder.T + self.latent_bias
        vals, idx = pre.topk(self.k, dim=-1)
        return torch.zeros_like(pre).scatter_(-1, idx, vals.relu())


def block_folder_name(block: str) -> str:
    """'down.2.1' -> 'unet.down_blocks.2.attentions.1_k10_hidden5120_...'."""
    return f"unet.{BLOCK_PATHS[block]}{SAE_SUFFIX}"


def find_block_folder(root: Path, block: str) -> Path | None:
    """The folder holding `block`'s files under root, in either layout."""
    base = Path(root) / block_folder_name(block)
    for folder in (base, base / "final"):
        if all((folder / name).is_file() for name in SAE_FILES):
            return folder
    return None


def load_saes(root: Path, *, width: int | None = None,
              keep_encoder: bool = False) -> dict[str, SAE]:
    """All four blocks' SAEs from root; `width` is the UNet's channel count."""
    saes = {}
    for block in BLOCKS:
        folder = find_block_folder(Path(root), block)
        if folder is None:
            raise EngineError(f"SAE {block}", f"no {block_folder_name(block)}/ with "
                              f"{', '.join(SAE_FILES)} under {root}; run `{DOWNLOAD_COMMAND}`")
        saes[block] = load_sae(folder, block, width=width, keep_encoder=keep_encoder)
    return saes


def load_sae(folder: Path, block: str, *, width: int | None = None,
             keep_encoder: bool = False) -> SAE:
    """Read one block's config.json, state_dict.pth and mean.pt."""
    folder = Path(folder)
    config = _read_config(folder / "config.json", block)
    _check_width(config_dims(config, f"SAE {block}", str(folder))[1], width,  # before any tensor
                 f"SAE {block}", str(folder))
    state = _torch_load(folder / "state_dict.pth", block, MAX_CHECKPOINT_BYTES)
    if not isinstance(state, dict) or not isinstance(state.get("state_dict"), dict):
        raise EngineError(f"SAE {block}", f"{folder / 'state_dict.pth'} has no 'state_dict' "
                          "dict; not an sdxl-unbox checkpoint")
    mean = _torch_load(folder / "mean.pt", block, MAX_MEAN_BYTES)
    return sae_from_state(block, config, state["state_dict"], mean, width=width,
                          keep_encoder=keep_encoder, where=str(folder))


def sae_from_state(block: str, config: dict, state: dict, mean, *, width: int | None = None,
                   keep_encoder: bool = False, where: str = "memory") -> SAE:
    """Check shapes against config (and the UNet width) and build an SAE."""
    part = f"SAE {block}"
    n, d, k = config_dims(config, part, where)
    _check_width(d, width, part, where)
    decoder = _tensor(state, "decoder.weight", (d, n), part, where)
    decoder, bad_cols = _repair_columns(decoder)
    means, bad_means = _repair_means(_as_means(mean, n, part, where))
    sae = SAE(block=block, k=k, decoder=decoder, means=means,
              repaired_means=bad_means, repaired_columns=bad_cols)
    if keep_encoder:
        sae.encoder = _tensor(state, "encoder.weight", (n, d), part, where)
        sae.pre_bias = _tensor(state, "pre_bias", (d,), part, where)
        sae.latent_bias = _tensor(state, "latent_bias", (n,), part, where)
    return sae


def config_dims(config: dict, part: str, where: str) -> tuple[int, int, int]:
    """(n_features, d_model, k) from config.json, each checked and bounded."""
    n, d, k = (_config_int(config, key, part, where) for key in ("n_dirs_local", "d_model", "k"))
    if not (0 < n <= MAX_FEATURES and 0 < d <= MAX_WIDTH and 0 < k <= n):
        raise EngineError(part, f"{where}: config n_dirs_local={n}, d_model={d}, k={k} out of range")
    return n, d, k


def _check_width(d_model: int, width: int | None, part: str, where: str) -> None:
    if width is not None and d_model != width:
        raise EngineError(part, f"{where}: checkpoint width d_model={d_model} but the UNet block "
                          f"has {width} channels (wrong checkpoint for this model)")


def _read_config(path: Path, block: str) -> dict:
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise EngineError(f"SAE {block}", f"{path} is too large for a config")
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise EngineError(f"SAE {block}", f"cannot read {path}: {e}") from None
    if not isinstance(config, dict):
        raise EngineError(f"SAE {block}", f"{path} is not a JSON object")
    return config


def _torch_load(path: Path, block: str, max_bytes: int):
    """torch.load with weights_only and map_location=cpu (mean.pt was saved on CUDA)."""
    part = f"SAE {block}"
    try:
        size = path.stat().st_size
    except OSError as e:
        raise EngineError(part, f"cannot read {path}: {e}") from None
    if size > max_bytes:
        raise EngineError(part, f"{path} is {size} bytes, more than {max_bytes} allowed")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # zip/pickle/EOF errors all mean the same to a user
        raise EngineError(part, f"{path} is corrupt or truncated, or not plain tensor data "
                          f"({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}); "
                          f"run `{DOWNLOAD_COMMAND}` again") from None


def _config_int(config: dict, key: str, part: str, where: str) -> int:
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise EngineError(part, f"{where}: config.json needs an integer '{key}', got {value!r}")
    return value


def _tensor(state: dict, key: str, shape: tuple, part: str, where: str) -> torch.Tensor:
    t = state.get(key)
    if not isinstance(t, torch.Tensor):
        raise EngineError(part, f"{where}: state_dict has no tensor '{key}'")
    if tuple(t.shape) != shape:
        raise EngineError(part, f"{where}: '{key}' has shape {tuple(t.shape)}, config says "
                          f"{shape} (wrong width or a mismatched checkpoint)")
    return t.detach().to(torch.float32).contiguous()


def _as_means(mean, n: int, part: str, where: str) -> np.ndarray:
    if not isinstance(mean, torch.Tensor) or mean.numel() != n:
        got = tuple(mean.shape) if isinstance(mean, torch.Tensor) else type(mean).__name__
        raise EngineError(part, f"{where}: mean.pt should be a ({n},) tensor, got {got}")
    return mean.detach().to(torch.float32).reshape(n).numpy().copy()


def _repair_means(means: np.ndarray) -> tuple[np.ndarray, int]:
    """Non-finite or non-positive means (seen upstream) -> the median, counted."""
    bad = ~(np.isfinite(means) & (means > 0))
    if bad.any():
        good = means[~bad]
        means[bad] = float(np.median(good)) if good.size else 1.0
    return means, int(bad.sum())


def _repair_columns(decoder: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Zero non-finite decoder columns so a broken feature steers nothing."""
    bad = ~torch.isfinite(decoder).all(dim=0)
    count = int(bad.sum())
    if count:
        decoder = decoder.clone()
        decoder[:, bad] = 0.0
    return decoder, count


# The real sdxl-unbox means are skewed: down.2.1 runs 9.6..47.6 with an
# average of 18.7, most features near 15-20 and a few near 50. A log-normal
# with median 17.5 and sigma 0.35 (mean 18.6), cut to 9.6..47.6, draws that
# shape; the preview and the test fixtures use it so that a strength means
# the same number of scaled units on them as on the real SAEs.
REAL_MEAN_MEDIAN = 17.5
REAL_MEAN_SIGMA = 0.35
REAL_MEAN_RANGE = (9.6, 47.6)


def real_like_means(n: int, *, generator: torch.Generator) -> torch.Tensor:
    """(n,) float32 mean activations drawn like the real SAEs' (see above)."""
    z = torch.randn(n, generator=generator)
    return (REAL_MEAN_MEDIAN * torch.exp(REAL_MEAN_SIGMA * z)).clamp(*REAL_MEAN_RANGE)


def random_sae(block: str, d_model: int, n_features: int, *, k: int = 10,
               generator: torch.Generator, direction_norm: float = 1.0) -> SAE:
    """A random SAE of the given size (preview model, random-weight benchmark).

    Built as a config + state dict in the upstream layout and passed through
    the same checks as a file on disk. Mean activations follow the real
    distribution (real_like_means). Decoder columns have norm
    `direction_norm` (1, as upstream, unless a tiny model's activations are
    far smaller than SDXL's: the preview shortens them instead of its means).
    """
    unit = torch.randn(d_model, n_features, generator=generator)
    unit /= unit.norm(dim=0, keepdim=True)
    state = {"encoder.weight": unit.T.contiguous(), "decoder.weight": unit * direction_norm,
             "pre_bias": torch.zeros(d_model), "latent_bias": torch.zeros(n_features)}
    mean = real_like_means(n_features, generator=generator)
    config = {"n_dirs_local": n_features, "d_model": d_model, "k": k, "auxk": 256,
              "dead_steps_threshold": 2441}
    return sae_from_state(block, config, state, mean, keep_encoder=True)

"""Where the real weights are, and loading them.

Four parts, each found in a local folder first, then in the Hugging Face
hub cache (never downloaded here; `hambajuba models download` does that):

    sdxl-turbo  stabilityai/sdxl-turbo               UNet, 2 text encoders, 2 tokenizers
    taesdxl     madebyollin/taesdxl                  tiny decoder (and encoder)
    sdxl-saes   surokpro2/sdxl-saes                  the four blocks' SAEs
    sae-labels  hammamiomar/sdxl-turbo-sae-labels    feature labels (dataset; optional)

The local folder is `models_dir` or $HAMBAJUBA_MODELS, holding one subfolder
per part named as above. Missing required parts give one EngineError that
lists them and names the command to run.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from graph_runtime.graph.frame import BLOCK_PATHS, BLOCKS

from .errors import DOWNLOAD_COMMAND, EngineError
from .labels import Labels, find_label_files, load_labels
from .parts import ModelParts
from .prompts import clip_tokenizer
from .sae import SAE_FILES, block_folder_name, find_block_folder, load_saes

ENV_MODELS_DIR = "HAMBAJUBA_MODELS"
DESCRIPTION = "stabilityai/sdxl-turbo with sdxl-unbox SAEs"


@dataclass(frozen=True)
class HubPart:
    name: str
    repo: str
    repo_type: str                 # "model" | "dataset"
    patterns: tuple[str, ...]      # what `models download` fetches
    required: bool = True


def _sae_patterns() -> tuple[str, ...]:
    return tuple(f"{block_folder_name(b)}/{sub}{f}" for b in BLOCKS
                 for sub in ("", "final/") for f in SAE_FILES)


PARTS = {
    "sdxl-turbo": HubPart("sdxl-turbo", "stabilityai/sdxl-turbo", "model", (
        "model_index.json", "scheduler/*", "unet/config.json",
        "unet/diffusion_pytorch_model.fp16.safetensors",
        "text_encoder/config.json", "text_encoder/model.fp16.safetensors",
        "text_encoder_2/config.json", "text_encoder_2/model.fp16.safetensors",
        "tokenizer/*", "tokenizer_2/*")),
    "taesdxl": HubPart("taesdxl", "madebyollin/taesdxl", "model",
                       ("config.json", "diffusion_pytorch_model.safetensors")),
    "sdxl-saes": HubPart("sdxl-saes", "surokpro2/sdxl-saes", "model", _sae_patterns()),
    "sae-labels": HubPart("sae-labels", "hammamiomar/sdxl-turbo-sae-labels", "dataset",
                          tuple(f"*{b}.json" for b in BLOCKS) + ("README.md",), required=False),
}


@dataclass
class PartStatus:
    part: HubPart
    path: Path | None = None       # where it was found
    where: str = ""                # "local folder" | "hub cache" | ""
    missing: list[str] = field(default_factory=list)  # what is missing at the best candidate

    @property
    def present(self) -> bool:
        return self.path is not None


def models_dir(explicit: str | Path | None = None) -> Path | None:
    value = explicit or os.environ.get(ENV_MODELS_DIR)
    return Path(value).expanduser() if value else None


def status(local_dir: str | Path | None = None) -> dict[str, PartStatus]:
    """Every part: found where, or what is missing."""
    return {name: locate(part, local_dir) for name, part in PARTS.items()}


def locate(part: HubPart, local_dir: str | Path | None = None) -> PartStatus:
    candidates = []
    root = models_dir(local_dir)
    if root is not None:
        candidates.append((root / part.name, "local folder"))
    cached = _hub_snapshot(part)
    unreadable = None if cached is not None else _hub_cache_problem(part)
    if cached is not None:
        candidates.append((cached, "hub cache"))
    first_missing: list[str] = []
    for path, where in candidates:
        missing = missing_files(part.name, path)
        if not missing:
            return PartStatus(part, path, where)
        first_missing = first_missing or [str(path / m) for m in missing]
    if not candidates:
        where = f"{root / part.name} nor " if root else ""
        first_missing = [f"{part.repo} (not in {where}the hub cache)"]
    if unreadable:          # not "not downloaded": say what is wrong with the cache first
        first_missing = [unreadable] + [m for m in first_missing if "the hub cache)" not in m]
    return PartStatus(part, missing=first_missing)


def missing_files(name: str, root: Path) -> list[str]:
    """Paths, relative to root, that a part needs and lacks (empty when complete)."""
    if not root.is_dir():
        return ["(folder missing)"]
    if name == "sdxl-turbo":
        need = [("unet/config.json",), _weights("unet/diffusion_pytorch_model"),
                ("text_encoder/config.json",), _weights("text_encoder/model"),
                ("text_encoder_2/config.json",), _weights("text_encoder_2/model"),
                ("tokenizer/vocab.json",), ("tokenizer/merges.txt",),
                ("tokenizer_2/vocab.json",), ("tokenizer_2/merges.txt",)]
        return [alts[0] for alts in need if not any((root / a).is_file() for a in alts)]
    if name == "taesdxl":
        need = [("config.json",), _weights("diffusion_pytorch_model")]
        return [alts[0] for alts in need if not any((root / a).is_file() for a in alts)]
    if name == "sdxl-saes":
        return [f"{block_folder_name(b)}/" for b in BLOCKS if find_block_folder(root, b) is None]
    if name == "sae-labels":   # any block's labels will do: the others work by number
        return [] if find_label_files(root) else [f"{b}.json" for b in BLOCKS]
    raise KeyError(name)


def require(local_dir: str | Path | None = None) -> dict[str, PartStatus]:
    """Status of every part; EngineError listing the missing required ones."""
    found = status(local_dir)
    missing = [s for s in found.values() if s.part.required and not s.present]
    if missing:
        lines = "; ".join(f"{s.part.name} ({s.part.repo}): missing {', '.join(s.missing[:3])}"
                          for s in missing)
        raise EngineError("models", f"SDXL-Turbo weights not found: {lines}. Run "
                          f"`{DOWNLOAD_COMMAND}` (or use --model preview)")
    return found


def load_sdxl_turbo(local_dir: str | Path | None = None, *, dtype: torch.dtype) -> ModelParts:
    """The real model on the CPU in `dtype`; place() moves it to the GPU."""
    from diffusers import AutoencoderTiny, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    found = require(local_dir)
    turbo, taesd = found["sdxl-turbo"].path, found["taesdxl"].path
    unet = _load("UNet", lambda: UNet2DConditionModel.from_pretrained(
        turbo, subfolder="unet", torch_dtype=dtype,
        variant=_variant(turbo / "unet", "diffusion_pytorch_model")))
    te1 = _load("text encoder 1", lambda: CLIPTextModel.from_pretrained(
        turbo, subfolder="text_encoder", dtype=dtype, variant=_variant(turbo / "text_encoder", "model")))
    te2 = _load("text encoder 2", lambda: CLIPTextModelWithProjection.from_pretrained(
        turbo, subfolder="text_encoder_2", dtype=dtype,
        variant=_variant(turbo / "text_encoder_2", "model")))
    tok1 = _load("tokenizer 1", lambda: CLIPTokenizer.from_pretrained(turbo, subfolder="tokenizer"))
    tok2 = _load("tokenizer 2", lambda: CLIPTokenizer.from_pretrained(turbo, subfolder="tokenizer_2"))
    vae = _load("TAESDXL", lambda: AutoencoderTiny.from_pretrained(
        taesd, torch_dtype=dtype, variant=_variant(taesd, "diffusion_pytorch_model")))
    width = _steered_width(unet)
    saes = load_saes(found["sdxl-saes"].path, width=width)
    labels = _labels(found["sae-labels"], n_features=saes[BLOCKS[0]].n_features)
    return ModelParts("sdxl-turbo", DESCRIPTION, unet, vae, (clip_tokenizer(tok1), clip_tokenizer(tok2)),
                      (te1, te2), saes, labels)


def load_features(local_dir: str | Path | None = None):
    """Only SAEs and labels (for `hambajuba features`): (saes, labels)."""
    sae_status = locate(PARTS["sdxl-saes"], local_dir)
    if not sae_status.present:
        raise EngineError("sdxl-saes", f"SAE checkpoints ({PARTS['sdxl-saes'].repo}) not found; "
                          f"run `{DOWNLOAD_COMMAND}`")
    saes = load_saes(sae_status.path)
    labels = _labels(locate(PARTS["sae-labels"], local_dir), n_features=saes[BLOCKS[0]].n_features)
    return saes, labels


def _labels(part_status: PartStatus, n_features: int) -> Labels:
    """Labels if present; features still work by number without them."""
    if not part_status.present:
        return Labels.empty()
    return load_labels(part_status.path, n_features=n_features)


def _steered_width(unet) -> int:
    widths = {unet.get_submodule(BLOCK_PATHS[b]).proj_out.out_features for b in BLOCKS}
    if len(widths) != 1:
        raise EngineError("UNet", f"steered blocks have different widths {sorted(widths)}")
    return widths.pop()


def _weights(stem: str) -> tuple[str, str]:
    return (f"{stem}.fp16.safetensors", f"{stem}.safetensors")


def _variant(folder: Path, stem: str) -> str | None:
    return "fp16" if (folder / f"{stem}.fp16.safetensors").is_file() else None


def _load(name: str, fn):
    try:
        return fn()
    except EngineError:
        raise
    except torch.OutOfMemoryError:
        raise EngineError(name, "out of memory while loading; close other programs") from None
    except Exception as e:  # corrupt safetensors, bad config.json, ...
        raise EngineError(name, f"cannot load ({type(e).__name__}: {e}); run "
                          f"`{DOWNLOAD_COMMAND}` again") from None


def _hub_cache_problem(part: HubPart) -> str | None:
    """Why part.repo's hub cache entry exists but cannot be read; None when it is
    simply absent (not downloaded) or readable."""
    try:
        from huggingface_hub import constants
    except ImportError:
        return None
    root = Path(constants.HF_HUB_CACHE)
    entry = root / f"{part.repo_type}s--{part.repo.replace('/', '--')}"
    for path in (root, entry, entry / "snapshots"):
        try:
            if not path.exists():
                return None                      # not downloaded (or only partly): say that
            if not path.is_dir():
                return f"the hub cache's {path} exists but is not a folder"
            if not os.access(path, os.R_OK | os.X_OK):
                return f"the hub cache's {path} exists but cannot be read (permissions)"
            if path.name == "snapshots":
                next(os.scandir(path), None)
        except OSError as e:
            return f"the hub cache's {path} exists but cannot be read ({e.strerror or e})"
    return None


def _hub_snapshot(part: HubPart) -> Path | None:
    """The cached snapshot folder of part.repo, without touching the network."""
    try:
        from huggingface_hub import snapshot_download
        return Path(snapshot_download(part.repo, repo_type=part.repo_type, local_files_only=True))
    except Exception:  # not cached, or hub library unavailable
        return None

"""ModelParts: everything the engine is built from, however it was obtained.

Filled by models.load_sdxl_turbo (real weights), preview.build_preview (tiny,
random, no download) or random_sdxl.build_random_sdxl (real size, random).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .errors import EngineError
from .labels import Labels
from .prompts import Tokenizer
from .sae import SAE


@dataclass
class ModelParts:
    kind: str                                  # "preview" | "sdxl-turbo" | "sdxl-turbo-random"
    description: str                           # shown wherever output is described
    unet: nn.Module                            # UNet2DConditionModel
    vae: nn.Module                             # AutoencoderTiny (TAESDXL)
    tokenizers: tuple[Tokenizer, Tokenizer]
    text_encoders: tuple[nn.Module, nn.Module]  # CLIPTextModel, CLIPTextModelWithProjection
    saes: dict[str, SAE]                       # block -> SAE (CPU float32)
    labels: Labels

    @property
    def is_preview(self) -> bool:
        return self.kind == "preview"

    @property
    def trained(self) -> bool:
        return self.kind == "sdxl-turbo"

    def modules(self) -> dict[str, nn.Module]:
        return {"UNet": self.unet, "TAESDXL decoder": self.vae,
                "text encoder 1": self.text_encoders[0], "text encoder 2": self.text_encoders[1]}

    def place(self, device: torch.device, dtype: torch.dtype) -> "ModelParts":
        """Move every module to device/dtype, eval mode; CUDA OOM -> EngineError naming the part."""
        for name, module in self.modules().items():
            move_module(module, device, dtype, name)
        return self


def move_module(module: nn.Module, device: torch.device, dtype: torch.dtype, name: str) -> None:
    try:
        # nn.Module.to, not diffusers' override: that one warns on every dtype cast.
        # GPU SYNC (load time only): the weights' H2D copies
        nn.Module.to(module, device=device, dtype=dtype).eval().requires_grad_(False)
    except torch.OutOfMemoryError:
        free = ""
        if torch.cuda.is_available():
            free_b, total_b = torch.cuda.mem_get_info()  # GPU SYNC (error path only)
            free = f" ({free_b / 2**30:.1f} of {total_b / 2**30:.1f} GiB free)"
        raise EngineError(name, f"CUDA out of memory while loading it onto {device}{free}; close "
                          "other GPU programs or use --model preview") from None

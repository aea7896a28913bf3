"""SDXL-Turbo's real architecture with random weights, for benchmarks.

When the real weights cannot be downloaded, this has the same FLOPs in the
hot path: the SDXL UNet from its published config (2.6 B parameters), the
TAESDXL decoder at its real size, and random SAEs of the real width (1280 x
5120). The text encoders are one-layer stand-ins with the real output widths
(768 + 1280, pooled 1280): they run only when a prompt changes, never per
frame. Its images mean nothing; it exists to time the engine.
"""
from __future__ import annotations

import torch
from diffusers import AutoencoderTiny, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

from graph_runtime.graph.frame import BLOCKS, N_FEATURES

from .labels import Labels
from .parts import ModelParts
from .preview import HashTokenizer
from .prompts import TOKENS
from .sae import random_sae

DESCRIPTION = "sdxl-turbo architecture with random weights (for timing only; images mean nothing)"
SDXL_WIDTH = 1280

# the UNet config of stabilityai/sdxl-turbo (unet/config.json), defaults omitted
SDXL_UNET_CONFIG = dict(
    sample_size=64, in_channels=4, out_channels=4, act_fn="silu", flip_sin_to_cos=True,
    freq_shift=0, center_input_sample=False, layers_per_block=2, norm_num_groups=32,
    norm_eps=1e-5, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    mid_block_type="UNetMidBlock2DCrossAttn", block_out_channels=(320, 640, 1280),
    attention_head_dim=(5, 10, 20), transformer_layers_per_block=(1, 2, 10),
    cross_attention_dim=2048, use_linear_projection=True, addition_embed_type="text_time",
    addition_time_embed_dim=256, projection_class_embeddings_input_dim=2816,
)


def stand_in_text_config(hidden: int, heads: int) -> CLIPTextConfig:
    return CLIPTextConfig(vocab_size=1000, hidden_size=hidden, intermediate_size=hidden,
                          num_hidden_layers=2, num_attention_heads=heads,
                          max_position_embeddings=TOKENS, projection_dim=SDXL_WIDTH,
                          bos_token_id=998, eos_token_id=999, pad_token_id=999)


def build_random_sdxl(device: torch.device, seed: int = 0) -> ModelParts:
    """Random real-size parts, initialised directly on `device` (fast on a GPU)."""
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        with torch.device(device):
            unet = UNet2DConditionModel(**SDXL_UNET_CONFIG)
            vae = AutoencoderTiny()                   # TAESDXL's config is the default
            te1 = CLIPTextModel(stand_in_text_config(768, 12))
            te2 = CLIPTextModelWithProjection(stand_in_text_config(1280, 20))
    gen = torch.Generator().manual_seed(seed + 1)
    saes = {b: random_sae(b, SDXL_WIDTH, N_FEATURES, generator=gen) for b in BLOCKS}
    tok = HashTokenizer()
    return ModelParts("sdxl-turbo-random", DESCRIPTION, unet, vae, (tok, tok), (te1, te2),
                      saes, Labels.empty())

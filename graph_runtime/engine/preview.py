"""The untrained preview: the SDXL-Turbo architecture, tiny and random.

Same module tree as SDXL (three down blocks, cross-attention in the last two,
SDXL's text+time added conditioning), the same four steered block paths, and
the same 16x16 steered resolution at 512 px (latent 64x64, two downsamples);
only the widths are tiny and the weights random. Random SAEs (5120 features,
as the real ones) and random labels come in the real formats. It is built
from config with no download, runs the whole pipeline on a CPU, and its
output is noise-like patterns: always call it the untrained preview.
"""
from __future__ import annotations

import random
import re
import zlib

import torch
from diffusers import AutoencoderTiny, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

from graph_runtime.frame_params import BLOCKS, N_FEATURES

from .labels import Labels
from .parts import ModelParts
from .prompts import TOKENS
from .sae import random_sae

DESCRIPTION = ("untrained preview: a tiny SDXL-shaped model with random weights "
               "(noise-like patterns, not pictures)")
WIDTH = 64            # channels of the steered blocks (real: 1280)
TEXT_WIDTH = 32       # each text encoder's hidden size (real: 768 and 1280)
POOLED = 32           # pooled text embedding (real: 1280)
TIME_EMBED = 8        # per time id (real: 256)
VOCAB = 1000


def preview_unet_config() -> dict:
    return dict(
        sample_size=64, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        block_out_channels=(32, WIDTH, WIDTH), layers_per_block=2,
        transformer_layers_per_block=(1, 1, 1), attention_head_dim=(1, 2, 2),
        cross_attention_dim=2 * TEXT_WIDTH, norm_num_groups=8, use_linear_projection=True,
        addition_embed_type="text_time", addition_time_embed_dim=TIME_EMBED,
        projection_class_embeddings_input_dim=POOLED + 6 * TIME_EMBED,
    )


def preview_vae_config() -> dict:
    return dict(encoder_block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
                num_encoder_blocks=(1, 1, 1, 1), num_decoder_blocks=(1, 1, 1, 1))


def preview_text_config() -> CLIPTextConfig:
    return CLIPTextConfig(vocab_size=VOCAB, hidden_size=TEXT_WIDTH, intermediate_size=2 * TEXT_WIDTH,
                          num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=TOKENS,
                          projection_dim=POOLED, bos_token_id=VOCAB - 2, eos_token_id=VOCAB - 1,
                          pad_token_id=VOCAB - 1)


class HashTokenizer:
    """text -> (1, 77) ids without a vocabulary file: each word hashes to an id.

    For random text encoders only; stable across runs (crc32, not hash()).
    """

    def __init__(self, vocab: int = VOCAB) -> None:
        self.vocab, self.bos, self.eos = vocab, vocab - 2, vocab - 1

    def __call__(self, text: str) -> torch.Tensor:
        words = re.findall(r"\w+|[^\w\s]", text.lower())[: TOKENS - 2]
        ids = [self.bos] + [zlib.crc32(w.encode()) % (self.vocab - 2) for w in words] + [self.eos]
        ids += [self.eos] * (TOKENS - len(ids))
        return torch.tensor([ids], dtype=torch.long)


def build_preview(seed: int = 0) -> ModelParts:
    """The tiny random model on the CPU in float32 (about 3 M parameters)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(**preview_unet_config())
        vae = AutoencoderTiny(**preview_vae_config())
        te1 = CLIPTextModel(preview_text_config())
        te2 = CLIPTextModelWithProjection(preview_text_config())
    saes, labels = preview_features(seed)
    tok = HashTokenizer()
    return ModelParts("preview", DESCRIPTION, unet, vae, (tok, tok), (te1, te2), saes, labels)


def preview_features(seed: int = 0) -> tuple[dict, Labels]:
    """The preview's random SAEs (5120 features of width 64) and labels, no UNet."""
    gen = torch.Generator().manual_seed(seed + 1)
    saes = {b: random_sae(b, WIDTH, N_FEATURES, generator=gen) for b in BLOCKS}
    return saes, preview_labels(saes, seed)


PREVIEW_WORDS = ("amber", "ripple", "grain", "stripe", "halo", "tide", "moss", "glass",
                 "ember", "lattice", "bloom", "static", "velvet", "shard", "haze", "pulse")
PREVIEW_CATEGORIES = ("texture", "color", "composition", "lighting", "spatial", "mood")


def preview_labels(saes: dict, seed: int, every: int = 4) -> Labels:
    """Random labels in the real record format for every `every`-th feature."""
    rng = random.Random(seed)
    records = {}
    for block, sae in saes.items():
        records[block] = [
            {"id": fid, "label": f"{rng.choice(PREVIEW_WORDS)} {rng.choice(PREVIEW_WORDS)}",
             "category": rng.choice(PREVIEW_CATEGORIES),
             "confidence": rng.choice(("high", "medium", "low")),
             "meanActivation": round(float(sae.means[fid]), 2)}
            for fid in range(0, sae.n_features, every)]
    return Labels.from_records(records, n_features=N_FEATURES,
                               source="untrained preview (random labels)")

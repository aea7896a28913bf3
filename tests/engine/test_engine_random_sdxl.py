"""The benchmark's stand-in: SDXL-Turbo's real architecture with random weights.

Built on the meta device (shapes, no memory), it must have the SDXL UNet's
parameter count and run the whole generate function at 512 px, with the four
steered blocks at 1280 channels and 16x16: the same FLOPs as the real model.
"""
from __future__ import annotations

import torch

from graph_runtime.engine.generate import Generator
from graph_runtime.engine.random_sdxl import build_random_sdxl
from graph_runtime.engine.steering import install_steering
from graph_runtime.graph.frame import BLOCKS, SLOTS, VEC_LEN


def test_real_architecture_runs_the_generate_function_at_512():
    meta = torch.device("meta")
    parts = build_random_sdxl(meta)
    assert round(sum(p.numel() for p in parts.unet.parameters()) / 1e6) == 2567   # SDXL UNet
    frame = torch.zeros(VEC_LEN, device=meta)
    steered = install_steering(parts.unet, frame)
    assert all(steered[b].direction.shape == (SLOTS, 1280) for b in BLOCKS)
    assert all(parts.saes[b].decoder.shape == (1280, 5120) for b in BLOCKS)
    seen = {}
    for name, block in steered.items():
        block.register_forward_hook(lambda m, i, o, name=name: seen.__setitem__(name, o[0].shape))
    te1, te2 = parts.text_encoders
    gen = Generator(parts.unet, parts.vae, 512, te1.config.hidden_size + te2.config.hidden_size,
                    te2.config.projection_dim, meta)
    assert gen.prompt_a.shape == (1, 77, 2048) and gen.pooled_a.shape == (1, 1280)
    with torch.no_grad():
        image = gen(frame)
    assert image.shape == (512, 512, 4) and image.dtype == torch.uint8
    assert all(seen[b] == (1, 1280, 16, 16) for b in BLOCKS)

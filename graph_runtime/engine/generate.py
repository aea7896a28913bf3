"""The generate function: one frame from the packed frame vector, one graph.

With one step, SDXL-Turbo's Euler scheduler collapses to a few tensor ops:

    noise  = cos(theta) * noise_a + sin(theta) * noise_b           (1, 4, h, w)
    noisy  = latent + noise * sigma
    pred   = unet(noisy / sqrt(sigma^2 + 1), t, embeds, pooled, time_ids)
    x0     = noisy - sigma * pred                  (Euler to sigma = 0)
    image  = taesdxl.decode(x0)                    (1, 3, H, W) in [-1, 1]
    rgba   = uint8 (H, W, 4)

t and sigma come from the latent deviation dev in [0, 1]: t = 999 * dev and
sigma = the schedule's sigma at t. With no album art dev is 1, so t = 999 and
sigma = 14.6146, plain one-step generation from noise (latent = 0). With
album art the latent is the image's, and a lower dev is a lower noise level:
one-step image-to-image, the album pristine near 0 and dissolved near 1.

Everything the frame varies is read from buffers or from `frame` (the
engine's device copy of FrameParams.vec): no Python branches on values, no
.item(), no host sync, so torch.compile(fullgraph=True) captures it whole.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from graph_runtime.graph.frame import LATENT_DEV, NOISE_THETA, PROMPT_POS

from .noise import LATENT_CHANNELS, noise_walk
from .prompts import TOKENS, slerp
from .schedule import TRAIN_STEPS, TURBO_TIMESTEP, train_sigmas


class Generator(nn.Module):
    """UNet + TAESD decoder + the buffers a frame reads. forward(frame) -> (H, W, 4) uint8."""

    def __init__(self, unet: nn.Module, vae: nn.Module, size: int, embed_dim: int,
                 pooled_dim: int, device: torch.device) -> None:
        super().__init__()
        self.unet, self.vae, self.size = unet, vae, size
        self.dtype = next(unet.parameters()).dtype         # fixed once the parts are placed
        self.vae_dtype = next(vae.parameters()).dtype
        lat = size // 8
        f32 = dict(dtype=torch.float32, device=device)
        # all written with copy_/fill_ when the Scene changes; float32, cast in the graph
        self.register_buffer("noise_a", torch.zeros(1, LATENT_CHANNELS, lat, lat, **f32))
        self.register_buffer("noise_b", torch.zeros(1, LATENT_CHANNELS, lat, lat, **f32))
        self.register_buffer("image_latent", torch.zeros(1, LATENT_CHANNELS, lat, lat, **f32))
        self.register_buffer("prompt_a", torch.zeros(1, TOKENS, embed_dim, **f32))
        self.register_buffer("prompt_b", torch.zeros(1, TOKENS, embed_dim, **f32))
        self.register_buffer("pooled_a", torch.zeros(1, pooled_dim, **f32))
        self.register_buffer("pooled_b", torch.zeros(1, pooled_dim, **f32))
        # constants
        log_sigmas = torch.from_numpy(np.log(train_sigmas())).to(**f32)
        self.register_buffer("log_sigmas", log_sigmas)                         # (1000,)
        self.register_buffer("time_ids", torch.tensor([[size, size, 0, 0, size, size]], **f32))
        self.register_buffer("alpha", torch.full((size, size, 1), 255, dtype=torch.uint8,
                                                  device=device))

    def forward(self, frame: torch.Tensor) -> torch.Tensor:
        """frame (VEC_LEN,) float32 -> image (H, W, 4) uint8 RGBA."""
        return self.to_rgba(self.decode(self.denoise(frame)))

    def denoise(self, frame: torch.Tensor) -> torch.Tensor:
        """frame -> x0 latent (1, 4, h, w) float32."""
        t, sigma = self.noise_level(frame[LATENT_DEV])
        noise = noise_walk(self.noise_a, self.noise_b, frame[NOISE_THETA])
        noisy = self.image_latent + noise * sigma
        pos = frame[PROMPT_POS].clamp(0.0, 1.0)
        embeds = slerp(self.prompt_a, self.prompt_b, pos)                      # (1, 77, D)
        pooled = slerp(self.pooled_a, self.pooled_b, pos)                      # (1, P)
        dt = self.dtype
        pred = self.unet((noisy * torch.rsqrt(sigma * sigma + 1.0)).to(dt), t,
                         encoder_hidden_states=embeds.to(dt),
                         added_cond_kwargs={"text_embeds": pooled.to(dt),
                                            "time_ids": self.time_ids.to(dt)},
                         return_dict=False)[0]
        return noisy - sigma * pred.float()

    def noise_level(self, dev: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """dev in [0, 1] -> (timestep t = 999 dev, sigma(t)) as 0-d float32 tensors."""
        t = dev.clamp(0.0, 1.0) * TURBO_TIMESTEP
        lo = t.floor().clamp(max=TRAIN_STEPS - 2)
        i = lo.long().reshape(1)                       # a gather, not .item(): no sync
        below = self.log_sigmas.index_select(0, i)[0]
        above = self.log_sigmas.index_select(0, i + 1)[0]
        return t, torch.exp(torch.lerp(below, above, t - lo))

    def decode(self, x0: torch.Tensor) -> torch.Tensor:
        """x0 (1, 4, h, w) -> image (1, 3, H, W) in about [-1, 1]."""
        return self.vae.decode(x0.to(self.vae_dtype), return_dict=False)[0]

    def to_rgba(self, image: torch.Tensor) -> torch.Tensor:
        """(1, 3, H, W) in [-1, 1] -> (H, W, 4) uint8, opaque."""
        rgb = ((image[0].float() + 1.0) * 127.5).round().clamp(0.0, 255.0).to(torch.uint8)
        return torch.cat([rgb.permute(1, 2, 0), self.alpha], dim=-1).contiguous()

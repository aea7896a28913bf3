"""Seeded noise and the circular noise walk.

Two fixed Gaussian noises a and b (one per seed) and an angle theta give

    noise(theta) = cos(theta) * a + sin(theta) * b        (1, 4, h, w)

which is again unit-variance Gaussian for every theta (cos^2 + sin^2 = 1),
so the composition moves smoothly around a circle without washing out. The
noises are drawn on the CPU from torch.Generator(seed): the same seed gives
the same picture on every device.
"""
from __future__ import annotations

import torch

LATENT_CHANNELS = 4
MAX_SEED = 2**63 - 1


def seeded_noise(seed: int, latent_size: int) -> torch.Tensor:
    """(1, 4, latent_size, latent_size) float32 standard normal, on the CPU."""
    gen = torch.Generator(device="cpu").manual_seed(int(seed) % MAX_SEED)
    return torch.randn(1, LATENT_CHANNELS, latent_size, latent_size, generator=gen)


def noise_walk(noise_a: torch.Tensor, noise_b: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """cos(theta) * a + sin(theta) * b; theta a 0-d tensor in radians."""
    return torch.cos(theta) * noise_a + torch.sin(theta) * noise_b

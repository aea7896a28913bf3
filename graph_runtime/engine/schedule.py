"""The one-step noise schedule of SDXL-Turbo.

SDXL-Turbo was distilled on the SDXL training schedule ("scaled_linear" betas
from 0.00085 to 0.012 over 1000 steps). One-step generation uses timestep 999,
where sigma = sqrt((1 - alpha_bar) / alpha_bar) = 14.6146. The engine keeps
the whole sigma table so the album-art deviation can choose a lower noise
level (image-to-image), still in one step.
"""
from __future__ import annotations

import numpy as np

TRAIN_STEPS = 1000
TURBO_TIMESTEP = 999
BETA_START = 0.00085
BETA_END = 0.012


def train_sigmas() -> np.ndarray:
    """sigma per training timestep, (1000,) float64, increasing; [999] = 14.6146."""
    betas = np.linspace(BETA_START**0.5, BETA_END**0.5, TRAIN_STEPS, dtype=np.float64) ** 2
    alpha_bar = np.cumprod(1.0 - betas)
    return np.sqrt((1.0 - alpha_bar) / alpha_bar)


SIGMA_MAX = float(train_sigmas()[TURBO_TIMESTEP])  # 14.6146

"""Envelope followers: how loud a stem feels, frame by frame.

We hear attacks at once and decays slowly, so the follower is a one-pole
filter whose coefficient depends on direction: attack when the input is above
the state, release when below. On the 50 fps grid the coefficient for a time
constant tau (ms) is 1 - exp(-frame_ms / tau): a step reaches 1 - 1/e of the
way after tau, whatever the frame rate.

Presets per stem (attack ms, release ms): the ratio sets the feel, drums
50:1 (punchy), vocals 10:1 (phrasing). The dual layer runs a fast "flash"
and a slow "sustain" follower on the same envelope (a comet and its tail).
"""
from __future__ import annotations

import math

import numpy as np

# stem -> (attack_ms, release_ms) for energy_smooth
ENERGY_PRESETS: dict[str, tuple[float, float]] = {
    "drums": (2.0, 100.0),
    "drums_low": (2.0, 120.0),
    "drums_mid": (2.0, 90.0),
    "drums_high": (1.0, 60.0),
    "bass": (8.0, 150.0),
    "vocals": (15.0, 150.0),
    "other": (12.0, 180.0),
    "other_mid": (12.0, 180.0),
    "other_high": (5.0, 120.0),
    "mix": (5.0, 150.0),
}
DEFAULT_PRESET = (10.0, 150.0)
FLASH = (2.0, 50.0)       # ms: the immediate pop (1-5 ms attack, 20-80 ms release)
SUSTAIN = (20.0, 200.0)   # ms: the trailing glow (10-30 ms attack, 100-250 ms release)


def coefficient(tau_ms: float, *, fps: float) -> float:
    """One-pole smoothing coefficient per frame for a time constant in ms."""
    if tau_ms <= 0:
        return 1.0
    return 1.0 - math.exp(-(1000.0 / fps) / tau_ms)


def follow(x: np.ndarray, *, fps: float, attack_ms: float, release_ms: float,
           initial: float = 0.0) -> np.ndarray:
    """Asymmetric attack/release follower over frames: (n_frames,) float32.

    state += (attack if x > state else release) * (x - state)."""
    a = coefficient(attack_ms, fps=fps)
    r = coefficient(release_ms, fps=fps)
    out = np.empty(len(x), dtype=np.float32)
    state = float(initial)
    for i, v in enumerate(np.asarray(x, dtype=np.float64).tolist()):
        state += (a if v > state else r) * (v - state)
        out[i] = state
    return out


def preset_for(stem: str) -> tuple[float, float]:
    """(attack_ms, release_ms) of energy_smooth for a stem name."""
    return ENERGY_PRESETS.get(stem, DEFAULT_PRESET)


def energy_smooth(envelope: np.ndarray, *, fps: float, stem: str) -> np.ndarray:
    """The stem's envelope through its preset follower, (n_frames,) in [0, 1]."""
    attack, release = preset_for(stem)
    return follow(envelope, fps=fps, attack_ms=attack, release_ms=release)


def dual_layer(envelope: np.ndarray, *, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(flash, sustain): fast and slow followers of the same envelope.

    Flash follows the envelope's rise over the last 40 ms (two frames, as an
    RMS window spreads an attack over two), so a hit from silence to full
    level flashes to ~1 and a held note lets it fall; sustain follows the
    level itself. Both (n_frames,) in [0, 1]."""
    env = np.asarray(envelope, dtype=np.float32)
    rise = np.zeros_like(env)
    rise[2:] = env[2:] - env[:-2]
    rise[1:2] = env[1:2] - env[:1]
    rise = np.clip(rise, 0.0, 1.0)
    flash = follow(rise, fps=fps, attack_ms=FLASH[0], release_ms=FLASH[1])
    sustain = follow(env, fps=fps, attack_ms=SUSTAIN[0], release_ms=SUSTAIN[1])
    return np.clip(flash, 0, 1), np.clip(sustain, 0, 1)

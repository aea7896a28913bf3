"""Host-side checks of the per-frame vector, before its one H2D copy.

FrameParams.vec is written by many nodes; one NaN there would poison every
pixel of the frame. The engine copies vec into its pinned twin and fixes it
there, in place, with a handful of numpy calls (~4 K floats, microseconds):

    strengths  NaN -> 0, beyond +-STRENGTH_BOUND -> clamped; each one counted
    masks      NaN -> 0, outside [0, 1] -> clamped; counted
    prompt pos NaN -> 0, clamped to [0, 1]
    theta      NaN/inf -> 0, wrapped into (-pi, pi] (float32 cos/sin stay exact)
    deviation  no album art -> 1 (pure noise); else NaN -> 1, clamped to [0, 1]
"""
from __future__ import annotations

import math

import numpy as np

from graph_runtime.graph.frame import LATENT_DEV, MASKS, NOISE_THETA, PROMPT_POS, STRENGTH, STRENGTH_BOUND, VEC_LEN

from .errors import EngineError

MASK_SHAPE = (16, 16)


def sanitize_frame(vec: np.ndarray, *, has_image: bool) -> tuple[int, int]:
    """Fix vec in place; returns (strengths clamped, mask values clamped)."""
    strengths = vec[STRENGTH:MASKS]
    bad_strengths = int(np.count_nonzero(~(np.abs(strengths) <= STRENGTH_BOUND)))
    if bad_strengths:
        np.nan_to_num(strengths, copy=False, nan=0.0)
        np.clip(strengths, -STRENGTH_BOUND, STRENGTH_BOUND, out=strengths)
    masks = vec[MASKS:PROMPT_POS]
    bad_masks = int(np.count_nonzero(~((masks >= 0.0) & (masks <= 1.0))))
    if bad_masks:
        np.nan_to_num(masks, copy=False, nan=0.0)
        np.clip(masks, 0.0, 1.0, out=masks)
    vec[PROMPT_POS] = _clamp01(float(vec[PROMPT_POS]), 0.0)
    theta = float(vec[NOISE_THETA])
    vec[NOISE_THETA] = math.remainder(theta, 2 * math.pi) if math.isfinite(theta) else 0.0
    vec[LATENT_DEV] = _clamp01(float(vec[LATENT_DEV]), 1.0) if has_image else 1.0
    return bad_strengths, bad_masks


def check_frame_vec(vec) -> None:
    """The packed vector must be the FrameParams layout this engine was built for."""
    if not isinstance(vec, np.ndarray) or vec.shape != (VEC_LEN,) or vec.dtype != np.float32:
        got = f"{vec.dtype} {vec.shape}" if isinstance(vec, np.ndarray) else type(vec).__name__
        raise EngineError("FrameParams.vec", f"expected float32 ({VEC_LEN},), got {got}")


def check_mask(mask, where: str = "mask") -> np.ndarray:
    """A user mask -> (16, 16) float32 in [0, 1]; wrong shape is an EngineError."""
    arr = np.asarray(mask, dtype=np.float32)
    if arr.shape != MASK_SHAPE:
        raise EngineError(where, f"a steering mask is {MASK_SHAPE[0]}x{MASK_SHAPE[1]}, got shape "
                          f"{arr.shape}")
    return np.clip(np.nan_to_num(arr, nan=0.0), 0.0, 1.0)


def _clamp01(x: float, nan_value: float) -> float:
    return nan_value if x != x else min(1.0, max(0.0, x))

"""The untrained preview draws something a person can watch respond.

Its weights are random, but initialised (preview.shape_preview) so that the
image uses the colour range and every control of a patch shows: a feature
steered at +30 (mean-scaled, as the sinks do) under a floor mask changes the
lower half far more than the top, different features give different colours,
and the noise angle and the prompt position move the picture. No timings.
"""
from __future__ import annotations

import numpy as np
import pytest
from engine_testkit import frame_with, image_of

from graph_runtime.graph.frame import BLOCKS, SLOTS

FLOOR = np.zeros((16, 16), dtype=np.float32)
FLOOR[8:] = 1.0                      # the lower half of the image
FEATURES = (12, 777)


def _rgb(engine, frame) -> np.ndarray:
    return image_of(engine, frame)[..., :3].astype(np.float64)


def _floor_steer(engine, block: str, fid: int, strength: float = 30.0):
    b = BLOCKS.index(block)
    ids = np.full((len(BLOCKS), SLOTS), -1, dtype=np.int32)
    ids[b, 0] = fid
    scaled = np.zeros((len(BLOCKS), SLOTS), dtype=np.float32)
    scaled[b, 0] = strength * engine.feature_mean(block, fid)    # as the sinks scale it
    masks = np.zeros((len(BLOCKS), SLOTS, 16, 16), dtype=np.float32)
    masks[b, 0] = FLOOR
    return frame_with(ids, scaled, masks)


@pytest.fixture(scope="module")
def base(engine):
    return _rgb(engine, frame_with())


def test_preview_image_uses_the_range_in_colour(base):
    assert 70.0 < base.mean() < 190.0                     # mid-grey-ish, not dark red
    assert base.std() > 35.0                              # contrast over the pixels
    lo, hi = np.percentile(base, [2, 98])
    assert lo < 60.0 and hi > 190.0                       # most of 0..255
    assert base.std(axis=-1).mean() > 15.0                # colourful, not one hue
    assert min(base[..., c].std() for c in range(3)) > 25.0


@pytest.mark.parametrize("block", BLOCKS)
def test_floor_mask_steering_changes_the_lower_half(engine, base, block):
    h = base.shape[0]
    shifts = []
    for fid in FEATURES:
        steered = _rgb(engine, _floor_steer(engine, block, fid))
        diff = np.abs(steered - base)
        inside = diff[h // 2:].mean()
        outside = diff[: 3 * h // 8].mean()               # the top, away from the mask's edge
        assert inside > 20.0, (block, fid, inside)
        assert inside > 3.0 * outside, (block, fid, inside, outside)
        shifts.append((steered[h // 2:] - base[h // 2:]).reshape(-1, 3).mean(axis=0))
    assert np.abs(shifts[0] - shifts[1]).max() > 15.0     # two features, two different colours


def test_noise_angle_and_prompt_position_show(engine, base):
    assert np.abs(_rgb(engine, frame_with(theta=0.5)) - base).mean() > 15.0
    prompts = dict(prompt_a="a city at night", prompt_b="a forest in fog")
    at_a = _rgb(engine, frame_with(**prompts, pos=0.0))
    at_b = _rgb(engine, frame_with(**prompts, pos=1.0))
    assert np.abs(at_a - at_b).mean() > 10.0

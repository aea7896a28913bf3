"""Inline steering equals the sdxl-unbox hook formula; strength 0 adds nothing;
feature-id changes copy directions, strength changes do not."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from engine_testkit import frame_with, image_of, x0_of

from graph_runtime.engine.errors import EngineError
from graph_runtime.engine.steering import unsteered
from graph_runtime.graph.frame import BLOCKS, SLOTS, STRENGTH_BOUND


def _ids(**slots):
    """feature_ids (4, SLOTS), -1 everywhere except e.g. mid_0=[5, 9]."""
    ids = np.full((len(BLOCKS), SLOTS), -1, dtype=np.int32)
    for key, fids in slots.items():
        ids[BLOCKS.index(key.replace("_", "."))][: len(fids)] = fids
    return ids


def _unbox_hook(decoder: torch.Tensor, fids, strengths, masks):
    """Reference: sdxl-unbox's add-feature hook, a dense code map times decoder.T.

    codes (B, H, W, n_features) hold strength * mask at each steered feature;
    the block output gets codes @ decoder.T, permuted back to (B, C, H, W).
    """
    def hook(module, inputs, output):
        out = output[0]
        b, c, h, w = out.shape
        codes = torch.zeros(b, h, w, decoder.shape[1])
        for fid, s, m in zip(fids, strengths, masks):
            codes[..., fid] += s * torch.as_tensor(m)
        return (out + (codes @ decoder.T).permute(0, 3, 1, 2).to(out.dtype),)
    return hook


def test_steering_equals_hook_reference(engine):
    rng = np.random.default_rng(0)
    ids = _ids(down_2_1=[11, 4000], mid_0=[7], up_0_0=[123, 5, 77], up_0_1=[5119])
    strength = rng.uniform(-60, 60, size=(len(BLOCKS), SLOTS)).astype(np.float32)
    masks = rng.uniform(0, 1, size=(len(BLOCKS), SLOTS, 16, 16)).astype(np.float32)
    steered = x0_of(engine, frame_with(ids, strength, masks))

    handles = []
    for b, name in enumerate(BLOCKS):
        used = [s for s in range(SLOTS) if ids[b, s] >= 0]
        hook = _unbox_hook(engine.parts.saes[name].decoder, ids[b, used], strength[b, used], masks[b, used])
        handles.append(engine.steered[name].block.register_forward_hook(hook))
    try:
        reference = x0_of(engine, frame_with(ids, np.zeros_like(strength), masks))
    finally:
        for h in handles:
            h.remove()
    torch.testing.assert_close(steered, reference, rtol=1e-4, atol=1e-4)
    unsteered_x0 = x0_of(engine, frame_with(ids, np.zeros_like(strength), masks))
    assert (steered - unsteered_x0).abs().max() > 1e-2   # the steering did something


def test_strength_zero_is_unsteered_bit_for_bit(engine):
    rng = np.random.default_rng(1)
    ids = rng.integers(0, engine.n_features, size=(len(BLOCKS), SLOTS))
    masks = rng.uniform(0, 1, size=(len(BLOCKS), SLOTS, 16, 16))
    frame = frame_with(ids, 0.0, masks, prompt_a="a harbour at dawn")
    steered_x0, steered_img = x0_of(engine, frame), image_of(engine, frame)
    with unsteered(engine.parts.unet, engine.steered):
        plain_x0, plain_img = x0_of(engine, frame), image_of(engine, frame)
    assert torch.equal(steered_x0, plain_x0)
    assert np.array_equal(steered_img, plain_img)


def test_zero_mask_is_unsteered_bit_for_bit(engine):
    ids = _ids(mid_0=[3, 4], up_0_1=[9])
    on = x0_of(engine, frame_with(ids, 50.0, 0.0))
    off = x0_of(engine, frame_with(ids, 0.0, 1.0))
    assert torch.equal(on, off)


def test_mask_limits_steering_to_its_region(engine):
    """At the steered block's output, a left-half mask changes the left half only."""
    ids = _ids(up_0_1=[42])
    mask = np.zeros((len(BLOCKS), SLOTS, 16, 16), dtype=np.float32)
    mask[..., :8] = 1.0
    seen = []
    handle = engine.steered["up.0.1"].register_forward_hook(lambda m, i, o: seen.append(o[0].clone()))
    try:
        x0_of(engine, frame_with(ids, 0.0, mask))
        x0_of(engine, frame_with(ids, 80.0, mask))
    finally:
        handle.remove()
    delta = (seen[1] - seen[0]).abs()[0]          # (C, 16, 16)
    assert delta[:, :, :8].min(dim=0).values.max() > 0
    assert delta[:, :, 8:].max() == 0


def test_changing_feature_id_changes_output(engine):
    a = x0_of(engine, frame_with(_ids(mid_0=[5]), 40.0))
    b = x0_of(engine, frame_with(_ids(mid_0=[6]), 40.0))
    assert (a - b).abs().max() > 1e-2
    img_a = image_of(engine, frame_with(_ids(mid_0=[5]), 40.0))
    img_b = image_of(engine, frame_with(_ids(mid_0=[6]), 40.0))
    assert not np.array_equal(img_a, img_b)


def test_strength_change_copies_no_direction(engine):
    frame = frame_with(_ids(down_2_1=[1, 2], mid_0=[3], up_0_0=[4], up_0_1=[5, 6, 7, 8]), 10.0)
    engine.render(frame)
    writes = engine.direction_writes()
    outputs = set()
    for i in range(4):                      # tier 2: strengths only, same scene
        frame.strength[:] = 5.0 * i
        outputs.add(engine.render(frame).tobytes())
    assert engine.direction_writes() == writes
    assert len(outputs) == 4                # and the strengths did reach the graph
    frame.scene.prompt_a = "a new prompt"   # a scene change that keeps the ids
    frame.scene.touch()
    engine.render(frame)
    assert engine.direction_writes() == writes
    frame.scene.feature_ids[1, 0] = 99      # tier 1: one id, one copy
    frame.scene.touch()
    engine.render(frame)
    assert engine.direction_writes() == writes + 1
    assert torch.equal(engine.steered["mid.0"].direction[0].float(),
                       engine.parts.saes["mid.0"].decoder[:, 99])


def test_nan_and_huge_strengths_are_clamped_and_counted(engine):
    ids = _ids(mid_0=[10, 11])
    frame = frame_with(ids, 0.0)
    frame.vec[0:len(BLOCKS) * SLOTS] = 0.0
    frame.strength[1, 0] = np.nan
    frame.strength[1, 1] = 1e9
    before = engine.stats.clamped_strengths
    bad = image_of(engine, frame)
    assert engine.stats.clamped_strengths == before + 2
    expect = frame_with(ids, 0.0)
    expect.strength[1, 1] = STRENGTH_BOUND
    assert np.array_equal(bad, image_of(engine, expect))
    assert frame.strength[1, 1] == 1e9      # the caller's vec is not modified


def test_feature_id_out_of_range_is_a_clear_error_and_keeps_running(engine):
    good = frame_with(_ids(mid_0=[5]), 30.0)
    shown = image_of(engine, good)
    bad = frame_with(_ids(mid_0=[5, engine.n_features]), 30.0)
    with pytest.raises(EngineError, match=r"block mid.0 slot 1.*out of range"):
        engine.render(bad)
    assert np.array_equal(engine.render(bad), shown)   # reported once, previous scene kept
    assert engine.stats.rejected_scenes >= 1
    with pytest.raises(EngineError, match="out of range"):
        engine.render(frame_with(_ids(up_0_0=[-2]), 0.0))


def test_feature_mean_is_a_cpu_lookup(engine):
    sae = engine.parts.saes["up.0.0"]
    value = engine.feature_mean("up.0.0", 17)
    assert isinstance(value, float) and value == pytest.approx(float(sae.means[17]))
    with pytest.raises(EngineError, match="unknown block"):
        engine.feature_mean("down.9.9", 1)
    with pytest.raises(EngineError, match="out of range"):
        engine.feature_mean("mid.0", engine.n_features)

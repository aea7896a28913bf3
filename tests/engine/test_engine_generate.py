"""The generate function: one graph, the one-step math, the RGBA frame."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from engine_testkit import frame_with, image_of, x0_of

from graph_runtime.engine.engine import Engine
from graph_runtime.engine.errors import EngineError
from graph_runtime.engine.frame_guard import check_mask
from graph_runtime.engine.noise import noise_walk, seeded_noise
from graph_runtime.engine.schedule import SIGMA_MAX
from graph_runtime.graph.frame import BLOCKS, LATENT_DEV, NOISE_THETA, SLOTS, FrameParams


def test_generate_traces_as_one_graph_without_breaks():
    """fullgraph=True raises on any graph break; strengths, ids and prompts
    changing afterwards must not recompile (they are buffer writes)."""
    import torch._dynamo
    from torch._dynamo.utils import counters
    torch._dynamo.reset()
    counters.clear()
    engine = Engine.create("preview", device="cpu", compile="trace", warmup=False)
    ids = np.arange(len(BLOCKS) * SLOTS).reshape(len(BLOCKS), SLOTS)
    frame = frame_with(ids, 20.0, prompt_a="a", prompt_b="b", pos=0.3, theta=1.0)
    first = image_of(engine, frame)
    frame.strength[:] = -15.0
    frame.scene.feature_ids[2, 1] = 4321
    frame.scene.prompt_b = "c"
    frame.scene.touch()
    second = image_of(engine, frame)
    assert counters["stats"]["unique_graphs"] == 1
    assert not counters["graph_break"]
    assert counters["stats"]["calls_captured"] > 100      # the UNet really is inside
    assert not np.array_equal(first, second)
    eager = Engine.create("preview", device="cpu", compile="none", warmup=False)
    assert np.array_equal(image_of(eager, frame), second)  # traced == eager, bit for bit
    engine.close()
    eager.close()


def test_render_gives_rgba_uint8_in_a_reused_buffer(engine):
    frame = FrameParams()
    a = engine.render(frame)
    assert a.shape == (512, 512, 4) and a.dtype == np.uint8
    assert (a[..., 3] == 255).all()
    assert a[..., :3].std() > 0
    b = engine.render(frame)
    assert np.shares_memory(a, b)     # no allocation per frame: consume before the next render


def test_one_step_constants(engine):
    t, sigma = engine.generator.noise_level(torch.tensor(1.0))
    assert float(t) == 999.0
    assert float(sigma) == pytest.approx(14.6146, rel=1e-4) and SIGMA_MAX == pytest.approx(14.6146, rel=1e-5)
    t0, sigma0 = engine.generator.noise_level(torch.tensor(0.0))
    assert float(t0) == 0.0 and float(sigma0) == pytest.approx(0.02917, rel=1e-3)
    assert engine.generator.time_ids.tolist() == [[512, 512, 0, 0, 512, 512]]


def test_noise_walk_is_a_circle():
    a, b = seeded_noise(3, 8), seeded_noise(4, 8)
    assert torch.equal(seeded_noise(3, 8), a)                 # seeded: reproducible
    assert torch.equal(noise_walk(a, b, torch.tensor(0.0)), a)
    quarter = noise_walk(a, b, torch.tensor(math.pi / 2))
    torch.testing.assert_close(quarter, b, atol=1e-6, rtol=0)
    half = noise_walk(a, b, torch.tensor(0.7))
    assert half.std() == pytest.approx(1.0, abs=0.15)        # stays unit variance


def test_noise_angle_moves_the_image_and_wraps(engine):
    a = x0_of(engine, frame_with(theta=0.0))
    b = x0_of(engine, frame_with(theta=0.5))
    c = x0_of(engine, frame_with(theta=0.5 + 2 * math.pi * 10))     # wrapped on the host
    assert -math.pi <= engine.frame[NOISE_THETA] <= math.pi
    assert (a - b).abs().max() > 1e-2
    torch.testing.assert_close(b, c, atol=1e-3, rtol=1e-3)


def test_without_album_art_the_deviation_is_pure_noise(engine):
    full = frame_with()
    low = frame_with()
    low.vec[LATENT_DEV] = 0.2
    assert np.array_equal(image_of(engine, full), image_of(engine, low))


def test_nan_everywhere_still_gives_a_finite_frame(engine):
    frame = frame_with(np.zeros((len(BLOCKS), SLOTS)), 0.0)
    frame.vec[:] = np.nan
    before = engine.stats.clamped_mask_values
    image = image_of(engine, frame)
    assert engine.stats.clamped_mask_values == before + len(BLOCKS) * SLOTS * 256
    assert image[..., :3].std() > 0
    assert torch.isfinite(x0_of(engine, frame)).all()
    frame.vec[NOISE_THETA] = np.inf
    assert torch.isfinite(x0_of(engine, frame)).all()


def test_bad_frame_vec_and_mask_shapes_are_clear_errors(engine):
    frame = FrameParams()
    frame.vec = np.zeros(10, dtype=np.float32)
    with pytest.raises(EngineError, match="FrameParams.vec"):
        engine.render(frame)
    with pytest.raises(EngineError, match=r"16x16.*\(8, 8\)"):
        check_mask(np.ones((8, 8)), "block mid.0 slot 0")
    with pytest.raises(EngineError, match="block mid.0 slot 0"):
        check_mask(np.ones((16, 16, 3)), "block mid.0 slot 0")
    ok = check_mask(np.full((16, 16), 7.0))
    assert ok.dtype == np.float32 and ok.max() == 1.0
    bad_ids = FrameParams()
    bad_ids.scene.feature_ids = np.zeros((3, SLOTS), dtype=np.int32)
    with pytest.raises(EngineError, match="feature_ids"):
        engine.render(bad_ids)


def test_engine_rejects_bad_choices():
    with pytest.raises(EngineError, match="unknown model"):
        Engine.create("sdxl-lightning")
    with pytest.raises(EngineError, match="multiple of 64"):
        Engine.create("preview", device="cpu", size=500)


def test_other_sizes_interpolate_the_16x16_masks():
    small = Engine.create("preview", device="cpu", size=256, compile="none", warmup=False)
    ids = np.full((len(BLOCKS), SLOTS), -1)
    ids[1, 0] = 9
    mask = np.zeros((len(BLOCKS), SLOTS, 16, 16), dtype=np.float32)
    mask[..., :8] = 1.0
    seen = []
    small.steered["mid.0"].register_forward_hook(lambda m, i, o: seen.append(o[0].clone()))
    x0_of(small, frame_with(ids, 0.0, mask))
    x0_of(small, frame_with(ids, 60.0, mask))
    delta = (seen[1] - seen[0]).abs()[0]          # (C, 8, 8) at 256 px
    assert delta.shape[-2:] == (8, 8)
    assert delta[:, :, :3].max() > 0 and delta[:, :, 5:].max() == 0
    assert image_of(small, frame_with()).shape == (256, 256, 4)
    small.close()

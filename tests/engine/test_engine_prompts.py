"""Prompt SLERP (exact at the ends), PromptBlend freezing, the encode cache."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from engine_testkit import frame_with, image_of, x0_of

from graph_runtime.engine.errors import EngineError
from graph_runtime.engine.prompts import slerp
from graph_runtime.graph.frame import PromptBlend


@pytest.mark.parametrize("case", ["random", "equal", "opposite", "zero"])
def test_slerp_is_exact_at_zero_and_one(case):
    g = torch.Generator().manual_seed(0)
    a = torch.randn(1, 77, 64, generator=g)
    b = {"random": torch.randn(1, 77, 64, generator=g), "equal": a.clone(),
         "opposite": -a, "zero": torch.zeros(1, 77, 64)}[case]
    assert torch.equal(slerp(a, b, 0.0), a)
    assert torch.equal(slerp(a, b, 1.0), b)
    assert torch.equal(slerp(a, b, torch.tensor(0.0)), a)
    mid = slerp(a, b, 0.5)
    assert torch.isfinite(mid).all()


def test_slerp_keeps_the_arc():
    """Between unit vectors it stays on the sphere (a lerp would cut the chord)."""
    a, b = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    mid = slerp(a, b, 0.5)
    assert float(torch.atan2(mid[0, 1], mid[0, 0])) == pytest.approx(np.pi / 4, abs=1e-6)
    assert float(mid.norm()) == pytest.approx(1.0, abs=1e-6)


def test_prompt_position_zero_and_one_give_a_and_b(engine):
    fox, city = "a red fox in snow", "a glass city"
    at_a = image_of(engine, frame_with(prompt_a=fox, prompt_b=city, pos=0.0))
    at_b = image_of(engine, frame_with(prompt_a=fox, prompt_b=city, pos=1.0))
    only_a = image_of(engine, frame_with(prompt_a=fox, prompt_b=fox, pos=0.5))
    only_b = image_of(engine, frame_with(prompt_a=city, prompt_b=city, pos=0.5))
    assert np.array_equal(at_a, only_a)
    assert np.array_equal(at_b, only_b)
    assert not np.array_equal(at_a, at_b)


def test_freezing_the_blend_as_a_keeps_the_image(engine):
    """A new destination: A := PromptBlend(A, B, pos), B := new, pos := 0."""
    before = x0_of(engine, frame_with(prompt_a="dawn", prompt_b="dusk", pos=0.3))
    frozen = PromptBlend("dawn", "dusk", float(np.float32(0.3)))
    after = x0_of(engine, frame_with(prompt_a=frozen, prompt_b="midnight", pos=0.0))
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)
    nested = PromptBlend(frozen, "midnight", 0.0)
    torch.testing.assert_close(x0_of(engine, frame_with(prompt_a=nested, prompt_b="x")), before,
                               atol=1e-5, rtol=1e-5)


def test_prompts_are_encoded_once_and_can_be_prefetched(engine):
    encoder = engine.prompts
    n = encoder.encodes
    engine.load(frame_with(prompt_a="cached once", prompt_b="cached once"))
    engine.load(frame_with(prompt_a="cached once", prompt_b=""))
    assert encoder.encodes == n + 1
    coming = frame_with(prompt_a="prefetched a", prompt_b="prefetched b")
    engine.prefetch(coming.scene).result(timeout=60)
    assert encoder.encodes == n + 3
    engine.load(coming)                         # the scene change finds them cached
    assert encoder.encodes == n + 3
    embeds, pooled = encoder.encode("anything")
    assert embeds.shape == (1, 77, 64) and pooled.shape == (1, 32)


def test_bad_prompts_are_clear_errors(engine):
    with pytest.raises(EngineError, match="text or a PromptBlend"):
        engine.render(frame_with(prompt_a=42))
    with pytest.raises(EngineError, match=r"position must be in \[0, 1\]"):
        engine.render(frame_with(prompt_b=PromptBlend("a", "b", float("nan"))))
    deep = "x"
    for _ in range(40):
        deep = PromptBlend(deep, "y", 0.5)
    with pytest.raises(EngineError, match="nested deeper"):
        engine.render(frame_with(prompt_a=deep))

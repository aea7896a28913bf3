"""Prompt and latent destinations; the node-to-node transition is continuous."""
import math
import zlib

import numpy as np
import pytest
from nodes_helpers import DT, compile_, run, single

from graph_runtime.graph.compiler import CompileError, compile_patch
from graph_runtime.graph.frame import LATENT_DEV, PROMPT_POS, PromptBlend
from graph_runtime.graph.patch import Patch
from hambajuba_nodes.dest import MAX_BLEND_DEPTH, blend_depth, freeze, resolve_prompt, slerp
from hambajuba_nodes.registry import default_registry


def embedder(dim=64):
    """A stand-in text encoder: a fixed random vector per text."""
    table = {}

    def embed(text):
        if text not in table:
            seed = zlib.crc32(text.encode())
            table[text] = np.random.default_rng(seed).standard_normal(dim)
        return table[text]
    return embed


def image_embedding(frame, embed):
    """What the engine would encode for this frame."""
    s = frame.scene
    return slerp(resolve_prompt(s.prompt_a, embed), resolve_prompt(s.prompt_b, embed),
                 float(frame.vec[PROMPT_POS]))


def test_slerp_endpoints_and_norm():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(32), rng.standard_normal(32)
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    np.testing.assert_allclose(slerp(a, b, 0.0), a, atol=1e-12)
    np.testing.assert_allclose(slerp(a, b, 1.0), b, atol=1e-12)
    for t in (0.25, 0.5, 0.8):
        assert np.linalg.norm(slerp(a, b, t)) == pytest.approx(1.0)
    np.testing.assert_allclose(slerp(a, a, 0.3), a)


def test_slider_glides_to_the_param():
    plan, node = single("dest.prompt", {"mode": "slider", "position": 0.7})
    y = run(plan, node, "position", 2.0)
    assert y[-1] == pytest.approx(0.7, abs=1e-6)
    assert plan.frame.vec[PROMPT_POS] == pytest.approx(0.7, abs=1e-6)
    scene = plan.frame.scene
    assert scene.prompt_a == node.p["prompt_a"] and scene.prompt_b == node.p["prompt_b"]


def test_reactive_pushes_toward_b_and_drifts_back_slower():
    plan, node = single("dest.prompt", {"mode": "reactive", "glide_ms": 200.0,
                                        "release_ms": 1500.0})
    node.drive.v = 1.0
    up = run(plan, node, "position", 2.0)
    assert up[-1] > 0.99
    node.drive.v = 0.0
    down = run(plan, node, "position", 2.0, start=2.0)
    # rising: 63% in 0.2 s; falling: 63% takes 1.5 s
    assert up[9] == pytest.approx(1 - math.exp(-0.2 / 0.2), abs=0.05)
    assert down[74] == pytest.approx(up[-1] * math.exp(-1.5 / 1.5), abs=0.05)


def test_linked_follows_its_signal():
    plan, node = single("dest.prompt", {"mode": "linked", "glide_ms": 100.0})
    node.drive.v = 0.3
    assert run(plan, node, "position", 2.0)[-1] == pytest.approx(0.3, abs=1e-6)
    node.drive.v = 7.0  # out of range: clamped
    assert run(plan, node, "position", 2.0, start=2.0)[-1] == pytest.approx(1.0, abs=1e-6)


def test_next_destination_freezes_the_blend_without_a_jump():
    embed = embedder()
    plan, node = single("dest.prompt", {"mode": "linked", "glide_ms": 300.0,
                                        "playlist": "a forest of crystals\na desert at noon"})
    node.drive.v = 0.6
    run(plan, node, "position", 3.0)
    frame = plan.frame
    before = image_embedding(frame, embed)
    a0, b0, pos0 = frame.scene.prompt_a, frame.scene.prompt_b, float(frame.vec[PROMPT_POS])
    version = frame.scene.version
    # the transition frame and what follows
    trail = []
    for i in range(100):
        node.next.v = i == 0
        plan.run(3.0 + i * DT, DT)
        trail.append(image_embedding(frame, embed))
    s = frame.scene
    assert isinstance(s.prompt_a, PromptBlend)
    assert (s.prompt_a.a, s.prompt_a.b) == (a0, b0)
    assert s.prompt_a.pos == pytest.approx(pos0, abs=1e-6)
    assert s.prompt_b == "a forest of crystals"
    assert s.version > version  # the engine re-encodes once
    steps = [np.linalg.norm(x - y) for x, y in zip([before] + trail, trail)]
    scale = np.linalg.norm(before)
    # the first frame after the freeze moved no more than a normal glide step
    assert steps[0] < 0.1 * scale
    assert max(steps) < 0.1 * scale  # continuous all along
    # and it really travels on toward the new destination
    target = slerp(resolve_prompt(s.prompt_a, embed), embed("a forest of crystals"), 0.6)
    assert np.linalg.norm(trail[-1] - target) < 0.01 * scale
    assert node.destination.v == 1.0


def test_freeze_is_exact_at_the_switch():
    """Right at the switch (before any glide) the image is identical."""
    embed = embedder()
    rng = np.random.default_rng(3)
    for pos in rng.random(5):
        a, b = "red", "blue"
        before = slerp(embed(a), embed(b), pos)
        after = slerp(resolve_prompt(freeze(a, b, pos), embed), embed("green"), 0.0)
        np.testing.assert_allclose(after, before, atol=1e-12)
    assert freeze("a", "b", 0.0) == "a" and freeze("a", "b", 1.0) == "b"


def test_editing_prompt_b_transitions_across_a_recompile():
    embed = embedder()
    reg = default_registry()
    p = Patch()
    p.add_node("dest.prompt", {"mode": "slider", "position": 0.5, "prompt_a": "sea",
                               "prompt_b": "fire"}, node_id="d")
    plan = compile_patch(p, reg)
    run(plan, plan.nodes["d"], "position", 2.0)
    before = image_embedding(plan.frame, embed)
    p.node("d").params["prompt_b"] = "ice"  # the performer types a new destination
    plan2 = compile_patch(p, reg, previous=plan)
    plan2.run(2.0, DT)
    s = plan2.frame.scene
    assert s.prompt_a == PromptBlend("sea", "fire", pytest.approx(0.5, abs=1e-3))
    assert s.prompt_b == "ice"
    assert float(plan2.frame.vec[PROMPT_POS]) == 0.0  # slider mode waits at 0
    np.testing.assert_allclose(image_embedding(plan2.frame, embed), before, atol=1e-6)
    # moving the slider again travels toward "ice"
    p.node("d").params["position"] = 0.4
    plan3 = compile_patch(p, reg, previous=plan2)
    assert run(plan3, plan3.nodes["d"], "position", 2.0)[-1] == pytest.approx(0.4, abs=1e-4)


def test_playlist_free_next_alternates_and_nesting_is_bounded():
    plan, node = single("dest.prompt", {"mode": "linked", "glide_ms": 0.0})
    node.drive.v = 0.5
    for i in range(3 * MAX_BLEND_DEPTH):
        node.next.v = True
        plan.run(i * DT, DT)
        node.next.v = False
        plan.run(i * DT + DT / 2, DT)
    assert blend_depth(plan.frame.scene.prompt_a) <= MAX_BLEND_DEPTH
    assert plan.frame.scene.prompt_b in (node.p["prompt_a"], node.p["prompt_b"])


@pytest.mark.parametrize("pos", [0.2, 0.8])
def test_freeze_caps_nesting_whichever_side_is_deep(pos):
    deep = "start"
    for i in range(3 * MAX_BLEND_DEPTH):
        deep = freeze(deep, f"p{i}", pos) if i % 2 else freeze(f"p{i}", deep, pos)
        assert blend_depth(deep) <= MAX_BLEND_DEPTH


def test_one_prompt_destination_per_patch():
    p = Patch()
    p.add_node("dest.prompt", {}, node_id="first")
    p.add_node("dest.prompt", {}, node_id="second")
    with pytest.raises(CompileError) as e:
        compile_(p)
    assert "second" in str(e.value)


# -- latent -------------------------------------------------------------------------------

def test_latent_slider(tmp_path):
    img = tmp_path / "cover.png"
    img.write_bytes(b"\x89PNG")  # never read by the node: the engine decodes it
    plan, node = single("dest.latent", {"image": str(img), "deviation": 0.2})
    plan.run(0.0, DT)
    assert plan.frame.scene.latent_image == str(img)
    assert plan.frame.vec[LATENT_DEV] == pytest.approx(0.2)
    assert not plan.warnings


def test_latent_driven(tmp_path):
    img = tmp_path / "cover.png"
    img.write_bytes(b"\x89PNG")
    plan, node = single("dest.latent", {"image": str(img), "mode": "driven"})
    for x, want in [(0.7, 0.7), (-1.0, 0.0), (math.nan, 0.0)]:
        node.drive.v = x
        plan.run(0.0, DT)
        assert plan.frame.vec[LATENT_DEV] == pytest.approx(want)
    assert node.nan_count == 1


def test_latent_missing_image_warns_on_the_node_and_shows_noise(tmp_path):
    plan, node = single("dest.latent", {"image": str(tmp_path / "gone.jpg"), "mode": "driven"})
    found = [w for w in plan.warnings if "not found" in str(w)]
    assert found and found[0].node == node.id  # filed under the node, for the editor to draw
    node.drive.v = 0.2
    plan.run(0.0, DT)
    assert plan.frame.scene.latent_image is None and plan.frame.vec[LATENT_DEV] == 1.0


def test_latent_without_image_is_pure_noise():
    plan, node = single("dest.latent", {"deviation": 0.1})
    plan.run(0.0, DT)
    assert plan.frame.scene.latent_image is None and plan.frame.vec[LATENT_DEV] == 1.0


def test_latent_never_hands_a_non_image_path_to_the_engine():
    p = Patch()
    p.add_node("dest.latent", {"image": "/etc/passwd"}, node_id="art")
    plan = compile_(p)
    assert plan.frame.scene.latent_image is None
    assert any(w.node == "art" and "not a" in str(w) for w in plan.warnings)

"""SAE block sinks fill FrameParams as specified (DESIGN.md section 3)."""
import math

import numpy as np
import pytest
from nodes_helpers import DT, compile_, single

from graph_runtime.graph.compiler import CompileError
from graph_runtime.graph.frame import BLOCKS, SLOTS, STRENGTH_BOUND
from graph_runtime.graph.patch import Patch

MEANS = {("mid.0", 77): 18.7, ("up.0.1", 5119): 47.6}  # real sdxl-unbox means run ~10-50


def feature_mean(block, fid):
    return MEANS.get((block, fid), 1.0)


def test_sink_writes_scaled_strength_mask_and_feature_id():
    p = Patch()
    p.add_node("value.constant", {"value": 12.0}, node_id="s")
    p.add_node("value.constant", {"value": 0.5}, node_id="g")
    p.add_node("mask.paint", {"preset": "ceiling"}, node_id="m")
    p.add_node("sae.block", {"block": "mid.0", "feature_id": 77}, node_id="sink")
    p.connect(("s", "out"), ("sink", "strength"))
    p.connect(("g", "out"), ("sink", "gain"))
    p.connect(("m", "out"), ("sink", "mask"))
    plan = compile_(p, feature_mean=feature_mean)
    version = plan.frame.scene.version
    frame = plan.run(0.0, DT)
    b = BLOCKS.index("mid.0")
    assert frame.scene.feature_ids[b, 0] == 77
    assert frame.strength[b, 0] == pytest.approx(12.0 * 0.5 * 18.7)
    assert np.all(frame.masks[b, 0, :8] == 1.0) and np.all(frame.masks[b, 0, 8:] == 0.0)
    # the rest of the frame is untouched: unused slots carry no feature, zero strength,
    # all-ones masks
    others = np.ones((len(BLOCKS), SLOTS), bool)
    others[b, 0] = False
    assert np.all(frame.scene.feature_ids[others] == -1)
    assert np.all(frame.strength[others] == 0.0)
    assert np.all(frame.masks[others] == 1.0)
    assert plan.nodes["sink"].applied.v == pytest.approx(112.2)
    assert plan.nodes["sink"].clipped.v == 0.0
    # per frame the scene does not change (the engine re-reads it only on a version bump)
    plan.run(DT, DT)
    assert plan.frame.scene.version == version


def test_scaling_off_steers_in_raw_units():
    plan, node = single("sae.block", {"block": "up.0.1", "feature_id": 5119,
                                      "scale_by_mean": False, "strength": 8.0},
                        feature_mean=feature_mean)
    frame = plan.run(0.0, DT)
    assert frame.strength[BLOCKS.index("up.0.1"), 0] == 8.0


def test_unconnected_inputs_use_documented_defaults():
    """strength reads its param (0), gain 1, mask all ones."""
    plan, node = single("sae.block", {"block": "down.2.1", "feature_id": 3})
    frame = plan.run(0.0, DT)
    assert frame.strength[0, 0] == 0.0 and np.all(frame.masks[0, 0] == 1.0)
    plan, node = single("sae.block", {"block": "down.2.1", "strength": -20.0})
    assert plan.run(0.0, DT).strength[0, 0] == -20.0


def test_sinks_on_one_block_take_consecutive_slots_and_a_fifth_is_refused():
    p = Patch()
    for i in range(SLOTS):
        p.add_node("sae.block", {"block": "up.0.0", "feature_id": 100 + i, "strength": float(i)},
                   node_id=f"k{i}")
    plan = compile_(p)
    frame = plan.run(0.0, DT)
    b = BLOCKS.index("up.0.0")
    assert list(frame.scene.feature_ids[b]) == [100, 101, 102, 103]
    assert list(frame.strength[b]) == [0.0, 1.0, 2.0, 3.0]
    p.add_node("sae.block", {"block": "up.0.0", "feature_id": 9}, node_id="one_too_many")
    with pytest.raises(CompileError) as e:
        compile_(p)
    assert "one_too_many" in str(e.value) and "up.0.0" in str(e.value)


def test_nan_strength_never_reaches_frame_params():
    plan, node = single("sae.block", {"block": "mid.0"})
    node.strength.v = math.nan
    frame = plan.run(0.0, DT)
    assert frame.strength[1, 0] == 0.0 and np.all(np.isfinite(frame.vec))
    assert plan.nan_count() == 1
    node.strength.v = math.inf
    plan.run(DT, DT)
    assert np.all(np.isfinite(plan.frame.vec)) and plan.nan_count() == 2


def test_strength_clamped_to_the_bound_visibly():
    """400 typical activations of a feature whose mean is 47.6 (the largest on
    down.2.1) is past the bound: the clamp is written, `applied` says so, and
    the sink and the frame count it per block."""
    plan, node = single("sae.block", {"block": "mid.0", "strength": 400.0},
                        feature_mean=lambda b, f: 47.6)
    frame = plan.run(0.0, DT)
    assert frame.strength[1, 0] == STRENGTH_BOUND and frame.clamped == 1
    assert node.applied.v == STRENGTH_BOUND            # the value really written, not 19040
    assert node.clipped.v == 1.0 and frame.clipped == [0, 1, 0, 0]
    node.strength.v = -400.0
    plan.run(DT, DT)
    assert node.applied.v == -STRENGTH_BOUND and node.clipped.v == 2.0
    node.strength.v = 40.0                             # a shipped stage's peak: 1904, not clipped
    plan.run(2 * DT, DT)
    assert node.applied.v == pytest.approx(40.0 * 47.6) and node.clipped.v == 2.0
    assert frame.clipped == [0, 2, 0, 0]


def test_the_bound_passes_the_shipped_stages_on_every_real_mean():
    """Stages reach +-40 in the shipped patches; real means reach ~68 on any block."""
    assert 40.0 * 68.0 < STRENGTH_BOUND < 65504.0 / 4   # and far below float16's range


@pytest.mark.parametrize("params, field", [({"feature_id": 5120}, "feature_id"),
                                           ({"feature_id": -1}, "feature_id"),
                                           ({"feature_id": 3.5}, "feature_id"),
                                           ({"block": "up.1.0"}, "block")])
def test_bad_params_refused_at_load(params, field):
    p = Patch()
    p.add_node("sae.block", params, node_id="bad_sink")
    with pytest.raises(CompileError) as e:
        compile_(p)
    assert "bad_sink" in str(e.value) and field in str(e.value)


def test_moving_masks_are_copied_every_frame_constant_ones_once():
    from hambajuba_nodes.mask import pitch_gaussians, preset_grid
    p = Patch()
    p.add_node("mask.pitch", {}, node_id="pm")
    p.add_node("mask.paint", {"preset": "floor"}, node_id="floor")
    p.add_node("sae.block", {"block": "up.0.0"}, node_id="moving")
    p.add_node("sae.block", {"block": "up.0.0"}, node_id="still")
    p.connect(("pm", "out"), ("moving", "mask"))
    p.connect(("floor", "out"), ("still", "mask"))
    plan = compile_(p)
    b = BLOCKS.index("up.0.0")
    bands = pitch_gaussians()
    for i, pitch in enumerate((0.0, 0.5, 1.0)):
        plan.nodes["pm"].pitch.v = pitch
        frame = plan.run(i * DT, DT)
        np.testing.assert_array_equal(frame.masks[b, 0], bands[round(pitch * 11)])
        np.testing.assert_array_equal(frame.masks[b, 1], preset_grid("floor"))

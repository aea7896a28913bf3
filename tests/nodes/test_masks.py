"""Spatial masks: preset shapes, pitch bands, mixing."""
import math

import numpy as np
import pytest
from nodes_helpers import DT, compile_, single

from graph_runtime.graph.compiler import CompileError
from graph_runtime.graph.patch import Patch
from hambajuba_nodes.mask import pitch_gaussians, preset_cells


def paint(preset, grid=None):
    params = {"preset": preset} if grid is None else {"preset": preset, "grid": grid}
    plan, node = single("mask.paint", params)
    plan.run(0.0, DT)
    m = node.out.v
    assert m.shape == (16, 16) and m.dtype == np.float32
    return m


def test_floor_is_the_bottom_half():
    m = paint("floor")
    assert np.all(m[8:] == 1.0) and np.all(m[:8] == 0.0)


def test_ceiling_is_the_top_half():
    m = paint("ceiling")
    assert np.all(m[:8] == 1.0) and np.all(m[8:] == 0.0)


def test_center_is_the_middle_band():
    m = paint("center")
    assert np.all(m[4:12] == 1.0)
    assert np.all(m[:4] == 0.0) and np.all(m[12:] == 0.0)


def test_fill_and_clear():
    assert np.all(paint("fill") == 1.0)
    assert np.all(paint("clear") == 0.0)


def test_custom_grid_is_what_was_painted():
    cells = [0.0] * 256
    for i in range(16):  # a diagonal, row 0 at the top
        cells[i * 16 + i] = 1.0
    cells[5] = 0.5
    m = paint("custom", cells)
    np.testing.assert_array_equal(m, np.asarray(cells, dtype=np.float32).reshape(16, 16))


def test_preset_cells_round_trip_through_the_grid_param():
    np.testing.assert_array_equal(paint("custom", preset_cells("floor")), paint("floor"))


@pytest.mark.parametrize("grid, why", [([1.0] * 255, "256"), ([1.5] + [0.0] * 255, "[0, 1]"),
                                       ([True] * 256, "[0, 1]")])
def test_bad_grid_refused_at_load_naming_the_node(grid, why):
    p = Patch()
    p.add_node("mask.paint", {"preset": "custom", "grid": grid}, node_id="brush")
    with pytest.raises(CompileError) as e:
        compile_(p)
    assert "brush" in str(e.value) and why in str(e.value)


def test_twelve_pitch_bands_low_at_the_bottom():
    bands = pitch_gaussians(0.25)
    assert len(bands) == 12
    peaks = [int(np.argmax(b[:, 0])) for b in bands]
    assert peaks[0] == 15 and peaks[-1] == 0  # lowest note at the bottom row
    assert all(a >= b for a, b in zip(peaks, peaks[1:]))  # rising with pitch
    for b in bands:
        assert np.all((b >= 0.0) & (b <= 1.0))
        assert np.all(b == b[:, :1])  # horizontal bands: same across a row
    # spread 0.25: the part above e^-1/2 covers about half the height
    mid = bands[6][:, 0]
    assert 7 <= np.count_nonzero(mid >= math.exp(-0.5)) <= 9


@pytest.mark.parametrize("pitch, level", [(0.0, 0), (0.04, 0), (0.5, 6), (1.0, 11), (1.7, 11),
                                          (-0.2, 0)])
def test_pitch_mask_picks_the_band(pitch, level):
    plan, node = single("mask.pitch")
    node.pitch.v = pitch
    plan.run(0.0, DT)
    assert node.level.v == level
    np.testing.assert_array_equal(node.out.v, pitch_gaussians(0.25)[level])


def test_pitch_mask_follows_a_rising_melody_without_allocating_new_buffers():
    plan, node = single("mask.pitch")
    buf = node.out.v
    centres = []
    for i, p in enumerate(np.linspace(0.0, 1.0, 30)):
        node.pitch.v = float(p)
        plan.run(i * DT, DT)
        assert node.out.v is buf  # written in place
        rows = node.out.v[:, 0]
        centres.append(float((rows * np.arange(16)).sum() / rows.sum()))
    assert all(a >= b for a, b in zip(centres, centres[1:]))


def test_pitch_mask_nan_counted():
    plan, node = single("mask.pitch")
    node.pitch.v = math.nan
    plan.run(0.0, DT)
    assert node.level.v == 0 and node.nan_count == 1


def _mix(mode, a_preset, b_preset):
    p = Patch()
    p.add_node("mask.paint", {"preset": a_preset}, node_id="a")
    p.add_node("mask.paint", {"preset": b_preset}, node_id="b")
    p.add_node("mask.mix", {"mode": mode}, node_id="m")
    p.connect(("a", "out"), ("m", "a"))
    p.connect(("b", "out"), ("m", "b"))
    plan = compile_(p)
    plan.run(0.0, DT)
    return plan.nodes["m"].out.v


def test_mix_modes():
    floor, center = paint("floor"), paint("center")
    np.testing.assert_array_equal(_mix("multiply", "floor", "center"), floor * center)
    np.testing.assert_array_equal(_mix("max", "floor", "center"), np.maximum(floor, center))
    added = _mix("add", "floor", "center")
    np.testing.assert_array_equal(added, np.minimum(floor + center, 1.0))
    assert added.max() == 1.0  # clamped where they overlap


def test_mix_unconnected_inputs_are_all_ones():
    plan, node = single("mask.mix")
    plan.run(0.0, DT)
    assert np.all(node.out.v == 1.0)

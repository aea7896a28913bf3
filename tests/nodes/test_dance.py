"""The dance model: stage geometry, sources by param, curves, silence."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nodes_helpers import DT, compile_, run, single, track

from graph_runtime.graph.patch import Patch


def dancer(params=None, analysis=None):
    return single("dance.dancer", params or {}, analysis=analysis)


@pytest.mark.parametrize("intensity, want", [(0.0, 0.0), (0.5, 15.0), (1.0, 30.0)])
def test_intensity_moves_from_home_to_the_position(intensity, want):
    plan, node = dancer()  # defaults: -30 / 0 / +30, position right, intensity input
    node.intensity.v = intensity
    plan.run(0.0, DT)
    assert node.out.v == pytest.approx(want)


def test_the_formula_with_an_off_centre_home():
    plan, node = dancer({"stage_left": -10.0, "stage_home": 5.0, "stage_right": 40.0,
                         "position_source": "input"})
    for pos, inten in [(0.0, 1.0), (0.5, 0.5), (0.25, 0.8), (1.0, 0.0)]:
        node.position.v, node.intensity.v = pos, inten
        plan.run(0.0, DT)
        place = -10.0 + pos * 50.0
        assert node.out.v == pytest.approx(5.0 + inten * (place - 5.0))


def test_left_leans_the_other_way():
    plan, node = dancer({"position_source": "left"})
    node.intensity.v = 1.0
    plan.run(0.0, DT)
    assert node.out.v == -30.0


@pytest.mark.parametrize("curve, gamma, x, want", [
    ("linear", 1.0, 0.25, 0.25), ("gamma", 2.0, 0.5, 0.25), ("gamma", 0.5, 0.25, 0.5),
    ("clip", 1.0, 0.5, 0.75), ("clip", 1.0, 0.8, 1.0), ("linear", 1.0, 1.4, 1.0)])
def test_intensity_curves(curve, gamma, x, want):
    plan, node = dancer({"curve": curve, "gamma": gamma})
    node.intensity.v = x
    plan.run(0.0, DT)
    assert node.amount.v == pytest.approx(want)
    assert node.out.v == pytest.approx(30.0 * want)


def _stem_dancer(params, **channels):
    a = track(10, **channels)
    p = Patch()
    p.add_node("audio.source", {"stem": "vocals"}, node_id="src")
    p.add_node("dance.dancer", params, node_id="d")
    p.connect(("src", "stem"), ("d", "stem"))
    plan = compile_(p, a)
    return plan, plan.nodes["d"]


def test_intensity_source_reads_the_stem_channel():
    plan, node = _stem_dancer({"intensity_source": "flux"}, vocals__flux=0.4,
                              vocals__energy_smooth=0.5)
    plan.run(1.0, DT)
    assert node.out.v == pytest.approx(12.0)


@pytest.mark.parametrize("source, channel", [("pitch", "vocals__pitch_normalized"),
                                             ("brightness", "vocals__brightness"),
                                             ("tension", "global__tension")])
def test_position_sources(source, channel):
    plan, node = _stem_dancer({"position_source": source, "intensity_source": "energy_smooth"},
                              vocals__energy_smooth=1.0, **{channel: 0.25})
    plan.run(1.0, DT)
    assert node.pos.v == pytest.approx(0.25)
    assert node.out.v == pytest.approx(-15.0)  # a quarter of the way from -30 to +30


def test_chroma_position_is_the_strongest_pitch_class():
    n = 500
    chroma = {f"global__chroma_{i}": np.zeros(n) for i in range(12)}
    chroma["global__chroma_9"] = np.full(n, 0.8)  # A
    chroma["global__chroma_2"] = np.full(n, 0.3)
    plan, node = _stem_dancer({"position_source": "chroma", "intensity_source": "energy_smooth"},
                              vocals__energy_smooth=1.0, **chroma)
    plan.run(2.0, DT)
    assert node.pos.v == pytest.approx(9 / 11)


def _silence_run(mode):
    n = 500
    energy = np.where(np.arange(n) < 100, 0.8, 0.0)  # stops at 2 s
    pitch = np.full(n, 0.9)
    plan, node = _stem_dancer({"position_source": "pitch", "silence": mode},
                              vocals__energy_smooth=energy, vocals__pitch_normalized=pitch)
    node.intensity.v = 1.0  # e.g. a sustained model still moving in the silence
    return run(plan, node, "out", 8.0)


def test_silence_hold_keeps_the_position():
    y = _silence_run("hold")
    assert y[99] == pytest.approx(24.0)  # -30 + 0.9 * 60
    assert np.all(y[100:] == y[99])  # not a hair of motion


def test_silence_home_drifts_back_with_1500ms_time_constant():
    y = _silence_run("home")
    start = 24.0
    # after 1.5 s of silence, e^-1 of the way is left
    assert y[99 + 75] == pytest.approx(start * math.exp(-1.0), rel=0.02)
    assert abs(y[-1]) < 0.1 * start
    assert np.all(np.diff(y[100:]) <= 0.0)


def test_no_stem_silence_uses_the_intensity_and_warns():
    plan, node = dancer({"intensity_source": "energy_smooth"})
    assert any("no stem" in str(w) for w in plan.warnings)
    plan.run(0.0, DT)
    assert node.out.v == 0.0  # its stem reads silence


def test_nan_intensity_is_replaced_and_counted():
    plan, node = dancer()
    node.intensity.v = math.nan
    plan.run(0.0, DT)
    assert node.out.v == 0.0 and node.nan_count == 1


@settings(max_examples=200, deadline=None)
@given(intensity=st.floats(-10, 10), position=st.floats(-10, 10),
       left=st.floats(-400, 400), right=st.floats(-400, 400), home_frac=st.floats(0, 1))
def test_output_stays_on_the_stage(intensity, position, left, right, home_frac):
    lo, hi = min(left, right), max(left, right)
    home = lo + home_frac * (hi - lo)
    plan, node = dancer({"stage_left": left, "stage_right": right, "stage_home": home,
                         "position_source": "input"})
    node.intensity.v, node.position.v = intensity, position
    plan.run(0.0, DT)
    assert lo - 1e-6 <= node.out.v <= hi + 1e-6

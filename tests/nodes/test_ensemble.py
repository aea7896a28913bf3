"""Prominence: the formula on hand-made cases, and each modulation on synthetic tracks."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nodes_helpers import DT, FPS, run, single, track

from graph_runtime.analysis.store import STEMS, pair_key
from hambajuba_nodes.ensemble import RANKS, decay_hold, prominence

N = 500  # 10 s


@pytest.mark.parametrize("args, want", [
    # base, novelty, coupling, call_response, gate, surprise
    ((1.0, 0.0, 0.0, 1.0, 1.0, 0.0), 1.0),            # a lead, playing
    ((0.65, 0.0, 0.5, 1.0, 1.0, 0.0), 0.975),          # support, fully locked with its peer
    ((0.40, 0.3, 0.0, 1.3, 1.0, 0.0), 0.676),          # background with a fill, calling
    ((0.40, 0.0, 0.0, 0.6, 1.0, 0.0), 0.24),           # background, answering
    ((0.25, 0.0, 0.0, 1.0, 0.0, 0.0), 0.0),            # subtle and silent
    ((0.05, 0.0, 0.0, 1.0, 1.0, 0.7), 0.75),           # auto, just promoted
    ((1.0, 0.3, 0.5, 1.3, 1.0, 0.0), 1.0),             # clamped at 1
    ((0.65, 0.2, 0.1, 1.0, 0.5, 0.0), 0.65 * 1.3 * 0.5),
])
def test_formula_hand_made(args, want):
    assert prominence(*args) == pytest.approx(want)


@given(st.sampled_from(list(RANKS.values())), st.floats(0, 0.3), st.floats(0, 0.5),
       st.floats(0.6, 1.3), st.floats(0, 1), st.floats(0, 0.7))
def test_formula_in_unit_range(base, novelty, coupling, call_response, gate, surprise):
    assert 0.0 <= prominence(base, novelty, coupling, call_response, gate, surprise) <= 1.0


def test_rank_weights():
    assert RANKS == {"R1": 1.0, "R2": 0.65, "R3": 0.40, "R4": 0.25, "auto": 0.05}


def ensemble(ranks: dict, **channels):
    a = track(N / FPS, **channels)
    plan, node = single("ensemble.prominence", {f"rank_{s}": r for s, r in ranks.items()},
                        analysis=a)
    return plan, node


def series(plan, node, stem):
    return run(plan, node, stem, N / FPS)


def test_ranked_playing_stems_sit_at_their_base():
    ranks = {"bass": "R1", "drums": "R2", "vocals": "R3", "other": "R4"}
    plan, node = ensemble(ranks, **{f"{s}__activity": 1.0 for s in ranks})
    plan.run(5.0, DT)
    for s, r in ranks.items():
        assert getattr(node, s).v == pytest.approx(RANKS[r])
    for s in STEMS:
        if s not in ranks:
            assert getattr(node, s).v == 0.0  # off


@pytest.mark.parametrize("lock, want", [(0.3, 0.65), (0.5, 0.65), (0.75, 0.65 * 1.25),
                                        (1.0, 0.65 * 1.5)])
def test_coupling_bonus_for_locked_peers(lock, want):
    key = pair_key("bass", "drums").replace("/", "__")
    plan, node = ensemble({"bass": "R2", "drums": "R2"}, bass__activity=1.0, drums__activity=1.0,
                          **{f"coupling__{key}__lock_index": lock})
    plan.run(5.0, DT)
    assert node.bass.v == pytest.approx(want)
    assert node.drums.v == pytest.approx(want)


def test_no_coupling_bonus_across_ranks():
    key = pair_key("bass", "drums")
    plan, node = ensemble({"bass": "R2", "drums": "R3"}, bass__activity=1.0, drums__activity=1.0,
                          **{f"coupling__{key}__lock_index": 1.0})
    plan.run(5.0, DT)
    assert node.bass.v == pytest.approx(0.65) and node.drums.v == pytest.approx(0.40)


def test_call_response_boosts_the_caller_and_fades_the_answer():
    key = pair_key("vocals", "other")
    plan, node = ensemble({"vocals": "R3", "other": "R3"}, vocals__activity=1.0,
                          other__activity=1.0, vocals__energy_smooth=0.8,
                          other__energy_smooth=0.3, **{f"coupling__{key}__call_response": 1.0})
    plan.run(5.0, DT)
    assert node.vocals.v == pytest.approx(0.40 * 1.3)
    assert node.other.v == pytest.approx(0.40 * 0.6)


def test_activity_gate_fades_out_a_silent_stem():
    activity = np.where(np.arange(N) < 250, 1.0, 0.0)  # stops at 5 s
    plan, node = ensemble({"drums": "R1"}, drums__activity=activity)
    y = series(plan, node, "drums")
    assert y[249] == pytest.approx(1.0)
    # 300 ms after the last active frame, e^-1 is left
    assert y[249 + 15] == pytest.approx(math.exp(-1.0), rel=0.01)
    assert y[-1] < 1e-3
    assert np.all(np.diff(y[250:]) <= 0.0)  # gracefully: no bumps


def test_novelty_boost_while_novelty_rises():
    nov = np.zeros(N)
    nov[200:215] = np.linspace(0.0, 0.6, 15)  # rising 2 units/s: a fill
    nov[215:] = 0.6  # then flat: doing the same thing again is not new
    plan, node = ensemble({"other": "R3"}, other__activity=1.0, other__novelty_short=nov)
    y = series(plan, node, "other")
    assert y[150] == pytest.approx(0.40)
    assert y[205] == pytest.approx(0.40 * 1.3, rel=0.02)
    assert y[-1] == pytest.approx(0.40, abs=1e-3)  # the boost has worn off


def test_surprise_promotion_on_layer_entry():
    entry = np.zeros(N)
    entry[200] = 1.0  # the saxophone enters at 4 s
    plan, node = ensemble({"other_high": "auto", "drums": "R2"}, other_high__activity=1.0,
                          other_high__layer_entry=entry, drums__activity=1.0,
                          drums__layer_entry=entry)
    y = series(plan, node, "other_high")
    assert y[190] == pytest.approx(0.05)  # barely there before
    assert y[200] == pytest.approx(0.75, abs=0.01)  # jumps near rank 1
    assert y[200 + 150] == pytest.approx(0.05 + 0.7 * math.exp(-3.0), abs=0.01)  # ~3 s later
    assert np.all(np.diff(y[200:]) <= 1e-12)
    d = series(*ensemble({"drums": "R2"}, drums__activity=1.0, drums__layer_entry=entry), "drums")
    assert d.max() == pytest.approx(0.65)  # ranked stems are not promoted


def test_surprise_on_strong_novelty():
    nov = np.where(np.arange(N) >= 300, 0.9, 0.1)
    plan, node = ensemble({"vocals": "auto"}, vocals__activity=1.0, vocals__novelty_medium=nov)
    y = series(plan, node, "vocals")
    assert y[300] > 0.7 and y[290] == pytest.approx(0.05)


def test_energy_output_is_prominence_weighted():
    plan, node = ensemble({"bass": "R1", "drums": "R3"}, bass__activity=1.0, drums__activity=1.0,
                          bass__energy_smooth=0.2, drums__energy_smooth=0.9)
    plan.run(5.0, DT)
    assert node.energy.v == pytest.approx((1.0 * 0.2 + 0.4 * 0.9) / 1.4)


def test_no_analysis_is_silence():
    plan, node = single("ensemble.prominence", {"rank_bass": "R1"})
    plan.run(1.0, DT)
    assert node.bass.v == 0.0 and node.energy.v == 0.0


def test_decay_hold_matches_the_loop():
    rng = np.random.default_rng(1)
    x = rng.random(300) * (rng.random(300) < 0.1)
    r = math.exp(-1 / 20.0)
    want, y = [], 0.0
    for v in x:
        y = max(v, y * r)
        want.append(y)
    np.testing.assert_allclose(decay_hold(x, 20.0), want, rtol=1e-9, atol=1e-300)

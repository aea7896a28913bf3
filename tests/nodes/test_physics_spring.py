"""Spring presets: step responses, damping ratio measured from the motion, tempo scaling."""
import math

import numpy as np
import pytest
from nodes_helpers import DT, damping_ratio, log_decrement_zeta, run, single, track

from hambajuba_nodes.physics_models import PRESETS, Spring, warped_constants

WANT_ZETA = {"kick": 0.45, "vocals": 0.70, "linear": 1.0, "ambient": 1.25, "bass": 1.10}


def step_response(preset: str, bpm: float = 120.0, seconds: float = 6.0, fps: float = 50.0,
                  params: dict | None = None) -> np.ndarray:
    plan, node = single("physics.spring", {"preset": preset, **(params or {})},
                        analysis=track(seconds + 1, bpm=bpm), fps=fps)
    node.target.v = 1.0  # an unconnected input: a constant wire the test drives
    return run(plan, node, "out", seconds, fps=fps)


@pytest.mark.parametrize("preset", sorted(WANT_ZETA))
def test_preset_damping_ratio_matches_the_writeup(preset):
    assert PRESETS[preset].zeta == pytest.approx(WANT_ZETA[preset], abs=0.005)
    y = step_response(preset)
    zeta, wn = damping_ratio(y, 1.0, DT)
    assert zeta == pytest.approx(WANT_ZETA[preset], abs=0.005)
    assert wn == pytest.approx(2 * math.pi * PRESETS[preset].hz, rel=0.01)
    assert y[-1] == pytest.approx(1.0, abs=1e-3)  # every preset settles on its target


def test_kick_overshoots_and_rings():
    y = step_response("kick")
    assert 0.15 < y.max() - 1.0 < 0.3  # ~21% for zeta 0.45
    crossings = np.flatnonzero(np.diff(np.sign(y - 1.0)) != 0)
    assert len(crossings) >= 3  # passes the target, comes back, passes again
    assert log_decrement_zeta(y, 1.0) == pytest.approx(0.45, abs=0.01)


def test_vocals_overshoot_small():
    y = step_response("vocals")
    assert 0.02 < y.max() - 1.0 < 0.07  # 4.6% for zeta 0.7: no ringing to speak of
    assert log_decrement_zeta(y, 1.0) == pytest.approx(0.70, abs=0.01)


@pytest.mark.parametrize("preset", ["ambient", "linear", "bass"])
def test_no_overshoot_at_or_above_critical(preset):
    y = step_response(preset)
    assert y.max() <= 1.0 + 1e-9
    assert np.all(np.diff(y) >= -1e-12)  # approaches monotonically


def _rise_time(y: np.ndarray) -> float:
    return (np.argmax(y >= 0.9) - np.argmax(y >= 0.1)) * DT


def test_character_ordering():
    """linear snaps, kick is quick, bass is weighty, ambient is slowest."""
    rise = {p: _rise_time(step_response(p, seconds=10.0))
            for p in ("linear", "kick", "bass", "ambient")}
    assert rise["linear"] < rise["bass"] < rise["ambient"]
    assert rise["kick"] < rise["bass"]


@pytest.mark.parametrize("preset", sorted(WANT_ZETA))
def test_damping_ratio_unchanged_across_tempi(preset):
    """k' = k bpm/120, c' = c sqrt(bpm/120): measured zeta is the same at 60,
    120 and 174 BPM; the natural frequency scales with sqrt(bpm/120)."""
    measured = {bpm: damping_ratio(step_response(preset, bpm), 1.0, DT) for bpm in (60, 120, 174)}
    zetas = [z for z, _ in measured.values()]
    assert max(zetas) - min(zetas) < 0.002
    for bpm in (60, 174):
        assert measured[bpm][1] / measured[120][1] == pytest.approx(math.sqrt(bpm / 120), rel=0.005)


def test_faster_tempo_reaches_target_sooner_with_same_overshoot():
    slow, fast = step_response("kick", 60), step_response("kick", 174)
    assert np.argmax(fast) < np.argmax(slow)
    assert fast.max() == pytest.approx(slow.max(), abs=0.01)  # same bounce


def test_bpm_scaling_off_ignores_tempo():
    a = step_response("kick", 60, params={"bpm_scaling": False})
    b = step_response("kick", 174, params={"bpm_scaling": False})
    np.testing.assert_allclose(a, b)


def test_frame_rate_independent():
    """Pole-matched semi-implicit Euler: 30 and 60 fps sample nearly one motion
    (the position update leads a step input by about half a frame, so the
    steep first 100 ms differ by a few percent; after that, by < 2%)."""
    t = np.array([0.2, 0.5, 1.0])
    for fps in (30.0, 60.0):
        y = step_response("kick", fps=fps, seconds=1.2)
        ref = step_response("kick", fps=150.0, seconds=1.2)
        # output after frame i is the state at time (i + 1) / fps
        got = np.interp(t, (np.arange(y.size) + 1) / fps, y)
        want = np.interp(t, (np.arange(ref.size) + 1) / 150.0, ref)
        np.testing.assert_allclose(got, want, atol=0.02)


def test_custom_constants():
    y = step_response("custom", params={"m": 2.0, "k": 50.0, "c": 6.0})
    zeta, wn = damping_ratio(y, 1.0, DT)
    assert zeta == pytest.approx(6.0 / (2 * math.sqrt(100.0)), abs=0.003)
    assert wn == pytest.approx(5.0, rel=0.01)


def test_impulse_kicks_momentum_over_mass():
    plan, node = single("physics.spring", {"preset": "bass", "kick": 4.0}, analysis=track(5))
    node.impulse.v = True
    plan.run(0.0, DT)
    node.impulse.v = False
    v0 = node._model.body.v
    assert node.out.v > 0.0
    # bass has mass 2: velocity jumps by 4 / 2, then one frame of spring force
    assert 1.5 < v0 <= 2.0
    y = run(plan, node, "out", 4.0, start=DT)
    assert abs(y[-1]) < 1e-3  # and it returns home


def test_warped_constants_reduce_to_plain_for_small_steps():
    k_d, c_d = warped_constants(1.0, 100.0, 14.0, 1e-5)
    assert k_d == pytest.approx(100.0, rel=1e-3)
    assert c_d == pytest.approx(14.0, rel=1e-3)


def test_spring_state_survives_recompile():
    from graph_runtime.graph.compiler import compile_patch
    from graph_runtime.graph.patch import Patch
    from hambajuba_nodes.registry import default_registry

    p = Patch()
    p.add_node("physics.spring", {"preset": "vocals"}, node_id="s")
    p.add_node("value.constant", {"value": 1.0}, node_id="c")
    p.connect(("c", "out"), ("s", "target"))
    plan = compile_patch(p, default_registry())
    for i in range(10):
        plan.run(i * DT, DT)
    x = plan.nodes["s"].out.v
    p.node("c").params["value"] = 0.5  # edit something else
    plan2 = compile_patch(p, default_registry(), previous=plan)
    assert plan2.nodes["s"]._model.body.x == pytest.approx(x)


def test_huge_dt_stays_stable():
    s = Spring(1.0, 400.0, 40.0, 174.0)
    for _ in range(100):
        x = s.step(1.0, 0.5)  # a stalled frame
    assert math.isfinite(x) and abs(x - 1.0) < 1e-6

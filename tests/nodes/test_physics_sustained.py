"""Sustained models (pitch follow, coupled oscillator, Perlin drift), percussion
impulses into them, and the classification-weighted blend."""
import math

import numpy as np
import pytest
from nodes_helpers import DT, compile_, run, single, track

from graph_runtime.graph.patch import Patch
from hambajuba_nodes.audio import StemHandle
from hambajuba_nodes.physics import classification_weights
from hambajuba_nodes.physics_models import pitch_position

# -- pitch follow ------------------------------------------------------------------------

def test_pitch_log_map():
    assert pitch_position(80.0) == 0.0
    assert pitch_position(2000.0) == 1.0
    assert pitch_position(400.0) == pytest.approx(0.5)  # geometric middle of 80..2000
    assert pitch_position(40.0) == 0.0 and pitch_position(5000.0) == 1.0
    # an octave is the same distance low and high
    assert pitch_position(220) - pitch_position(110) == pytest.approx(
        pitch_position(1760) - pitch_position(880))


def test_pitch_follow_holds_when_unvoiced():
    plan, node = single("physics.pitch_follow", {"threshold": 0.5})

    def feed(i, t):
        if t < 2.0:  # a sung A4
            node.pitch_hz.v, node.confidence.v = 440.0, 0.9
        elif t < 4.0:  # breath: the tracker reports junk with low confidence
            node.pitch_hz.v, node.confidence.v = (1500.0 if i % 2 else 0.0), 0.1
        else:  # A3
            node.pitch_hz.v, node.confidence.v = 220.0, 0.9

    y = run(plan, node, "out", 6.0, before=feed)
    a4 = pitch_position(440.0)
    assert y[99] == pytest.approx(a4, abs=1e-3)  # followed the note
    held = y[100:200]
    assert np.max(np.abs(held - a4)) < 1e-3  # held through the unvoiced gap
    assert y[-1] == pytest.approx(pitch_position(220.0), abs=1e-3)  # then follows again
    assert y[200:].min() > pitch_position(220.0) - 0.01  # smoothly: overshoot under 1%


def test_pitch_follow_percussion_kicks_then_returns_to_the_note():
    plan, node = single("physics.pitch_follow", {"kick": 1.0})
    node.pitch_hz.v, node.confidence.v = 440.0, 0.9
    run(plan, node, "out", 2.0)

    def hit(i, t):
        node.impulse.v = i == 0

    y = run(plan, node, "out", 2.0, start=2.0, before=hit)
    a4 = pitch_position(440.0)
    assert y.max() - a4 > 0.01  # jolted
    assert y[-1] == pytest.approx(a4, abs=1e-3)  # back on the note
    model = node._model
    assert model.env.level < 0.01  # the extra damping has decayed


def test_percussion_tightens_damping_briefly():
    """With the hit's extra damping, the jolt dies out faster than without."""
    def excursion(tighten):
        plan, node = single("physics.pitch_follow", {"kick": 1.0, "tighten": tighten})
        node.pitch_hz.v, node.confidence.v = 400.0, 0.9
        run(plan, node, "out", 2.0)
        y = run(plan, node, "out", 1.0, start=2.0,
                before=lambda i, t: setattr(node.impulse, "v", i == 0))
        return np.abs(y - 0.5).max()

    assert excursion(30.0) < excursion(0.0)


def test_pitch_follow_nan_is_counted_not_followed():
    plan, node = single("physics.pitch_follow")
    node.pitch_hz.v, node.confidence.v = 440.0, 0.9
    run(plan, node, "out", 3.0)
    before = node.out.v
    node.pitch_hz.v = math.nan
    y = run(plan, node, "out", 0.5, start=3.0)
    assert np.all(np.isfinite(y)) and node.nan_count > 0
    assert y[-1] == pytest.approx(before, abs=1e-3)


# -- coupled oscillator ------------------------------------------------------------------

@pytest.mark.parametrize("energy", [0.0, 0.5, 1.0])
def test_oscillator_never_settles(energy):
    plan, node = single("physics.oscillator")
    node.energy.v = energy
    y = run(plan, node, "out", 120.0)
    windows = y[-50 * 60:].reshape(12, -1)  # the last minute in 5 s windows
    spans = windows.max(axis=1) - windows.min(axis=1)
    assert spans.min() > 0.1  # still moving after two minutes, in every window
    early = y[50 * 10: 50 * 20].std()
    assert y[-50 * 10:].std() > 0.5 * early  # not decaying either
    assert 0.0 <= y.min() and y.max() <= 1.0


def test_oscillator_energy_raises_amplitude():
    spans = {}
    for energy in (0.0, 1.0):
        plan, node = single("physics.oscillator")
        node.energy.v = energy
        y = run(plan, node, "out", 60.0)[-50 * 20:]
        spans[energy] = y.max() - y.min()
    assert spans[1.0] > 2.0 * spans[0.0]


def test_oscillator_beats_two_frequencies():
    """Two detuned oscillators: the output's spectrum has both, near 0.3 and 0.47 Hz."""
    plan, node = single("physics.oscillator", {"coupling_min": 0.0, "coupling_max": 0.0})
    node.energy.v = 0.5
    y = run(plan, node, "out", 200.0)[-50 * 160:]
    spec = np.abs(np.fft.rfft(y - y.mean()))
    freqs = np.fft.rfftfreq(y.size, DT)
    top = freqs[np.argsort(spec)[-6:]]
    assert np.any(np.abs(top - 0.30) < 0.02) and np.any(np.abs(top - 0.47) < 0.02)


# -- perlin drift --------------------------------------------------------------------------

def _drift(seed=7, energy=0.0, seconds=30.0):
    plan, node = single("physics.perlin", {"seed": seed})
    node.energy.v = energy
    return run(plan, node, "out", seconds)


def test_perlin_drifts_smoothly_and_stays_in_range():
    y = _drift()
    assert y.max() - y.min() > 0.1
    assert np.all((y >= -0.05) & (y <= 1.05))
    assert np.abs(np.diff(y)).max() < 0.02  # smooth: no per-frame jumps


def test_perlin_energy_speeds_it_up():
    travel = lambda y: np.abs(np.diff(y)).sum()
    assert travel(_drift(energy=1.0)) > 2.0 * travel(_drift(energy=0.0))


def test_perlin_seed_is_reproducible():
    np.testing.assert_array_equal(_drift(seed=3, seconds=5), _drift(seed=3, seconds=5))
    assert not np.allclose(_drift(seed=3, seconds=5), _drift(seed=4, seconds=5))


@pytest.mark.parametrize("type_id", ["physics.oscillator", "physics.perlin"])
def test_sustained_models_feel_the_beat(type_id):
    def go(with_hits):
        plan, node = single(type_id)
        node.energy.v = 0.3
        return run(plan, node, "out", 4.0,
                   before=lambda i, t: setattr(node.impulse, "v", with_hits and i % 25 == 0))
    calm, kicked = go(False), go(True)
    assert np.abs(kicked - calm).max() > 0.02


# -- blended ---------------------------------------------------------------------------------

def test_blend_weights_follow_the_writeup():
    drums = StemHandle("drums", {"percussive": 0.85, "harmonic": 0.0, "melodic": 0.2,
                                 "harmony": 0.1, "texture": 0.3})
    w = classification_weights(drums)
    assert w["spring"] == 1.0 and w["pitch"] == w["oscillator"] == w["perlin"] == 0.0
    vocals = StemHandle("vocals", {"percussive": 0.1, "harmonic": 0.8, "melodic": 0.6,
                                   "harmony": 0.5, "texture": 0.25})
    w = classification_weights(vocals)
    raw = {"spring": 0.1, "pitch": 0.48, "oscillator": 0.4, "perlin": 0.2}
    for k, v in raw.items():
        assert w[k] == pytest.approx(v / sum(raw.values()))
    assert classification_weights(None)["spring"] == 1.0
    assert classification_weights(StemHandle("x", {}))["spring"] == 1.0


def _blend_patch(params):
    p = Patch()
    p.add_node("audio.source", {"stem": "vocals"}, node_id="src")
    p.add_node("physics.blend", params, node_id="phys")
    p.connect(("src", "stem"), ("phys", "stem"))
    p.connect(("src", "energy_smooth"), ("phys", "target"))
    return p


def test_blend_node_reads_classification_from_the_stem():
    a = track(20, vocals__energy_smooth=0.6, vocals__pitch_hz=440.0, vocals__pitch_confidence=0.9)
    a.data["class/vocals"] = np.array([0.0, 1.0, 1.0, 0.0, 0.0], dtype=np.float32)
    plan = compile_(_blend_patch({}), a)
    node = plan.nodes["phys"]
    assert node.w_pitch.v == 1.0 and node.w_spring.v == 0.0
    y = run(plan, node, "out", 10.0)
    assert y[-1] == pytest.approx(pitch_position(440.0), abs=1e-3)  # all pitch follow


def test_purely_percussive_stem_is_all_spring():
    a = track(10, vocals__energy_smooth=0.6)
    a.data["class/vocals"] = np.array([0.9, 0.0, 0.7, 0.7, 0.7], dtype=np.float32)
    plan = compile_(_blend_patch({"preset": "linear"}), a)
    node = plan.nodes["phys"]
    assert [m.kind for _, m in node._models] == ["spring"]
    y = run(plan, node, "out", 3.0)
    assert y[-1] == pytest.approx(0.6, abs=1e-3)


def test_blend_manual_weights_and_missing_stem():
    plan = compile_(_blend_patch({"weighting": "manual", "w_spring": 0.5, "w_perlin": 0.5}),
                    track(5))
    node = plan.nodes["phys"]
    assert node.w_spring.v == 0.5 and node.w_perlin.v == 0.5
    p = Patch()
    p.add_node("physics.blend", {}, node_id="phys")  # no stem connected: a plain spring
    plan = compile_(p, track(5))
    assert [m.kind for _, m in plan.nodes["phys"]._models] == ["spring"]

"""Noise walk: the precomputed angle advances on beats, drifts with harmony."""
import math

import numpy as np
import pytest
from nodes_helpers import DT, FPS, run, single, track

from graph_runtime.graph.frame import NOISE_THETA
from hambajuba_nodes.noise import ease_in_out_cubic

TAU = 2 * math.pi
N = 500  # 10 s at 120 BPM: a beat every 25 frames


def beats_track(energy=1.0, hits=True, tonal=0.0):
    transient = (np.arange(N) % 25 == 0).astype(float) if hits else np.zeros(N)
    return track(N / FPS, bpm=120.0, mix__energy_smooth=energy, mix__transient=transient,
                 global__tonal_distance=tonal)


def walk(analysis, **params):
    plan, node = single("noise.walk", {"distance": 1.0, **params}, analysis=analysis)
    return plan, node, run(plan, node, "theta", N / FPS)


def test_angle_advances_a_turn_per_loud_beat():
    plan, node, theta = walk(beats_track(1.0), mode="pulse")
    on_beats = theta[::25]  # frames at each beat
    np.testing.assert_allclose(np.diff(on_beats)[:-1], TAU, rtol=1e-6)
    assert np.all(np.diff(theta) >= -1e-12)  # it only moves forward


def test_quiet_beats_turn_less():
    _, _, theta = walk(beats_track(0.25), mode="pulse")
    np.testing.assert_allclose(np.diff(theta[::25])[:-1], 0.25 * TAU, rtol=1e-6)


def test_beat_motion_is_eased_in_and_out():
    _, _, theta = walk(beats_track(1.0), mode="pulse")
    beat = theta[100:126] - theta[100]  # one beat, 25 frames
    steps = np.diff(beat)
    assert steps[0] < steps[12] and steps[-1] < steps[12]  # slow, fast, slow
    np.testing.assert_allclose(beat[:25] / TAU, ease_in_out_cubic(np.arange(25) / 25), atol=1e-9)


def test_distance_scales_and_zero_stands_still():
    _, _, full = walk(beats_track(1.0), mode="pulse")
    _, _, half = walk(beats_track(1.0), mode="pulse", distance=0.5)
    np.testing.assert_allclose(half, 0.5 * full)
    _, _, still = walk(beats_track(1.0), mode="pulse", distance=0.0)
    assert np.all(still == 0.0)


def test_sustained_music_follows_the_harmony():
    """No hits: beat weight 0, the angle is the drift: tonal distance * pi/2."""
    tonal = np.clip(np.linspace(-0.5, 1.5, N), 0.0, 1.0)
    _, _, theta = walk(beats_track(0.6, hits=False, tonal=tonal), mode="auto")
    np.testing.assert_allclose(theta, tonal * math.pi / 2, atol=1e-6)


def test_percussive_music_follows_the_beats_in_auto():
    _, _, auto = walk(beats_track(0.5, tonal=0.5), mode="auto")
    _, _, pulse = walk(beats_track(0.5, tonal=0.5), mode="pulse")
    # one hit per beat at half energy: the beat weight is 1 away from the edges
    np.testing.assert_allclose(np.diff(auto)[100:400], np.diff(pulse)[100:400], atol=1e-9)


def test_continuous_mode_turns_smoothly_at_the_beat_rate():
    _, _, theta = walk(beats_track(0.5), mode="continuous")
    steps = np.diff(theta)[100:400]
    assert steps.std() < 1e-3 * steps.mean()  # no per-beat easing
    assert steps.mean() * 25 == pytest.approx(0.5 * TAU, rel=0.01)  # energy x a turn per beat


def test_live_distance_change_never_jumps():
    plan, node = single("noise.walk", {"mode": "pulse"}, analysis=beats_track(1.0))

    def feed(i, t):
        node.distance.v = 1.0 if i < 240 else 0.2
    theta = run(plan, node, "theta", N / FPS, before=feed)
    # the steepest eased step is 3x the mean (2 pi / 25 per frame); rescaling
    # the whole angle (~60 rad by then) would jump by tens of radians
    assert np.abs(np.diff(theta)).max() <= 3 * TAU / 25 + 1e-9
    assert theta[241] - theta[240] >= 0.0


def test_frame_params_and_scene():
    plan, node, theta = walk(beats_track(1.0), mode="pulse", seed_a=11, seed_b=29)
    assert plan.frame.scene.seed_a == 11 and plan.frame.scene.seed_b == 29
    assert plan.frame.vec[NOISE_THETA] == pytest.approx(math.fmod(theta[-1], TAU), abs=1e-5)
    assert 0.0 <= plan.frame.vec[NOISE_THETA] < TAU


def test_seek_reanchors_exactly():
    plan, node, theta = walk(beats_track(1.0), mode="pulse")
    plan.reset()  # transport jump
    plan.run(3.3, DT)
    assert node.theta.v == pytest.approx(node.angle_at(3.3))


@pytest.mark.parametrize("mode", ["auto", "continuous"])
def test_broken_tempo_reads_as_120(mode):
    a = beats_track(0.5)
    a.bpm = 0.0
    plan, node, theta = walk(a, mode=mode)
    assert np.all(np.isfinite(theta)) and theta[-1] > 0.0


def test_no_analysis_stays_still_and_equal_seeds_warn():
    plan, node = single("noise.walk", {"seed_a": 5, "seed_b": 5})
    assert any("seed_a equals seed_b" in str(w) for w in plan.warnings)
    plan.run(1.0, DT)
    assert node.theta.v == 0.0


def test_a_track_shorter_than_the_weight_window_compiles():
    """A 1-second clip (fewer frames than the 2 s beat-weight window) once failed
    to compile: the moving average came back longer than the track."""
    from graph_runtime.analysis.store import synthetic
    from hambajuba_nodes.noise import walk_angle

    a = synthetic(1.0)
    angle = walk_angle(a, "mix", "auto")
    assert angle.shape == (a.n_frames,) and np.isfinite(angle).all()

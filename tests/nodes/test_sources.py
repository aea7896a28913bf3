"""Audio source and beat nodes: channels in, silence for what is missing."""

import numpy as np
import pytest
from nodes_helpers import DT, FPS, run, single, track

from graph_runtime.analysis.store import STEMS, synthetic
from hambajuba_nodes.audio import STEM_CHANNELS, AudioSource, StemHandle

N = 250


def test_every_channel_reaches_its_port():
    rng = np.random.default_rng(0)
    channels = {f"drums__{ch}": rng.random(N) for ch in STEM_CHANNELS.values()}
    channels["global__tension"] = rng.random(N)
    channels["global__tonal_distance"] = rng.random(N)
    a = track(N / FPS, **channels)
    plan, node = single("audio.source", {"stem": "drums"}, analysis=a)
    for i in (0, 17, 120, N - 1):
        plan.run(i / FPS, DT)
        for port, ch in STEM_CHANNELS.items():
            assert getattr(node, port).v == pytest.approx(a.channel(f"drums/{ch}")[i], abs=1e-6)
        assert node.tension.v == pytest.approx(a.channel("global/tension")[i], abs=1e-6)


def test_values_between_frames_are_interpolated():
    a = track(N / FPS, bass__energy_smooth=np.linspace(0.0, 1.0, N))
    plan, node = single("audio.source", {"stem": "bass"}, analysis=a)
    plan.run(10.5 / FPS, DT)
    assert node.energy_smooth.v == pytest.approx(10.5 / (N - 1), abs=1e-6)


def test_hits_and_layer_entries_are_triggers_on_their_frame():
    hits = np.zeros(N)
    hits[[10, 60, 61]] = 1.0
    entry = np.zeros(N)
    entry[100] = 1.0
    a = track(N / FPS, drums__transient=hits, drums__layer_entry=entry)
    plan, node = single("audio.source", {"stem": "drums"}, analysis=a)
    fired = run(plan, node, "hit", N / FPS)
    assert list(np.flatnonzero(fired)) == [10, 60, 61]
    plan.reset()  # transport back to 0
    entered = run(plan, node, "layer_entry", N / FPS)
    assert list(np.flatnonzero(entered)) == [100]


def test_missing_stem_is_silence_with_a_warning():
    a = synthetic(5.0, stems=("bass", "drums", "other", "mix"))  # an instrumental
    plan, node = single("audio.source", {"stem": "vocals"}, analysis=a)
    assert any("no stem 'vocals'" in str(w) for w in plan.warnings)
    y = run(plan, node, "energy_smooth", 2.0)
    assert np.all(y == 0.0)
    handle = node.stem.v
    assert isinstance(handle, StemHandle) and not handle.present and handle.name == "vocals"


def test_stem_handle_carries_the_classification():
    a = track(2.0)
    a.data["class/other"] = np.array([0.1, 0.8, 0.3, 0.6, 0.2], dtype=np.float32)
    plan, node = single("audio.source", {"stem": "other"}, analysis=a)
    h = node.stem.v
    assert h.channel("flux") == "other/flux"
    assert h.weight("harmony") == pytest.approx(0.6)


def test_nan_in_the_analysis_is_replaced_and_counted():
    e = np.full(N, 0.5)
    e[5] = np.nan
    a = track(N / FPS, bass__energy_smooth=e)
    plan, node = single("audio.source", {"stem": "bass"}, analysis=a)
    y = run(plan, node, "energy_smooth", N / FPS)
    assert np.all(np.isfinite(y)) and node.nan_count >= 1


def test_no_analysis_reads_silence():
    plan, node = single("audio.source", {"stem": "drums"})
    plan.run(1.0, DT)
    assert all(getattr(node, p).v == 0.0 for p in STEM_CHANNELS)
    assert node.stem.v.present is False


def test_all_stems_and_mix_are_choices():
    choices = AudioSource.param("stem").choices
    assert set(STEMS) <= set(choices) and "mix" in choices


def test_beat_node_phases_and_triggers():
    a = track(4.0, bpm=100.0)
    plan, node = single("audio.beat", analysis=a)
    beats = run(plan, node, "beat", 4.0)
    frames = np.flatnonzero(beats)
    np.testing.assert_array_equal(frames, np.round(a.beats * FPS).astype(int))
    plan.reset()
    plan.run(0.3, DT)  # a beat every 0.6 s
    assert node.beat_phase.v == pytest.approx(0.5)
    assert node.bar_phase.v == pytest.approx(0.125)
    assert node.bpm.v == 100.0


def test_beat_phase_never_reads_the_wrap_midway():
    a = track(4.0, bpm=120.0)
    plan, node = single("audio.beat", analysis=a)
    phases = run(plan, node, "beat_phase", 4.0, fps=60.0)  # not on the analysis grid
    jumps = np.diff(phases)
    assert np.all((jumps > 0) | (jumps < -0.9))  # rises, then wraps in one step


def test_beat_list_with_junk_is_cleaned():
    a = track(4.0, bpm=120.0)
    a.beats = np.array([1.0, np.nan, 0.5, 0.0, 1.0, np.inf, 1.5])
    plan, node = single("audio.beat", analysis=a)
    phases = run(plan, node, "beat_phase", 2.0)
    assert np.all(np.isfinite(phases)) and node.beat_phase.v == pytest.approx(0.92, abs=0.05)
    plan, node = single("noise.walk", {"mode": "pulse"}, analysis=a)
    assert np.all(np.isfinite(run(plan, node, "theta", 2.0)))


def test_beat_without_a_track_runs_at_120():
    plan, node = single("audio.beat")
    fired = run(plan, node, "beat", 2.0)
    assert list(np.flatnonzero(fired)) == [0, 25, 50, 75]
    assert node.bpm.v == 120.0

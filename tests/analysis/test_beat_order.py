"""Beats and downbeats are strictly increasing, always: offline grid, corrections, the
live tracker, and what `analyze --json` / `analyze --live --json` print, over many
generated tempo maps (steps, ramps, rubato, flams, dropouts)."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from analysis_helpers import write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph_runtime.analysis import beat_grid, features, spectral, tonal
from graph_runtime.analysis.beat_grid_correction import GridCorrection, apply_correction
from graph_runtime.analysis.beat_order import downbeats_on, strictly_increasing
from graph_runtime.analysis.beats import to_attack
from graph_runtime.analysis.store import synthetic
from graph_runtime.live.replay import analyse_file

SR = spectral.ANALYSIS_SR


@st.composite
def tempo_maps(draw, max_seconds: float = 12.0):
    """(beat times s (n,), rendering options): segments of steady or ramping tempo."""
    times, t = [], 0.2 + draw(st.floats(0.0, 0.8))
    bpm = draw(st.floats(50.0, 220.0))
    while t < max_seconds - 0.5:
        n = draw(st.integers(2, 12))
        target = draw(st.floats(50.0, 220.0)) if draw(st.booleans()) else bpm
        for k in range(n):
            b = bpm + (target - bpm) * k / n
            times.append(t)
            t += 60.0 / b
        bpm = target
    opts = {"jitter_s": draw(st.floats(0.0, 0.03)),
            "flam_s": draw(st.sampled_from([0.0, 0.015, 0.04, 0.09])),
            "drop": draw(st.floats(0.0, 0.3)),
            "seed": draw(st.integers(0, 2 ** 16))}
    return np.asarray(times), opts


def render(times: np.ndarray, opts: dict) -> np.ndarray:
    """Kick-like thumps plus a noise click per beat; flams, dropouts, jitter. (n,) float32."""
    rng = np.random.default_rng(opts["seed"])
    n = int((times[-1] + 0.6) * SR)
    y = np.zeros(n, np.float32)
    m = int(0.08 * SR)
    env = np.exp(-np.arange(m) / (0.015 * SR))
    thump = np.sin(2 * np.pi * 70 * np.arange(m) / SR) * env
    click = rng.standard_normal(m) * env * 0.4
    for t in times:
        if rng.random() < opts["drop"]:
            continue
        hits = [t] + ([t + opts["flam_s"]] if opts["flam_s"] and rng.random() < 0.5 else [])
        for h in hits:
            i = int(round((h + rng.normal(0.0, opts["jitter_s"])) * SR))
            if 0 <= i < n:
                seg = (thump + click * rng.uniform(0.3, 1.0))[: n - i]
                y[i:i + len(seg)] += seg.astype(np.float32) * rng.uniform(0.4, 1.0)
    return (0.9 * y / max(float(np.abs(y).max()), 1e-9)).astype(np.float32)


def assert_grid(beats, downs) -> None:
    beats, downs = np.asarray(beats), np.asarray(downs)
    assert np.all(np.isfinite(beats)) and np.all(np.diff(beats) > 0), beats
    assert np.all(np.diff(downs) > 0), downs


def offline_grid(y: np.ndarray) -> beat_grid.GridEstimate:
    """The beat stage as the pipeline runs it on a mix without a Beat This! checkpoint."""
    mag = spectral.stft_magnitude(y)
    rms = spectral.rms(mag)
    active = features.activity(rms, mix_peak=float(rms.max(initial=0.0)), fps=spectral.FPS).astype(bool)
    chroma = tonal.chroma(mag, active, sr=SR, n_fft=spectral.N_FFT)
    return beat_grid.track_grid(mag, sr=SR, fps=spectral.FPS, chroma=chroma)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tempo_maps(), st.sampled_from([0.5, 1.0, 2.0]), st.integers(-5, 5),
       st.sampled_from([None, 2, 3, 4, 7]), st.floats(-0.3, 0.3))
def test_offline_grid_and_its_corrections_are_strictly_increasing(tm, scale, shift, bpb, nudge):
    times, opts = tm
    grid = offline_grid(render(times, opts))
    assert_grid(grid.beats, grid.downbeats)
    assert set(np.round(grid.downbeats, 9)) <= set(np.round(grid.beats, 9))   # a one is a beat
    a = synthetic(float(times[-1]) + 1.0, bpm=120.0)
    a = dataclasses.replace(a, beats=grid.beats, downbeats=grid.downbeats)
    fixed = apply_correction(a, GridCorrection(downbeat_shift=shift, tempo_scale=scale,
                                               beats_per_bar=bpb, phase_s=nudge))
    assert_grid(fixed.beats, fixed.downbeats)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tempo_maps(max_seconds=10.0))
def test_live_tracker_emits_strictly_increasing_beats(tm):
    times, opts = tm
    with tempfile.TemporaryDirectory() as d:
        path = write(os.path.join(d, "mix.wav"), render(times, opts), SR)
        a = analyse_file(path)
    assert_grid(a.beats, a.downbeats)
    assert set(np.round(a.downbeats, 9)) <= set(np.round(a.beats, 9))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tempo_maps(max_seconds=8.0), st.booleans())
def test_analyze_json_prints_strictly_increasing_beats_and_nothing_after(tm, live):
    """The command users run, offline and --live: the whole of stdout is one JSON
    document whose top-level beats and downbeats are strictly increasing."""
    times, opts = tm
    with tempfile.TemporaryDirectory() as d:
        path = write(os.path.join(d, "mix.wav"), render(times, opts), SR)
        env = {**os.environ, "XDG_DATA_HOME": d, "XDG_CACHE_HOME": d}
        r = subprocess.run([sys.executable, "-m", "hambajuba_nodes.cli", "analyze", path,
                            "--separator", "approx", "--json", *(["--live"] if live else [])],
                           capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert_grid(doc["beats"], doc["downbeats"])
    assert set(doc["downbeats"]) <= set(doc["beats"])


def test_a_beat_moved_back_past_its_neighbour_is_dropped():
    assert strictly_increasing([1.0, 1.5, 1.45, 2.0, np.nan, 2.0, 2.5]).tolist() == [1.0, 1.5, 2.0, 2.5]
    assert downbeats_on(np.array([1.0, 1.5, 2.0, 2.5]), [1.01, 2.0, 1.9, 2.3]).tolist() == [1.0, 2.0]


def test_the_attack_never_moves_a_beat_back_past_the_one_before():
    onset = np.zeros(40)
    onset[8:14] = [1, 2, 3, 4, 5, 6]     # a slow swell: its attack is frames before the peak
    moved = to_attack(np.array([11.0, 13.0]), onset)
    assert moved[1] > moved[0]


def test_an_analysis_never_holds_beats_out_of_order():
    a = synthetic(4.0, bpm=120.0)
    b = dataclasses.replace(a, beats=np.array([0.5, 1.0, 0.9, 1.5]), downbeats=np.array([0.5, 0.5]))
    assert b.beats.tolist() == [0.5, 1.0, 1.5] and b.downbeats.tolist() == [0.5]

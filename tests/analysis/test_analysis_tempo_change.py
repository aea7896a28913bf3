"""Tempo changes: the fallback beat tracker follows the demo track from 110 to 128 BPM.

The demo track (hambajuba_nodes/content/demo_track.py) plays 8 bars at 110 BPM, speeds
up over 2 bars and plays 9 bars at 128 BPM; its truth.json has every beat.
It is analysed once, with its true stems (no separation: faster).
"""
from __future__ import annotations

import mir_eval
import numpy as np
import pytest

from graph_runtime.analysis import GLOBAL_DOCS, beats


def f_measure(ref, est) -> float:
    return mir_eval.beat.f_measure(mir_eval.beat.trim_beats(np.asarray(ref)),
                                   mir_eval.beat.trim_beats(np.asarray(est)))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    from graph_runtime.analysis import analyze
    from hambajuba_nodes.content.demo_track import ensure_demo
    demo = ensure_demo(tmp_path_factory.mktemp("demo-cache"))
    return demo.truth(), analyze(demo.path, stems_dir=demo.stems_dir, use_cache=False)


def test_demo_beats_follow_the_tempo_change(demo_run):
    truth, a = demo_run
    assert a.meta["beat_tracker"] == "fallback"
    assert f_measure(truth["beats"], a.beats) >= 0.9
    change = truth["tempo_change"]
    after = a.beats[a.beats > change["to_s"] + 0.5]
    before = a.beats[a.beats < change["from_s"]]
    assert len(after) >= 20 and len(before) >= 20
    target = 60.0 / change["to_bpm"]
    assert abs(np.median(np.diff(after)) - target) / target <= 0.03
    target = 60.0 / change["from_bpm"]
    assert abs(np.median(np.diff(before)) - target) / target <= 0.03


def test_demo_bpm_local_channel_and_dominant_bpm(demo_run):
    truth, a = demo_run
    change = truth["tempo_change"]
    local = a.channel("global/bpm_local")
    assert local.shape == (a.n_frames,) and local.dtype == np.float32
    t = a.times
    early = np.median(local[(t > 2.0) & (t < change["from_s"])])
    late = np.median(local[(t > change["to_s"] + 1.0) & (t < a.beats[-1])])
    assert early == pytest.approx(change["from_bpm"], rel=0.03)
    assert late == pytest.approx(change["to_bpm"], rel=0.03)
    # bpm is one of the two tempi the track plays, not a blend of them
    assert min(abs(a.bpm - change["from_bpm"]) / change["from_bpm"],
               abs(a.bpm - change["to_bpm"]) / change["to_bpm"]) <= 0.03
    assert "bpm_local" in GLOBAL_DOCS


def test_local_periods_step_with_an_onset_train_that_changes_tempo():
    """A pulse train at 100 BPM for 20 s, then 140 BPM: the local period steps, the
    constant parts stay constant, and the beats land on the pulses."""
    fps = 50.0
    times = np.concatenate([np.arange(0.5, 20.0, 0.6), 20.0 + np.arange(0.0, 20.0, 60.0 / 140)])
    onset = np.zeros(int(41 * fps), np.float32)
    onset[np.round(times * fps).astype(int)] = 1.0
    periods = beats.local_periods(onset, fps=fps, period=0.6 * fps)
    assert np.allclose(60.0 * fps / periods[100:800], 100.0, rtol=0.02)
    assert np.allclose(60.0 * fps / periods[1300:1900], 140.0, rtol=0.02)
    found = beats.track_beats(onset, fps=fps, periods=periods) / fps
    assert mir_eval.beat.f_measure(times, found) >= 0.95


def test_dominant_bpm_is_the_tempo_played_longest():
    ibis = np.concatenate([np.full(30, 0.5), np.full(20, 60.0 / 150)])  # 15 s at 120, 8 s at 150
    b = np.concatenate([[0.0], np.cumsum(ibis)])
    assert beats.bpm_from_beats(b) == pytest.approx(120.0, rel=1e-6)
    assert beats.bpm_from_beats(np.array([0.0, 0.5])) == pytest.approx(120.0)
    assert beats.bpm_from_beats(np.array([1.0])) == 0.0
    local = beats.local_bpm_channel(np.arange(0, 23, 0.02), b)
    assert local[100] == pytest.approx(120.0) and local[-1] == pytest.approx(150.0)
    assert np.all(beats.local_bpm_channel(np.arange(10) / 50, np.zeros(0)) == 0)

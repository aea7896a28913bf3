"""The vectorised Sampler, the beat grid channels, and the two commands."""
from __future__ import annotations

import json

import numpy as np
import pytest
from analysis_helpers import click_track, write

from graph_runtime.analysis import Sampler, synthetic
from graph_runtime.analysis.beats import grid_channels, phase_channel


def test_sampler_matches_np_interp_for_many_channels_at_once():
    rng = np.random.default_rng(3)
    names = [f"s{i}/envelope" for i in range(20)]
    a = synthetic(4.0, stems=())
    for name in names:
        a.data[name] = rng.random(a.n_frames).astype(np.float32)
    sampler = Sampler(a, names + ["vocals/absent"])
    out = np.empty(len(names) + 1)
    for t in (0.0, 0.013, 1.2345, 3.98, 10.0, -1.0):
        got = sampler.sample(t, out=out)
        assert got is out
        want = [np.interp(t, a.times, a.data[n]) for n in names]
        np.testing.assert_allclose(got[:-1], want, rtol=1e-6, atol=1e-7)
        assert got[-1] == 0.0
        assert sampler.value(names[3], t) == pytest.approx(want[3], abs=1e-6)
    times = np.linspace(0, 4, 33)
    many = sampler.sample_many(times)
    assert many.shape == (33, len(names) + 1)
    np.testing.assert_allclose(many[:, 5], np.interp(times, a.times, a.data[names[5]]), atol=1e-6)


def test_beat_and_bar_phase_channels():
    times = np.arange(250) / 50.0
    beats = np.arange(0.5, 5.0, 0.5)
    ch = grid_channels(times, beats, beats[::4], fps=50.0)
    assert ch["beat_phase"][25] == pytest.approx(0.0) and ch["beat_phase"][37] == pytest.approx(0.48)
    assert ch["bar_phase"][25 + 50] == pytest.approx(0.5)
    assert ch["beat_phase"][10] == pytest.approx(0.4)           # extrapolated before the first
    assert np.all((ch["beat_phase"] >= 0) & (ch["beat_phase"] < 1))
    assert np.flatnonzero(ch["beat"]).tolist() == [25 * k for k in range(1, 10)]
    assert phase_channel(times, np.zeros(0)).max() == 0.0


@pytest.fixture()
def track(tmp_path):
    y, _ = click_track(120.0, 4.0, sr=44100)
    return write(tmp_path / "clicks.wav", y, 44100)


def test_analyze_json_prints_the_documented_keys(track, capsys):
    from hambajuba_nodes.cli import main
    assert main(["analyze", track, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"bpm", "beats", "downbeats", "duration", "stems", "channels", "cache",
                        "separator", "beat_tracker", "pitch_tracker",
                        # the beat grid
                        "tempo_candidates", "bpm_range", "beats_per_bar", "downbeat_confidence",
                        "grid_correction"}
    assert doc["bpm"] == pytest.approx(120.0, rel=0.02) and doc["separator"] == "approx"
    assert "drums_low" in doc["stems"] and "global/tension" in doc["channels"]
    assert doc["cache"]["hit"] is False
    assert main(["analyze", track, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cache"]["hit"] is True


def test_analyze_bad_file_is_one_line_and_exit_2(tmp_path, capsys):
    from hambajuba_nodes.cli import main
    bad = tmp_path / "x.wav"
    bad.write_text("nope")
    assert main(["analyze", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0]


def test_bench_analysis_prints_stages_and_real_time_factor(track, capsys):
    from hambajuba_nodes.cli import main
    assert main(["bench", "analysis", track, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"load", "separate", "beats", "features", "pitch", "coupling"} <= set(doc["stages"])
    assert doc["realtime_factor"] > 0 and doc["duration"] == pytest.approx(4.0, abs=0.05)
    assert main(["bench", "analysis", track]) == 0
    assert "real-time factor" in capsys.readouterr().out

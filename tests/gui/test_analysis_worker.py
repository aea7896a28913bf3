"""The track analysis runs in a separate, niced process and comes back whole;
its failures come back as one line (no window needed)."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from graph_runtime.show import analysis_worker


def test_analysis_in_a_niced_process_matches_the_pipeline(tmp_path, monkeypatch):
    monkeypatch.setenv("HAMBAJUBA_CACHE", str(tmp_path / "cache"))
    sr = 22050
    t = np.arange(int(3 * sr)) / sr
    y = (0.3 * np.sin(2 * np.pi * 55 * t) * np.exp(-((t * 2.0) % 1.0) * 8.0)).astype(np.float32)
    path = tmp_path / "pulse.wav"
    sf.write(path, np.stack([y, y], 1), sr)
    seen = []
    analysis, notice = analysis_worker.analyze_in_background(str(path), lambda *a: seen.append(a), 3.0)
    assert analysis_worker.LAST_CHILD["nice"] >= analysis_worker.NICE  # it ran below the window
    assert analysis_worker.LAST_CHILD["pid"] != __import__("os").getpid()
    assert seen and all(isinstance(a, tuple) for a in seen)  # progress came back while it ran
    from graph_runtime.analysis.pipeline import analyze

    same = analyze(str(path))  # the child's cache: the same analysis in this process
    assert analysis.bpm == same.bpm
    assert np.array_equal(analysis.beats, same.beats)
    assert analysis.meta["separator"] == same.meta["separator"]
    for name in ("bass/energy_smooth", "vocals/pitch_normalized"):
        assert np.array_equal(analysis.data[name], same.data[name]), name


def test_a_failing_analysis_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HAMBAJUBA_CACHE", str(tmp_path / "cache"))
    bad = tmp_path / "notaudio.wav"
    bad.write_text("not audio")
    with pytest.raises(RuntimeError) as e:
        analysis_worker.analyze_in_background(str(bad), lambda *a: None, 1.0)
    assert "\n" not in str(e.value) and "notaudio.wav" in str(e.value)

"""The cache: reuse, keys, and no half-written file after a failure."""
from __future__ import annotations

import os

import numpy as np
import pytest
from analysis_helpers import click_track, write

from graph_runtime.analysis import analyze, cache, pipeline
from graph_runtime.analysis.store import Analysis


@pytest.fixture()
def track(tmp_path):
    y, _ = click_track(120.0, 4.0, sr=44100)
    return write(tmp_path / "clicks.wav", y, 44100)


@pytest.fixture()
def folder(tmp_path, monkeypatch):
    where = tmp_path / "cache"
    monkeypatch.setenv("HAMBAJUBA_CACHE", str(where))
    return where


def test_second_analyze_loads_from_the_cache(track, folder, monkeypatch):
    first = analyze(track)
    assert first.meta["cache_hit"] is False and os.path.isfile(first.meta["cache_path"])
    assert os.path.dirname(first.meta["cache_path"]) == str(folder)

    def must_not_run(*args, **kwargs):
        raise AssertionError("the pipeline ran again instead of loading the cache")
    monkeypatch.setattr(pipeline, "run_plan", must_not_run)
    second = analyze(track)
    assert second.meta["cache_hit"] is True
    assert set(second.data) == set(first.data)
    for k in first.data:
        np.testing.assert_array_equal(second.data[k], first.data[k])
    np.testing.assert_array_equal(second.beats, first.beats)
    assert second.bpm == first.bpm


def test_key_changes_with_content_and_settings(track, tmp_path):
    base = pipeline.plan_for(track)
    key = cache.cache_key(cache.file_hash(track), base.settings())
    other = write(tmp_path / "other.wav", np.zeros(44100, np.float32), 44100)
    assert cache.cache_key(cache.file_hash(other), base.settings()) != key
    changed = dict(base.settings(), separator="demucs")
    assert cache.cache_key(cache.file_hash(track), changed) != key
    assert cache.cache_key(cache.file_hash(track), base.settings()) == key  # stable


def test_a_failed_analysis_leaves_no_cache(track, folder, monkeypatch):
    from graph_runtime.analysis import tonal

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(tonal, "tension", boom)
    with pytest.raises(RuntimeError):
        analyze(track)
    assert not folder.exists() or os.listdir(folder) == []


def test_a_crash_while_saving_leaves_no_file(track, folder, monkeypatch):
    def half_write(f, **arrays):
        f.write(b"PK\x03\x04 half an npz")
        raise OSError("no space left on device")
    monkeypatch.setattr(np, "savez", half_write)
    with pytest.raises(OSError):
        analyze(track)
    assert not folder.exists() or os.listdir(folder) == []


def test_a_damaged_cache_file_is_recomputed(track, folder):
    first = analyze(track)
    with open(first.meta["cache_path"], "wb") as f:
        f.write(b"not an npz")
    again = analyze(track)
    assert again.meta["cache_hit"] is False
    assert Analysis.load(again.meta["cache_path"]).meta["cache_key"] == first.meta["cache_key"]


def test_nan_never_reaches_the_cache(tmp_path):
    a = Analysis(fps=50.0, times=np.arange(3) / 50.0,
                 data={"drums/envelope": np.array([0, np.nan, 1], np.float32)})
    with pytest.raises(ValueError):
        a.save(tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []

"""The panels' pure parts: feature search, files, transport beat display."""
from __future__ import annotations

import os

import numpy as np
import pytest

from graph_runtime.analysis.store import synthetic
from graph_runtime.engine.labels import Labels
from graph_runtime.graph.patch import Patch, dumps
from graph_runtime.media.playback import NullOutput, Track
from graph_runtime.show.commands import EditorModel
from graph_runtime.show.files import Files
from hambajuba_nodes.editor.features import FeatureIndex
from hambajuba_nodes.editor.transport import Transport, clock_text
from hambajuba_nodes.registry import default_registry


def labels():
    return Labels.from_records({
        "down.2.1": [{"id": 3, "label": "stormy sky", "category": "mood", "confidence": "high"},
                     {"id": 9, "label": "fire glow", "category": "color", "confidence": "low"}],
        "up.0.1": [{"id": 9, "label": "fire texture", "category": "texture", "confidence": "medium"}],
    }, n_features=5120, source="test")


def test_feature_search_filters_and_ids():
    idx = FeatureIndex(labels())
    rows, total = idx.search("fire")
    assert total == 2 and {(r.block, r.id) for r in rows} == {("down.2.1", 9), ("up.0.1", 9)}
    assert [r.id for r in idx.search("fire", min_confidence="medium")[0]] == [9]
    assert idx.search("fire", block="up.0.1")[0][0].label == "fire texture"
    assert idx.search("", category="mood")[0][0].id == 3
    rows, total = idx.search("4000")  # a number is an id, in every block
    assert total == 4 and all(r.id == 4000 for r in rows)
    assert idx.row("mid.0", 17).label == "feature 17"  # unlabeled still works by number
    assert idx.search("")[1] == 4 * 5120


def test_feature_neighbourhood_by_decoder_cosine():
    import torch

    dec = torch.zeros(8, 5120)
    dec[0, :] = 1.0
    dec[1, 100] = 0.5  # 100 is close to everything but not identical
    dec[0, 200] = -1.0  # 200 is the opposite direction
    idx = FeatureIndex(labels(), lambda b: dec)
    near = idx.neighbours("mid.0", 0, k=10)
    assert near[0].id == 0 and near[0].score == pytest.approx(1.0)
    assert 200 not in [r.id for r in near]
    assert len(near) == 11


def test_files_open_save_recent_and_autosave(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    now = [0.0]
    model = EditorModel(default_registry())
    files = Files(model, config=str(tmp_path / "cfg"), autosave_every=30.0, now=lambda: now[0])
    model.add_node("time.lfo")
    assert files.save() == "no path"
    assert files.save_as(str(tmp_path / "a")) is None  # .patch added
    assert files.path.endswith("a.patch") and not model.dirty
    model.add_node("shape.smooth")
    now[0] = 10.0
    assert files.tick() is None  # not yet
    now[0] = 31.0
    side = files.tick()
    # in the user's data folder, keyed by the patch's path: never beside the patch
    assert side.startswith(str(tmp_path / "data" / "hambajuba" / "autosave")) and os.path.exists(side)
    assert os.path.basename(side).startswith("a-") and not os.path.exists(files.path + ".autosave")
    other = tmp_path / "elsewhere" / "a.patch"
    assert files.side_path(str(other)) != side  # two a.patch files never share an autosave
    assert files.recovery_for(files.path) == side
    assert files.save() is None and not os.path.exists(side)
    bad = tmp_path / "bad.patch"
    bad.write_text("nope")
    before = dumps(model.patch)
    assert files.open(str(bad)) and dumps(model.patch) == before
    again = Files(EditorModel(default_registry()), config=str(tmp_path / "cfg"))
    assert again.recent[0] == files.path
    untitled = Files(EditorModel(default_registry(), Patch()), config=str(tmp_path / "cfg"))
    assert untitled.side_path().endswith("untitled.autosave.patch")


def test_transport_beats_time_and_loop_prediction():
    tr = Transport(NullOutput())
    tr.install(Track(np.zeros((44100 * 10, 1), np.float32), 44100, "x.wav"), synthetic(10.0, bpm=120))
    assert tr.beat_at(0.0) == (1, 1, 120.0)
    assert tr.beat_at(0.6)[:2] == (1, 2)
    assert tr.beat_at(2.1)[:2] == (2, 1)
    tr.set_loop(1.0, 2.0)
    tr.play()
    assert tr.predict(1.9, 0.25) == pytest.approx(1.15)  # wraps like the audio will
    tr.pause()
    assert clock_text(83.456) == "01:23.46"

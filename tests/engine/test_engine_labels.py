"""Labels in the dataset's record format: lookup, search, nearest by decoder."""
from __future__ import annotations

import json

import pytest
import torch

from graph_runtime.engine.errors import EngineError
from graph_runtime.engine.labels import Labels, load_labels, nearest_by_decoder
from graph_runtime.graph.frame import BLOCKS

RECORDS = {
    "down.2.1": [{"id": 2301, "label": "intense, dramatic mood", "category": "mood",
                  "confidence": "high", "meanActivation": 23.41},
                 {"id": 17, "label": "dramatic lighting", "category": "lighting",
                  "confidence": "medium", "meanActivation": 12.0},
                 {"id": 18, "label": "Dramatic", "category": "mood", "confidence": "low",
                  "meanActivation": 9.5}],
    "mid.0": [{"id": 3, "label": "spatial: center", "category": "spatial", "confidence": "high",
               "meanActivation": 30.1},
              {"id": 99999, "label": "out of range id"},          # skipped
              {"label": "no id"},                                 # skipped
              "not a record"],                                    # skipped
    "up.0.0": [{"feature_id": 5, "label": "tiger stripes", "category": "texture",
                "confidence": 0.8, "mean_activation": 40}],      # pipeline spelling
    "up.0.1": {"features": [{"id": 1, "label": "  warm   palette ", "category": "color",
                             "confidence": "high", "meanActivation": 10}]},
}


@pytest.fixture
def labels(tmp_path):
    root = tmp_path / "sae-labels" / "data" / "features"
    root.mkdir(parents=True)
    for block, rows in RECORDS.items():
        (root / f"{block}.json").write_text(json.dumps(rows))
    (root / "README.json").write_text("{}")
    return load_labels(tmp_path / "sae-labels", n_features=5120)


def test_labels_load_in_the_dataset_format(labels):
    lab = labels.get("down.2.1", 2301)
    assert (lab.label, lab.category, lab.confidence, lab.mean_activation) == \
        ("intense, dramatic mood", "mood", "high", 23.41)
    assert labels.get("up.0.0", 5).confidence == "0.8"
    assert labels.get("up.0.1", 1).label == "warm palette"
    assert labels.skipped == 3 and len(labels) == 6


def test_a_feature_without_a_label_works_by_number(labels):
    assert labels.get("mid.0", 4) is None
    assert labels.describe("mid.0", 4) == "feature 4"
    assert Labels.empty().describe("up.0.1", 12) == "feature 12"


def test_search_ranks_exact_then_whole_words_then_confidence(labels):
    hits = labels.search("dramatic")
    assert [(h.block, h.id) for h in hits] == [("down.2.1", 18), ("down.2.1", 2301), ("down.2.1", 17)]
    assert [h.id for h in labels.search("dramatic", category="lighting")] == [17]
    assert [h.id for h in labels.search("stripes", block="up.0.0")] == [5]
    assert labels.search("stripes", block="mid.0") == []
    assert [h.id for h in labels.search("2301")] == [2301]
    assert labels.search("dramatic", limit=1)[0].id == 18
    assert labels.categories("down.2.1") == ["lighting", "mood"]


def test_unknown_block_is_a_clear_error(labels):
    with pytest.raises(EngineError, match="unknown block 'down.9'"):
        labels.get("down.9", 1)
    with pytest.raises(EngineError, match="unknown block"):
        labels.search("x", block="mid")


def test_missing_or_broken_label_files(tmp_path):
    with pytest.raises(EngineError, match="no per-block label files"):
        load_labels(tmp_path, n_features=10)
    (tmp_path / "mid.0.json").write_text("[{broken")
    with pytest.raises(EngineError, match="cannot read"):
        load_labels(tmp_path, n_features=10)


def test_nearest_by_decoder_cosine():
    decoder = torch.zeros(3, 5)
    decoder[:, 0] = torch.tensor([1.0, 0.0, 0.0])
    decoder[:, 1] = torch.tensor([0.9, 0.1, 0.0])
    decoder[:, 2] = torch.tensor([0.0, 1.0, 0.0])
    decoder[:, 3] = torch.tensor([-1.0, 0.0, 0.0])
    decoder[:, 4] = torch.tensor([0.5, 0.5, 0.0])
    near = nearest_by_decoder(decoder, 0, k=3)
    assert [i for i, _ in near] == [1, 4, 2]
    assert near[0][1] == pytest.approx(0.9 / (0.82 ** 0.5), abs=1e-6)
    with pytest.raises(EngineError, match="out of range"):
        nearest_by_decoder(decoder, 5)


def test_preview_labels_say_they_are_the_untrained_preview():
    from graph_runtime.engine.preview import preview_features
    saes, labels = preview_features()
    assert "untrained preview" in labels.source
    assert len(labels) > 0 and set(saes) == set(BLOCKS)

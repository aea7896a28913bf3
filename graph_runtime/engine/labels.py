"""Feature labels: what each SAE feature looks like, in words.

Format of the labels dataset (hammamiomar/sdxl-turbo-sae-labels): one JSON
file per block named after it ("down.2.1.json", ...), a list of records

    {"id": 2301, "label": "intense, dramatic mood", "category": "mood",
     "confidence": "high", "meanActivation": 23.41}

A feature without a record still works by number ("feature 2301"). Files are
data: bounded in size, every record checked, bad records skipped and counted.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from graph_runtime.graph.frame import BLOCKS

from .errors import EngineError

MAX_LABEL_FILE_BYTES = 64 << 20
MAX_TEXT = 300
MAX_FILES_SCANNED = 5000
CONFIDENCE_RANK = {"high": 2, "medium": 1, "low": 0}


@dataclass(frozen=True)
class FeatureLabel:
    block: str
    id: int
    label: str
    category: str
    confidence: str        # "high" | "medium" | "low" (numbers are kept as text)
    mean_activation: float


@dataclass
class Labels:
    """Labels per block: by_block[block][feature_id] -> FeatureLabel."""

    by_block: dict[str, dict[int, FeatureLabel]] = field(default_factory=dict)
    source: str = "none"   # where they came from; says "untrained preview" for the preview
    skipped: int = 0       # malformed records ignored

    @classmethod
    def empty(cls) -> "Labels":
        return cls({b: {} for b in BLOCKS})

    @classmethod
    def from_records(cls, records: dict[str, list], *, n_features: int, source: str) -> "Labels":
        by_block, skipped = {b: {} for b in BLOCKS}, 0
        for block, rows in records.items():
            if block not in by_block:
                raise EngineError("labels", f"unknown block {block!r}; blocks are {', '.join(BLOCKS)}")
            for row in rows:
                lab = _parse_record(block, row, n_features)
                if lab is None:
                    skipped += 1
                else:
                    by_block[block][lab.id] = lab
        return cls(by_block, source, skipped)

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_block.values())

    def get(self, block: str, fid: int) -> FeatureLabel | None:
        return self._block(block).get(int(fid))

    def describe(self, block: str, fid: int) -> str:
        lab = self.get(block, fid)
        return lab.label if lab else f"feature {int(fid)}"

    def categories(self, block: str | None = None) -> list[str]:
        blocks = [block] if block else list(BLOCKS)
        return sorted({lab.category for b in blocks for lab in self._block(b).values()})

    def search(self, text: str, *, block: str | None = None, category: str | None = None,
               limit: int = 20) -> list[FeatureLabel]:
        """Labels whose words contain every word of `text`, best first.

        A number finds that feature id. Ranking: whole label equal to the
        text, then all words whole, then substrings; within, confidence.
        """
        words = text.lower().split()
        blocks = [block] if block else list(BLOCKS)
        hits = []
        for b in blocks:
            for lab in self._block(b).values():
                if category and lab.category.lower() != category.lower():
                    continue
                score = _match_score(lab, text.strip().lower(), words)
                if score > 0:
                    hits.append((-score, -CONFIDENCE_RANK.get(lab.confidence, 0),
                                 BLOCKS.index(b), lab.id, lab))
        hits.sort(key=lambda h: h[:4])
        return [h[-1] for h in hits[:max(0, limit)]]

    def _block(self, block: str) -> dict[int, FeatureLabel]:
        if block not in BLOCKS:
            raise EngineError("labels", f"unknown block {block!r}; blocks are {', '.join(BLOCKS)}")
        return self.by_block.get(block, {})


def load_labels(root: Path, *, n_features: int) -> Labels:
    """Labels from a folder holding one '<block>.json' per block (any depth)."""
    files = find_label_files(Path(root))
    if not files:
        raise EngineError("labels", f"no per-block label files (e.g. down.2.1.json) under {root}")
    records = {block: _read_records(path) for block, path in files.items()}
    return Labels.from_records(records, n_features=n_features, source=str(root))


def find_label_files(root: Path) -> dict[str, Path]:
    """block -> the first JSON file named after it ("down.2.1", "down_2_1", ...)."""
    names = {_name_key(b): b for b in BLOCKS}
    found: dict[str, Path] = {}
    if not root.is_dir():
        return found
    for i, path in enumerate(sorted(root.rglob("*.json"))):
        if i >= MAX_FILES_SCANNED:
            break
        block = names.get(_name_key(path.stem))
        if block and block not in found:
            found[block] = path
    return found


def nearest_by_decoder(decoder: torch.Tensor, fid: int, k: int = 5) -> list[tuple[int, float]]:
    """The k features whose directions (decoder columns) are closest in cosine.

    decoder: (d_model, n_features). Returns [(feature id, cosine)], best first.
    """
    n = decoder.shape[1]
    if not 0 <= fid < n:
        raise EngineError("features", f"feature id {fid} out of range 0..{n - 1}")
    unit = decoder.float() / decoder.float().norm(dim=0, keepdim=True).clamp_min(1e-12)
    cos = unit[:, fid] @ unit           # (n_features,)
    cos[fid] = -2.0                     # never its own neighbour
    vals, idx = cos.topk(min(k, n - 1))
    return [(int(i), float(v)) for i, v in zip(idx, vals)]


def _read_records(path: Path) -> list:
    try:
        if path.stat().st_size > MAX_LABEL_FILE_BYTES:
            raise EngineError("labels", f"{path} is larger than {MAX_LABEL_FILE_BYTES} bytes")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise EngineError("labels", f"cannot read {path}: {e}") from None
    if isinstance(data, dict):
        data = data.get("features", [])
    if not isinstance(data, list):
        raise EngineError("labels", f"{path} should hold a list of feature records")
    return data


def _parse_record(block: str, row, n_features: int) -> FeatureLabel | None:
    if not isinstance(row, dict):
        return None
    fid = row.get("id", row.get("feature_id"))
    if isinstance(fid, bool) or not isinstance(fid, int) or not 0 <= fid < n_features:
        return None
    mean = row.get("meanActivation", row.get("mean_activation", 0.0))
    if isinstance(mean, bool) or not isinstance(mean, (int, float)):
        mean = 0.0
    return FeatureLabel(block=block, id=fid, label=_text(row.get("label"), "unlabeled"),
                        category=_text(row.get("category"), "unknown"),
                        confidence=_text(row.get("confidence"), "low"),
                        mean_activation=float(mean))


def _text(value, default: str) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = f"{value:g}"
    if not isinstance(value, str) or not value.strip():
        return default
    return " ".join(value.split())[:MAX_TEXT]


def _name_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _match_score(lab: FeatureLabel, text: str, words: list[str]) -> int:
    if text.isdigit():
        return 4 if int(text) == lab.id else 0
    hay = f"{lab.label} {lab.category}".lower()
    if not words or not all(w in hay for w in words):
        return 0
    if lab.label.lower() == text:
        return 3
    tokens = set(re.findall(r"[a-z0-9]+", hay))
    return 2 if all(w in tokens for w in words) else 1

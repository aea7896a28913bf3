"""On-disk cache of analyses: one npz per track and settings.

The key is a sha256 over the audio file's bytes, the stems' bytes (when
--stems is used), the settings that change the result (separator, weights,
beat checkpoint, pitch tracker) and ANALYSIS_VERSION. Bump the version when
any stage changes its output. The folder is $HAMBAJUBA_CACHE, else
~/.cache/hambajuba/analysis. Files are written atomically by Analysis.save
(temp file, fsync, rename), so a crash mid-write leaves no file a later run
would trust; a file that fails to load, or whose stored key differs, is a
miss and is recomputed.
"""
from __future__ import annotations

import hashlib
import json
import os
import re

from .store import Analysis

ANALYSIS_VERSION = 5  # 2: tempo-following beats, global/bpm_local; 3: followers on a ~1 ms grid
# 4: beat grid: metrical level, meter.py downbeats, global/downbeat_confidence, tempo_candidates
# 5: approximate separation on the analysis hop (441, was 512)
_CHUNK = 1 << 20


def cache_dir() -> str:
    return os.environ.get("HAMBAJUBA_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "hambajuba", "analysis")


def file_hash(path: str) -> str:
    """sha256 of a file's bytes, hex."""
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            sha.update(chunk)
    return sha.hexdigest()


def cache_key(audio_hash: str, settings: dict) -> str:
    blob = json.dumps({"audio": audio_hash, "settings": settings, "version": ANALYSIS_VERSION},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def cache_path(track_path: str, key: str, folder: str | None = None) -> str:
    """<folder>/<track name>-<key prefix>.npz (the name is for people, the key for lookup)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", os.path.splitext(os.path.basename(track_path))[0])[:60]
    return os.path.join(folder or cache_dir(), f"{name or 'track'}-{key[:20]}.npz")


def lookup(path: str, key: str) -> Analysis | None:
    """The cached Analysis at path if it loads and carries `key`, else None."""
    if not os.path.isfile(path):
        return None
    try:
        found = Analysis.load(path)
    except Exception:  # damaged, foreign or from another format version: recompute
        return None
    return found if found.meta.get("cache_key") == key else None


def store(analysis: Analysis, path: str) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    analysis.save(path)

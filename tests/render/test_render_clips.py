"""`render` sidecars record strengths clipped at the bound, per block."""
from __future__ import annotations

import json

from render_helpers import StandInEngine

from graph_runtime.graph.frame import BLOCKS, STRENGTH_BOUND
from graph_runtime.graph.patch import Patch, save
from graph_runtime.render.loop import render
from graph_runtime.render.request import RenderRequest

FPS = 15
REAL_MEAN = 47.6  # the largest real down.2.1 mean, for every feature


def _patch(tmp_path, strength: float) -> str:
    p = Patch(meta={"title": "clips"})
    p.add_node("sae.block", {"block": "down.2.1", "feature_id": 3, "strength": strength},
               node_id="loud")
    p.add_node("sae.block", {"block": "up.0.1", "feature_id": 9, "strength": 30.0}, node_id="fine")
    p.engine["size"] = 64
    path = tmp_path / "clips.patch"
    save(p, path)
    return str(path)


def _render(registry, track, patch_file, out, analysis, said):
    req = RenderRequest(track=track, patch=patch_file, out=str(out), fps=FPS, start=1.0,
                        seconds=1.0)
    return render(req, registry, engine=StandInEngine(64, mean=REAL_MEAN), analysis=analysis,
                  progress=False, say=said.append)


def test_sidecar_counts_clipped_strengths_per_block(registry, track, analysis, tmp_path):
    said = []
    patch_file = _patch(tmp_path, 400.0)        # 400 x 47.6 = 19040: past the bound every frame
    r = _render(registry, track, patch_file, tmp_path / "o.mp4", analysis, said)
    meta = json.loads((tmp_path / "o.json").read_text())
    assert meta["clipped_strengths"] == {"down.2.1": 15, "mid.0": 0, "up.0.0": 0, "up.0.1": 0}
    assert r.clipped == meta["clipped_strengths"]      # the pre-roll's clips are not counted
    assert any("clipped" in line and "down.2.1 15x" in line for line in said)
    assert set(meta["clipped_strengths"]) == set(BLOCKS)


def test_sidecar_says_zero_when_nothing_clips(registry, track, analysis, tmp_path):
    said = []
    patch_file = _patch(tmp_path, 40.0)         # a shipped stage's peak: 1904 < STRENGTH_BOUND
    assert 40.0 * 47.6 < STRENGTH_BOUND
    _render(registry, track, patch_file, tmp_path / "o.mp4", analysis, said)
    meta = json.loads((tmp_path / "o.json").read_text())
    assert meta["clipped_strengths"] == dict.fromkeys(BLOCKS, 0)
    assert not any("clipped" in line for line in said)

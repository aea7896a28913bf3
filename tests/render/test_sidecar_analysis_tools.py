"""A render's sidecar says which separator, beat tracker and pitch trackers
made the analysis it followed (approximate stems are rough: the record says so)."""
from __future__ import annotations

import json

from render_helpers import StandInEngine

from graph_runtime.render.loop import render
from graph_runtime.render.request import RenderRequest


def test_sidecar_names_the_analysis_tools(registry, track, patch_file, analysis, tmp_path):
    analysis.meta.update(separator="approx", beat_tracker="fallback",
                         pitch_tracker={"vocals": "pesto", "bass": "pesto", "other": "basic_pitch"})
    req = RenderRequest(track=track, patch=patch_file, out=str(tmp_path / "o.mp4"), fps=10, seconds=0.5)
    r = render(req, registry, engine=StandInEngine(64), analysis=analysis, progress=False,
               say=lambda _l: None)
    side = json.loads(open(r.sidecar, encoding="utf-8").read())
    assert side["analysis"]["separator"] == "approx"
    assert side["analysis"]["beat_tracker"] == "fallback"
    assert side["analysis"]["pitch_tracker"]["other"] == "basic_pitch"
    assert side["analysis"]["synthetic"] is True  # this one is a hand-made grid

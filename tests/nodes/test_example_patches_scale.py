"""The shipped patches do not clip with real SAE means.

Each patch is compiled against SAEs whose means follow the real sdxl-unbox
distribution (the preview's, drawn like down.2.1's 9.6..47.6, average 18.7)
and against the worst case (every feature at 68, the largest real mean of any
block), then played over a whole eval track at the default stage settings:
no sink may hit STRENGTH_BOUND, and the strengths written are in the real
range (hundreds), so the test would notice a unit change.
"""
from __future__ import annotations

import pathlib

import numpy as np
import pytest
from nodes_helpers import compile_

from graph_runtime.graph.frame import STRENGTH_BOUND
from graph_runtime.graph.patch import load
from hambajuba_nodes.content.examples import EXAMPLES, PATCH_DIR

EVAL = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "cases"
CASE = "bwv66_6_120"
LARGEST_REAL_MEAN = 68.0


@pytest.fixture(scope="module")
def eval_track():
    if not (EVAL / CASE).is_dir():
        pytest.skip(f"eval cases not found at {EVAL}")
    from graph_runtime.analysis import analyze
    return analyze(EVAL / CASE / "mix.flac", stems_dir=EVAL / CASE / "stems", use_cache=False)


@pytest.fixture(scope="module")
def real_means():
    from graph_runtime.engine.preview import preview_features
    saes, _ = preview_features()
    return {b: sae.means for b, sae in saes.items()}


def _play(name, analysis, feature_mean):
    """Whole track; returns {sink id: (clipped frames, largest |applied|)} and the plan."""
    plan = compile_(load(PATCH_DIR / f"{name}.patch"), analysis, feature_mean=feature_mean)
    sinks = {nid: n for nid, n in plan.nodes.items() if n.type_id == "sae.block"}
    peak = dict.fromkeys(sinks, 0.0)
    n = len(analysis.times)
    dt = 1.0 / analysis.fps
    for i in range(n):
        plan.run(i * dt, dt)
        for nid, node in sinks.items():
            peak[nid] = max(peak[nid], abs(node.applied.v))
    return {nid: (node.clipped.v, peak[nid]) for nid, node in sinks.items()}, plan


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_no_clipping_with_real_distribution_means(name, eval_track, real_means):
    seen, plan = _play(name, eval_track, lambda b, f: float(real_means[b][f]))
    assert seen, "every example steers something"
    assert plan.frame.clamped == 0 and plan.frame.clipped == [0, 0, 0, 0]
    for nid, (clipped, peak) in seen.items():
        assert clipped == 0.0, (nid, peak)
        assert peak < STRENGTH_BOUND
    assert max(p for _, p in seen.values()) > 100.0   # real units: strength x mean, hundreds


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_no_clipping_even_at_the_largest_real_mean(name, eval_track):
    seen, plan = _play(name, eval_track, lambda b, f: LARGEST_REAL_MEAN)
    assert plan.frame.clamped == 0
    assert all(clipped == 0.0 for clipped, _ in seen.values()), seen
    assert np.all(np.isfinite(plan.frame.vec))

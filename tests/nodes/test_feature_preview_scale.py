"""The feature browser's preview writes what a sink at the same strength writes.

The path is the window's: App.preview_feature -> EngineWorker.request_preview
-> the engine thread renders the snapshot. A recording engine keeps the
strengths it was handed; a compiled sink at the same strength gives the value
to match (mean-scaled, and clamped at the same bound).
"""
from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest
from nodes_helpers import DT, single

from graph_runtime.engine.null_engine import NullEngine
from graph_runtime.graph.frame import BLOCKS, STRENGTH_BOUND

MEANS = {("down.2.1", 11): 47.6, ("mid.0", 300): 9.6, ("up.0.1", 4000): 18.7}


class RecordingEngine(NullEngine):
    """Keeps the strengths of every frame it renders; the features' real means."""

    def __init__(self) -> None:
        super().__init__(8, np.zeros((8, 8, 4), np.uint8), preview=True)
        self.rendered: list[np.ndarray] = []

    def feature_mean(self, block, fid):
        return MEANS[(block, fid)]

    def render(self, frame):
        self.rendered.append(frame.strength.copy())
        return super().render(frame)


@pytest.fixture()
def worker():
    from graph_runtime.show.engine_thread import EngineWorker
    w = EngineWorker(RecordingEngine)
    w.start()
    deadline = time.monotonic() + 30.0
    while not w.ready and time.monotonic() < deadline:
        time.sleep(0.01)
    assert w.ready, w.message
    yield w
    w.stop()


def _preview(worker, block, fid, strength) -> np.ndarray:
    from hambajuba_nodes.editor.app import App
    plan, _ = single("sae.block", {"block": "mid.0"})
    app = SimpleNamespace(worker=worker, _preview_version=-1, status=lambda *a: None,
                          live=SimpleNamespace(plan=plan, feature_mean=worker.engine.feature_mean))
    assert App.preview_feature(app, block, fid, strength) is None
    deadline = time.monotonic() + 30.0
    while worker.poll_preview() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return worker.engine.rendered[-1]


@pytest.mark.parametrize("block, fid, strength", [("down.2.1", 11, 30.0), ("mid.0", 300, -25.0),
                                                  ("up.0.1", 4000, 12.5),
                                                  ("down.2.1", 11, 400.0)])  # past the bound
def test_preview_at_s_writes_what_a_sink_at_s_writes(worker, block, fid, strength):
    plan, sink = single("sae.block", {"block": block, "feature_id": fid, "strength": strength},
                        feature_mean=worker.engine.feature_mean)
    b = BLOCKS.index(block)
    by_sink = plan.run(0.0, DT).strength[b, 0]
    written = _preview(worker, block, fid, strength)
    assert written[b, 0] == by_sink                      # the same float32, bit for bit
    assert by_sink == pytest.approx(sink.applied.v, rel=1e-6)
    assert abs(by_sink) == pytest.approx(min(abs(strength) * MEANS[(block, fid)], STRENGTH_BOUND))
    assert np.count_nonzero(written) == 1   # one feature, one block

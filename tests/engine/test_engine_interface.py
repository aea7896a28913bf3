"""The local Engine is a FrameEngine with the declared defaults for what it lacks
(no link, one frame at a time) and its own model name, labels and SAE parts."""
from __future__ import annotations

from graph_runtime.engine.protocol import EngineBase, FrameEngine, is_pipelined
from graph_runtime.graph.frame import N_FEATURES


def test_the_engine_satisfies_the_declared_interface(engine):
    assert isinstance(engine, EngineBase) and isinstance(engine, FrameEngine)
    assert not is_pipelined(engine)
    assert engine.model == "preview" and engine.is_preview and engine.size == 512
    assert engine.n_features == N_FEATURES and engine.parts.saes and engine.labels is not None
    assert engine.status is None and dict(engine.timing) == {} and engine.neighbours is None
    assert engine.ordered is False and engine.in_flight == 1 and isinstance(engine.note, str)

"""`serve` builds its engine through the one factory: `--model null` is a NullEngine,
and an engine that cannot be built is said in one line (no traceback), nothing served."""
from __future__ import annotations

from argparse import Namespace

import pytest

from graph_runtime.engine.null_engine import NullEngine
from hambajuba_nodes.cli.remote import _make_engine


def test_serve_model_null_is_the_null_engine(capsys):
    engine = _make_engine(Namespace(model="null", size=64, device=None))
    assert isinstance(engine, NullEngine) and engine.size == 64 and engine.model == "null"
    assert "engine ready in" in capsys.readouterr().out


def test_an_engine_that_cannot_be_built_is_said_in_one_line(capsys):
    pytest.importorskip("torch")
    assert _make_engine(Namespace(model="no-such-model", size=64, device="cpu")) is None
    err = capsys.readouterr().err.strip()
    assert err.startswith("hambajuba serve: engine: unknown model 'no-such-model'")
    assert len(err.splitlines()) == 1


def test_the_remote_engine_satisfies_the_declared_interface():
    from graph_runtime.engine.protocol import EngineBase, FrameEngine, PipelinedEngine, is_pipelined
    from graph_runtime.remote.server import Server
    from graph_runtime.render.engines import create_engine

    srv = Server(NullEngine(32), port=0, say=lambda _l: None).start()
    try:
        remote = create_engine(address=f"127.0.0.1:{srv.port}", in_flight=3)
        try:
            assert isinstance(remote, EngineBase) and isinstance(remote, FrameEngine)
            assert is_pipelined(remote) and isinstance(remote, PipelinedEngine)
            assert remote.model == "null" and remote.size == 32 and not remote.is_preview
            assert remote.status == "connected" and remote.note == "" and "rtt_ms" in remote.timing
            assert remote.in_flight == 3 and remote.ordered is False and remote.parts is None
            assert callable(remote.neighbours) and remote.errors == 0
        finally:
            remote.close()
    finally:
        srv.close()

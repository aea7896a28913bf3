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

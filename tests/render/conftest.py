"""Fixtures for the render tests: a registry with a block sink, a patch that
drives it, and a short synthetic track (helpers live in render_helpers.py)."""
from __future__ import annotations

import pytest
from render_helpers import RenderSink, write_tone

from graph_runtime.graph.node import Registry


@pytest.fixture(scope="session")
def registry():
    from hambajuba_nodes.registry import default_registry

    reg = Registry(list(default_registry()))
    reg.add(RenderSink)
    return reg


@pytest.fixture()
def patch_file(tmp_path):
    """An LFO at 1 Hz into a block sink: every frame differs."""
    from graph_runtime.graph.patch import Patch, save

    p = Patch(meta={"title": "render test"})
    lfo = p.add_node("time.lfo", {"rate": 1.0, "shape": "sine"})
    sink = p.add_node("test.render_sink", {"block": "mid.0"})
    p.connect((lfo.id, "out"), (sink.id, "strength"))
    p.engine["size"] = 64
    path = tmp_path / "test.patch"
    save(p, path)
    return str(path)


@pytest.fixture()
def track(tmp_path):
    return write_tone(tmp_path / "tone.wav", 4.0)


@pytest.fixture()
def analysis():
    from graph_runtime.analysis.store import synthetic

    return synthetic(4.0)

"""Fixtures for the character tests: a private data folder (the creature), the
preview engine (CPU, 128 px: the smallest it makes) and a small patch."""
from __future__ import annotations

import pytest

ENGINE_SIZE = 128


@pytest.fixture(autouse=True)
def private_data(tmp_path, monkeypatch):
    """The user's data folder (his creature lives there) is the test's own."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HAMBAJUBA_CACHE", str(tmp_path / "cache"))
    return tmp_path / "data" / "hambajuba"


@pytest.fixture(scope="session")
def preview_engine():
    """The untrained preview model on the CPU (the whole dataflow, abstract images)."""
    from graph_runtime.render.loop import create_engine

    return create_engine("preview", ENGINE_SIZE, cpu_threads=1)


@pytest.fixture(scope="session")
def small_patch(tmp_path_factory):
    """The shipped default patch at the preview's smallest size."""
    from character_helpers import DEFAULT_PATCH

    from graph_runtime.graph.patch import load, save

    patch = load(DEFAULT_PATCH)
    patch.engine["size"] = ENGINE_SIZE
    path = tmp_path_factory.mktemp("patch") / "default128.patch"
    save(patch, path)
    return str(path)

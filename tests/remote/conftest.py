"""Fixtures for the remote engine tests: servers on loopback only."""
from __future__ import annotations

import pytest
from remote_helpers import TOKEN

from graph_runtime.engine.null_engine import NullEngine
from graph_runtime.remote.server import Server


@pytest.fixture()
def null_server():
    """A Server on a free loopback port serving a 128 px null engine, no token."""
    srv = Server(NullEngine(128), port=0, say=lambda _l: None).start()
    yield srv
    srv.close()


@pytest.fixture()
def token_server():
    srv = Server(NullEngine(128), port=0, token=TOKEN, say=lambda _l: None).start()
    yield srv
    srv.close()

"""Fixtures for the stage tests: a private Xvfb (the output window needs an X server)."""
from __future__ import annotations

import os

import pytest
from gui_harness import xvfb_session


@pytest.fixture(scope="session")
def display():
    # a display number of our own: other test sessions on this machine start theirs too
    yield from xvfb_session(size="1280x800x24", first=200 + os.getpid() % 400)

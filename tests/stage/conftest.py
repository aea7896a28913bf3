"""Fixtures for the stage tests: a private Xvfb."""
from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def display():
    """$DISPLAY, or a private Xvfb for the session (the output window needs an X server)."""
    from hambajuba_nodes.editor.display import has_display, private_display

    if has_display():
        yield os.environ.get("DISPLAY")
        return
    try:
        # a display number of our own: other test sessions on this machine start theirs too
        name, proc = private_display(size="1280x800x24", first=200 + os.getpid() % 400)
    except RuntimeError as e:
        pytest.skip(str(e))
    os.environ["DISPLAY"] = name
    yield name
    proc.terminate()
    proc.wait(5)
    os.environ.pop("DISPLAY", None)



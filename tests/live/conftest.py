"""The live tests: the GUI harness (tests/support/gui_harness.py: one fresh
interpreter per `gui` test, Xvfb, make_app) for the Input tab."""

import pytest
from gui_harness import display, make_app, pytest_pyfunc_call, step_until  # noqa: F401
from live_helpers import eval_pair_analyses


@pytest.fixture(scope="session")
def eval_pairs(tmp_path_factory):
    """The eval chorales' first 20 s, offline and live, analysed once for every test."""
    return eval_pair_analyses(tmp_path_factory.mktemp("eval-pairs"))

"""The window tests' fixtures: tests/support/gui_harness.py (shared with tests/live)."""
import pytest
from gui_harness import display, make_app, pytest_pyfunc_call, wav  # noqa: F401


@pytest.fixture(autouse=True)
def private_data_folder(tmp_path, monkeypatch):
    """The user's data folder (autosaves, his creature) is each test's own."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data" / "hambajuba"

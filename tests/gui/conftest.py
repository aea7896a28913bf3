"""The window tests' fixtures: tests/support/gui_harness.py (shared with tests/live)."""
from gui_harness import display, make_app, pytest_pyfunc_call, wav  # noqa: F401

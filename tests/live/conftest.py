"""The live tests: the GUI harness (tests/support/gui_harness.py: one fresh
interpreter per `gui` test, Xvfb, make_app) for the Input tab."""

from gui_harness import display, make_app, pytest_pyfunc_call, step_until  # noqa: F401

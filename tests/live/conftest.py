"""The live tests: this folder on sys.path (live_helpers), tests/analysis (beat_cases), and the GUI harness of
tests/gui (one fresh interpreter per `gui` test, Xvfb, make_app) for the Input tab."""
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "gui"))
sys.path.insert(0, str(HERE.parent / "analysis"))     # beat_cases: hard cases with truth

from conftest_gui_harness import display, make_app, pytest_pyfunc_call, step_until  # noqa: E402,F401

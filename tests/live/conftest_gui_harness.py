"""tests/gui/conftest.py under a name that does not clash with this folder's conftest."""
import importlib.util
import pathlib

_path = pathlib.Path(__file__).resolve().parent.parent / "gui" / "conftest.py"
_spec = importlib.util.spec_from_file_location("hambajuba_gui_harness", _path)
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)

display = _mod.display
make_app = _mod.make_app
pytest_pyfunc_call = _mod.pytest_pyfunc_call
step_until = _mod.step_until

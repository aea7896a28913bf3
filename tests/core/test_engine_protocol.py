"""The engine interface is declared (engine/protocol.py) and the one factory
(render/engines.py) makes engines that satisfy it; NullEngine needs no torch."""
import subprocess
import sys

import numpy as np

from graph_runtime.engine.null_engine import NullEngine
from graph_runtime.engine.protocol import FrameEngine
from graph_runtime.graph.frame import FrameParams
from graph_runtime.render.engines import create_engine, engine_factory


def test_null_engine_is_a_frame_engine_made_by_the_one_factory():
    engine = create_engine("null", 16)
    assert isinstance(engine, NullEngine) and isinstance(engine, FrameEngine)
    rgba = engine.render(FrameParams())
    assert rgba.shape == (16, 16, 4) and rgba.dtype == np.uint8
    assert engine_factory("null", 8)().render(FrameParams()).shape == (8, 8, 4)


def test_a_stand_in_without_render_is_not_an_engine():
    class NotAnEngine:
        is_preview = False
        description = ""

    assert not isinstance(NotAnEngine(), FrameEngine)


def test_the_null_engine_imports_no_torch():
    code = ("import sys\nfrom graph_runtime.render.engines import create_engine\n"
            "create_engine('null', 8)\nprint('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

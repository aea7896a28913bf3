"""The engine interface is declared (engine/protocol.py): every engine class
inherits EngineBase, satisfies FrameEngine and has its declared defaults; the
one factory (render/engines.py) makes engines that satisfy it; the code reads
engines' members plainly, never probes them; NullEngine needs no torch."""
import ast
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

from graph_runtime.engine.errors import EngineError
from graph_runtime.engine.null_engine import NullEngine
from graph_runtime.engine.protocol import EngineBase, FrameEngine, PipelinedEngine, is_pipelined
from graph_runtime.graph.frame import N_FEATURES, FrameParams
from graph_runtime.remote.pipeline import LocalPipe, frame_pipe
from graph_runtime.render.engines import create_engine, engine_factory

ROOT = pathlib.Path(__file__).resolve().parents[2]
# the optional members and the default every engine gets unless it says otherwise
DEFAULTS = {"note": "", "size": 512, "n_features": N_FEATURES, "labels": None, "parts": None,
            "neighbours": None, "status": None, "ordered": False, "in_flight": 1}


def _classes_named(path: str, name: str) -> bool:
    """Is class `name` defined in `path` (read as source: the module may need torch)?"""
    tree = ast.parse((ROOT / path).read_text())
    return any(isinstance(n, ast.ClassDef) and n.name == name for n in tree.body)


def _bases(path: str, name: str) -> list[str]:
    tree = ast.parse((ROOT / path).read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
    return [ast.unparse(b) for b in cls.bases]


@pytest.mark.parametrize("path, name", [("graph_runtime/engine/engine.py", "Engine"),
                                        ("graph_runtime/remote/client.py", "RemoteEngine"),
                                        ("graph_runtime/engine/null_engine.py", "NullEngine")])
def test_every_engine_class_inherits_the_declared_base(path, name):
    assert _classes_named(path, name)
    assert _bases(path, name) == ["EngineBase"]


def test_the_base_gives_every_declared_member_a_default():
    declared = set(FrameEngine.__annotations__) | {"render", "feature_mean", "close"}
    assert all(hasattr(EngineBase, m) for m in declared), declared - set(dir(EngineBase))
    for member, value in DEFAULTS.items():
        assert getattr(EngineBase, member) == value, member
    assert dict(EngineBase.timing) == {} and EngineBase.is_preview is False


def test_the_base_refuses_an_engine_without_render():
    class NoRender(EngineBase):
        def feature_mean(self, block, fid):
            return 1.0

    with pytest.raises(TypeError, match="render"):
        NoRender()


def test_null_engine_is_a_frame_engine_made_by_the_one_factory():
    engine = create_engine("null", 16)
    assert isinstance(engine, NullEngine) and isinstance(engine, FrameEngine)
    assert not is_pipelined(engine)
    rgba = engine.render(FrameParams())
    assert rgba.shape == (16, 16, 4) and rgba.dtype == np.uint8
    assert engine_factory("null", 8)().render(FrameParams()).shape == (8, 8, 4)
    assert engine.model == "null" and engine.size == 16 and engine.frames == 1
    for member, value in DEFAULTS.items():
        if member != "size":
            assert getattr(engine, member) == value, member


def test_null_engine_options_serve_the_tests_stand_ins():
    image = np.full((4, 4, 4), 7, np.uint8)
    engine = NullEngine(4, image, mean=47.6, preview=True, description="a test")
    assert engine.render(FrameParams()) is engine._image and engine._image[0, 0, 0] == 7
    assert engine.feature_mean("mid.0", 3) == 47.6
    assert engine.is_preview and engine.model == "null" and engine.description == "a test"


def test_a_stand_in_without_render_is_not_an_engine():
    class NotAnEngine:
        is_preview = False
        description = ""

    assert not isinstance(NotAnEngine(), FrameEngine)


def test_pipelined_is_decided_by_the_declared_sub_protocol():
    class Piping(NullEngine):
        errors, last_error = 0, ""

        def submit(self, frame, at, *, tag=None, wait_s=0.0):
            return 0

        def poll(self):
            return None

        def wait(self, timeout):
            pass

    piping = Piping(8)
    assert is_pipelined(piping) and isinstance(piping, PipelinedEngine)
    assert frame_pipe(piping) is piping
    assert isinstance(frame_pipe(NullEngine(8)), LocalPipe)


def test_the_factory_says_an_unknown_model_as_an_engine_error():
    pytest.importorskip("torch")
    with pytest.raises(EngineError, match="unknown model"):
        create_engine("no-such-model", 64)


def test_the_null_engine_imports_no_torch():
    code = ("import sys\nfrom graph_runtime.render.engines import create_engine\n"
            "create_engine('null', 8)\nprint('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the code reads engines plainly ------------------------------------------------------
# getattr/hasattr on something named engine/eng/pipe (or self.engine, w.engine...), and a
# getattr of an "engine" attribute (a worker probed for its engine; not the CLI's args).
PROBE = re.compile(r"\b(?:get|has)attr\(\s*(?:[\w.]+\.)?_?(?:engine|eng|pipe)\s*,"
                   r"|\bgetattr\((?!\s*args\b)[^()]*,\s*['\"]engine['\"]")
BUILD = re.compile(r"\bEngine\.create\(|\bRemoteEngine\(|\bNullEngine\(")


def _sources():
    for pkg in ("graph_runtime", "hambajuba_nodes"):
        for p in sorted((ROOT / pkg).rglob("*.py")):
            yield p.relative_to(ROOT).as_posix(), p.read_text()


def test_no_getattr_probes_of_engines_remain():
    found = [f"{path}:{i}: {line.strip()}" for path, text in _sources()
             for i, line in enumerate(text.splitlines(), 1) if PROBE.search(line)]
    assert found == []


def test_engines_are_built_only_by_the_one_factory():
    """Code (not docstrings or comments) that builds an engine: only render/engines.py."""
    allowed = {"graph_runtime/render/engines.py"}
    found = []
    for path, text in _sources():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and BUILD.search(ast.unparse(node.func) + "("):
                if path not in allowed:
                    found.append(f"{path}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert found == []


def test_the_tests_stand_in_engines_are_null_engines():
    """A class in tests/ with render(self, frame) is a NullEngine (or one of its
    subclasses there); KeepingEngine is a proxy of the real preview engine."""
    engines, proxies = {"NullEngine", "EngineBase"}, {"KeepingEngine"}
    classes = []
    for p in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(f, ast.FunctionDef) and f.name == "render" for f in node.body):
                classes.append((p.relative_to(ROOT).as_posix(), node.name,
                                [ast.unparse(b) for b in node.bases]))
    for _ in classes:  # subclasses of stand-ins count as engines too (any order of definition)
        engines |= {name for _p, name, bases in classes if set(bases) & engines}
    odd = [f"{p}: {name}({', '.join(bases)})" for p, name, bases in classes
           if name not in engines | proxies]
    assert len(classes) >= 10 and odd == []

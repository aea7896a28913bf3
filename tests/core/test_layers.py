"""The graph core imports neither torch nor dearpygui; graph_runtime never
imports hambajuba_nodes."""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_graph_core_imports_no_torch_or_dearpygui():
    code = ("import sys, graph_runtime.graph.patch, graph_runtime.graph.node, graph_runtime.graph.compiler, "
            "graph_runtime.graph.channels, graph_runtime.graph.frame, graph_runtime.analysis.store\n"
            "bad = [m for m in ('torch', 'dearpygui', 'hambajuba_nodes') if m in sys.modules]\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_node_library_imports_no_torch():
    code = ("import sys\nfrom hambajuba_nodes.registry import default_registry\n"
            "default_registry()\nprint('torch' in sys.modules, 'dearpygui' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_graph_runtime_never_imports_the_authoring_side():
    pattern = re.compile(r"^\s*(import|from)\s+(hambajuba_nodes|dearpygui)\b", re.M)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "graph_runtime").rglob("*.py")
                 if pattern.search(p.read_text())]
    assert offenders == []

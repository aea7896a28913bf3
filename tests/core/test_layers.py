"""The layering, checked on the source: which layer may import what, and no
import cycles (every import statement counts: inside functions and under
`if TYPE_CHECKING:` too)."""
import ast
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("graph_runtime", "hambajuba_nodes")


def _imports(path: pathlib.Path) -> list[str]:
    """Every module an import statement in `path` names (absolute, dotted)."""
    rel = path.relative_to(ROOT).with_suffix("")
    here = rel.parts[:-1] if rel.name == "__init__" else rel.parts[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(here[: len(here) - node.level + 1])
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append(mod)
            out += [f"{mod}.{a.name}" for a in node.names]
    return out


def _offenders(folder: str, banned: tuple[str, ...]) -> list[str]:
    bad = []
    for p in sorted((ROOT / folder).rglob("*.py")):
        for mod in _imports(p):
            if any(mod == b or mod.startswith(b + ".") for b in banned):
                bad.append(f"{p.relative_to(ROOT)}: {mod}")
    return bad


def test_graph_core_imports_no_torch_or_dearpygui():
    code = ("import sys, graph_runtime.graph.patch, graph_runtime.graph.node, graph_runtime.graph.compiler, "
            "graph_runtime.graph.channels, graph_runtime.graph.frame, graph_runtime.graph.edit, "
            "graph_runtime.analysis.store\n"
            "bad = [m for m in ('torch', 'dearpygui', 'hambajuba_nodes') if m in sys.modules]\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_graph_imports_neither_torch_nor_threads():
    assert _offenders("graph_runtime/graph", ("torch", "threading", "concurrent", "multiprocessing")) == []


def test_show_imports_no_dearpygui_and_no_node_library():
    assert _offenders("graph_runtime/show", ("dearpygui", "hambajuba_nodes")) == []


def test_control_is_io_only():
    """MIDI, OSC, bindings, scenes: I/O into the inbox; the session that
    applies it to the show lives in show/, and control/ never calls up into it."""
    assert _offenders("graph_runtime/control", ("graph_runtime.show", "dearpygui", "hambajuba_nodes")) == []


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


def test_editor_is_views_only():
    """The running show lives in graph_runtime/show/: what stays in editor/
    without Dear PyGui is small glue for the views (at most 300 lines)."""
    no_gui = {}
    for p in sorted((ROOT / "hambajuba_nodes" / "editor").glob("*.py")):
        if not any(m == "dearpygui" or m.startswith("dearpygui.") for m in _imports(p)):
            no_gui[p.name] = len(p.read_text().splitlines())
    assert sum(no_gui.values()) <= 300, no_gui


def test_graph_runtime_root_is_a_map():
    root = ROOT / "graph_runtime"
    modules = sorted(p.name for p in root.glob("*.py") if p.name != "__init__.py")
    assert len(modules) <= 2, modules
    doc = ast.get_docstring(ast.parse((root / "__init__.py").read_text())) or ""
    assert len(doc.splitlines()) >= 8
    for folder in (p.name for p in root.iterdir() if (p / "__init__.py").exists()):
        assert f"{folder}/" in doc, f"graph_runtime/__init__.py does not say what {folder}/ holds"


def test_no_module_over_500_lines():
    long = {str(p.relative_to(ROOT)): n for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 500}
    assert long == {}


# -- import cycles ---------------------------------------------------------------------

def _module_files() -> dict[str, pathlib.Path]:
    out = {}
    for pkg in PACKAGES:
        for p in (ROOT / pkg).rglob("*.py"):
            rel = p.relative_to(ROOT).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            out[".".join(parts)] = p
    return out


def _edges(mods: dict[str, pathlib.Path]) -> dict[str, set[str]]:
    """Module -> the project modules its import statements reach. An import
    that only reaches a package's __init__ counts as an edge to the module
    the __init__ takes the name from (its re-export), if any."""
    def is_pkg(m):
        return m in mods and mods[m].name == "__init__.py"

    def reexport(pkg, name):
        for node in ast.parse(mods[pkg].read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                if any((a.asname or a.name) == name for a in node.names):
                    return f"{pkg}.{node.module}"
        return None

    graph = {}
    for mod, path in mods.items():
        here = mod if is_pkg(mod) else mod.rsplit(".", 1)[0]
        out = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                out |= {a.name for a in node.names if a.name in mods and not is_pkg(a.name)}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - node.level + 1]
                    src = ".".join(base + ([node.module] if node.module else []))
                else:
                    src = node.module or ""
                if src not in mods:
                    continue
                for a in node.names:
                    sub = f"{src}.{a.name}"
                    target = sub if sub in mods else src if not is_pkg(src) else reexport(src, a.name)
                    if target in mods and not is_pkg(target):
                        out.add(target)
        out.discard(mod)
        graph[mod] = out
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index, low, on, stack, groups = {}, {}, set(), [], []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                group = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    group.append(w)
                    if w == v:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_no_import_cycles_lazy_imports_included():
    assert _cycles(_edges(_module_files())) == []


def test_the_cycle_finder_sees_a_lazy_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]

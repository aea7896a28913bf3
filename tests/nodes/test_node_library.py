"""The node library as a whole: registered, documented, free of torch and dearpygui."""
import subprocess
import sys

from graph_runtime.graph.node import PARAM_KINDS
from hambajuba_nodes.registry import NODE_MODULES, default_registry

EXPECTED = {
    "audio.source", "audio.beat", "physics.spring", "physics.pitch_follow", "physics.oscillator",
    "physics.perlin", "physics.blend", "dance.dancer", "ensemble.prominence", "mask.paint",
    "mask.pitch", "mask.mix", "dest.prompt", "dest.latent", "noise.walk", "sae.block",
}


def test_every_node_of_the_issue_is_registered():
    types = {c.type_id for c in default_registry()}
    assert EXPECTED <= types


def test_node_modules_all_load():
    import importlib
    for name in NODE_MODULES:
        assert importlib.import_module(name).NODES


def test_schemas_are_documented_and_defaults_valid():
    for cls in default_registry():
        if cls.type_id not in EXPECTED:
            continue
        assert cls.doc and cls.title and cls.family
        for prm in cls.params:
            assert prm.kind in PARAM_KINDS
            value, why = prm.check(prm.default)
            assert why is None, f"{cls.type_id}.{prm.name}: default refused: {why}"
        cls.schema()


def test_node_modules_import_no_torch_or_dearpygui():
    code = ("import sys\n"
            "from hambajuba_nodes.registry import default_registry\n"
            "import hambajuba_nodes.content.auto_chain, hambajuba_nodes.content.examples, "
            "hambajuba_nodes.content.demo_track, hambajuba_nodes.cli.patch_edit\n"
            "default_registry()\n"
            "bad = [m for m in ('torch', 'dearpygui') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)

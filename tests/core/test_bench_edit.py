"""`hambajuba bench edit` runs through the window's own objects and prints the
keys the issue names (the figures themselves go in notes, not assertions)."""
from __future__ import annotations

import json

from hambajuba_nodes.cli import main


def test_bench_edit_prints_its_keys(capsys):
    assert main(["bench", "edit", "--minutes", "0.1", "--edits", "6", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"param_p99_ms", "structural_p99_ms", "minutes"} <= set(out)
    assert out["minutes"] == 0.1 and out["edits"] == 12
    # param edits compile nothing: one compile to start, then one plan (and the
    # meter twin the lagging clock asks for) per structural edit
    assert out["compiles"] == 2 + 2 * 6


def test_bench_edit_refuses_a_missing_patch(tmp_path, capsys):
    assert main(["bench", "edit", "--patch", str(tmp_path / "none.patch")]) == 2
    assert "none.patch" in capsys.readouterr().err

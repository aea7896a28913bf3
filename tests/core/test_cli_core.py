"""`hambajuba patch validate|info` and `bench bridge` as a user runs them."""
import json

from graph_runtime.graph import patch as P
from hambajuba_nodes.cli import main


def good_patch(path):
    p = P.Patch(meta={"title": "two nodes"})
    a = p.add_node("time.lfo")
    b = p.add_node("shape.smooth")
    p.connect((a.id, "out"), (b.id, "x"))
    P.save(p, path)


def test_validate_exit_codes_and_one_line_per_problem(tmp_path, capsys):
    ok = tmp_path / "ok.patch"
    good_patch(ok)
    assert main(["patch", "validate", str(ok)]) == 0
    bad = tmp_path / "bad.patch"
    p = P.load(ok)
    p.nodes[0].params["rate"] = -5.0
    p.connect(("lfo_1", "out"), ("ghost", "x"))
    P.save(p, bad)
    broken = tmp_path / "broken.patch"
    broken.write_text("{nope")
    capsys.readouterr()
    assert main(["patch", "validate", str(ok), str(bad), str(broken)]) == 2
    lines = capsys.readouterr().out.strip().splitlines()
    assert f"{ok}: ok" in lines
    assert any(l.startswith(f"{bad}: node lfo_1 param 'rate'") for l in lines)
    assert any(l.startswith(f"{bad}: node ghost") for l in lines)
    assert any(l.startswith(f"{broken}:1:2: malformed JSON") for l in lines)


def test_validate_refuses_unknown_types(tmp_path, capsys):
    path = tmp_path / "future.patch"
    p = P.Patch()
    p.add_node("future.thing", node_id="ft")
    P.save(p, path)
    assert main(["patch", "validate", str(path)]) == 2
    assert "node ft: unknown node type 'future.thing'" in capsys.readouterr().out


def test_info_json(tmp_path, capsys):
    path = tmp_path / "ok.patch"
    good_patch(path)
    assert main(["patch", "info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["nodes"] == 2 and info["links"] == 1 and info["order"] == ["lfo_1", "smooth_1"]


def test_bench_bridge_json_keys(capsys):
    assert main(["bench", "bridge", "--frames", "300", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"p50_us", "p99_us", "max_us", "frames", "nodes"} <= set(result)
    assert result["frames"] == 300 and result["nodes"] == 40
    assert 0 < result["p50_us"] <= result["p99_us"] <= result["max_us"]


def test_bench_bridge_bad_frames(capsys):
    try:
        main(["bench", "bridge", "--frames", "0"])
    except SystemExit as e:
        assert e.code == 2
    else:
        raise AssertionError("--frames 0 accepted")

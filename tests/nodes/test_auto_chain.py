"""Auto chain: stem + block -> a configured, playing chain; and its CLI command."""
import argparse

import numpy as np
import pytest
from nodes_helpers import DT, compile_, track

from graph_runtime.analysis.store import synthetic
from graph_runtime.graph.frame import SLOTS
from graph_runtime.graph.patch import Patch, load, save
from hambajuba_nodes.cli.patch_edit import add_patch_auto_parser
from hambajuba_nodes.content.auto_chain import COLUMN, auto_chain, choose, classification


def chain_params(patch, ids):
    return {patch.node(i).type: patch.node(i).params for i in ids}


@pytest.mark.parametrize("stem, preset, intensity, mask", [
    ("bass", "bass", "energy_smooth", "floor"),
    ("drums_low", "kick", "energy_smooth", "floor"),
    ("drums_high", "kick", "flux", "ceiling"),
    ("other_high", "ambient", "flux", "ceiling"),
    ("vocals", "vocals", "energy_smooth", "center"),
    ("drums", "kick", "energy_smooth", None),
    ("other", "ambient", "energy_smooth", None),
])
def test_choices_from_the_stem_without_analysis(stem, preset, intensity, mask):
    pick = choose(stem, classification(stem))
    assert (pick["preset"], pick["intensity"], pick["mask"]) == (preset, intensity, mask)


def test_classification_from_the_analysis_wins():
    a = track(2.0)
    a.data["class/other"] = np.array([0.9, 0.1, 0.0, 0.0, 0.0], dtype=np.float32)  # percussive!
    pick = choose("other", classification("other", a))
    assert pick["preset"] == "kick" and pick["impulse"] == "hit"


def test_chain_is_added_wired_and_plays():
    p = Patch()
    ids = auto_chain(p, "bass", "down.2.1", feature_id=1234)
    params = chain_params(p, ids)
    assert set(params) == {"audio.source", "physics.blend", "dance.dancer", "sae.block",
                           "mask.paint"}
    assert params["physics.blend"]["preset"] == "bass"
    assert params["mask.paint"]["preset"] == "floor"
    assert params["sae.block"] == {"block": "down.2.1", "feature_id": 1234}
    xs = sorted({p.node(i).pos[0] for i in ids})
    assert xs == [0.0, COLUMN, 2 * COLUMN, 3 * COLUMN, 4 * COLUMN]  # left to right
    n = 500
    a = track(10, bass__energy_smooth=np.linspace(0, 1, n), bass__activity=1.0)
    plan = compile_(p, a)
    for i in range(n):
        frame = plan.run(i * DT, DT)
    assert frame.strength[0, 0] > 10.0  # the bass pushes the feature
    assert np.all(frame.masks[0, 0, 8:] == 1.0) and np.all(frame.masks[0, 0, :8] == 0.0)


def test_percussive_chain_kicks_its_physics_on_hits():
    p = Patch()
    ids = auto_chain(p, "drums", "up.0.0")
    phys = next(i for i in ids if p.node(i).type == "physics.blend")
    src = next(i for i in ids if p.node(i).type == "audio.source")
    assert any(l.src == (src, "hit") and l.dst == (phys, "impulse") for l in p.links)


def test_existing_source_is_reused_and_chains_stack_downward():
    p = Patch()
    first = auto_chain(p, "vocals", "up.0.1")
    second = auto_chain(p, "vocals", "up.0.0")
    assert not any(p.node(i).type == "audio.source" for i in second)
    assert min(p.node(i).pos[1] for i in second) > max(p.node(i).pos[1] for i in first)
    assert len({n.id for n in p.nodes}) == len(p.nodes)
    compile_(p, track(2.0))


def test_full_block_and_unknown_names_are_refused():
    p = Patch()
    for _ in range(SLOTS):
        auto_chain(p, "other", "mid.0")
    with pytest.raises(ValueError, match="mid.0"):
        auto_chain(p, "bass", "mid.0")
    with pytest.raises(ValueError, match="stem"):
        auto_chain(p, "kazoo", "mid.0")
    with pytest.raises(ValueError, match="block"):
        auto_chain(p, "bass", "mid.1")


def _cli(argv):
    ap = argparse.ArgumentParser(prog="hambajuba patch")
    sub = ap.add_subparsers(dest="cmd", required=True)
    add_patch_auto_parser(sub)
    args = ap.parse_args(argv)
    return args.func(args)


def test_cli_auto_chain(tmp_path, capsys):
    path = tmp_path / "live.patch"
    assert _cli(["auto-chain", str(path), "--stem", "bass", "--block", "down.2.1", "--new"]) == 0
    assert _cli(["auto-chain", str(path), "--stem", "drums", "--block", "up.0.0",
                 "--feature", "4977"]) == 0
    patch = load(path)
    sinks = {n.params["block"]: n.params["feature_id"] for n in patch.nodes if n.type == "sae.block"}
    assert sinks["up.0.0"] == 4977 and "down.2.1" in sinks
    assert "added" in capsys.readouterr().out
    compile_(patch, track(2.0))


def test_cli_auto_chain_with_analysis_and_errors(tmp_path, capsys):
    a = synthetic(2.0)
    a.data["class/other"] = np.array([0.9, 0.1, 0.0, 0.0, 0.0], dtype=np.float32)
    cache = tmp_path / "track.npz"
    a.save(cache)
    out = tmp_path / "out.patch"
    src = tmp_path / "in.patch"
    save(Patch(), src)
    assert _cli(["auto-chain", str(src), "--stem", "other", "--block", "mid.0",
                 "--analysis", str(cache), "--out", str(out)]) == 0
    presets = [n.params.get("preset") for n in load(out).nodes if n.type == "physics.blend"]
    assert presets == ["kick"]
    assert load(src).nodes == []  # --out leaves the input alone
    assert _cli(["auto-chain", str(tmp_path / "missing.patch"), "--stem", "bass",
                 "--block", "mid.0"]) == 2
    with pytest.raises(SystemExit):
        _cli(["auto-chain", str(src), "--stem", "bass", "--block", "mid.0", "--feature", "6000"])
    assert "error" in capsys.readouterr().err

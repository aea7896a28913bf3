"""The creature file: he grows from music (perform's grower), writes are
atomic, a damaged file gives a warning and a fresh creature; `character
show/reset` and `bench character` through the CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from character_helpers import ROOT


def _cli(*args, stdin=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "hambajuba_nodes.cli", *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=240)


def test_the_creature_lives_in_the_users_data_folder(private_data):
    from graph_runtime.stage.character.creature import creature_path

    assert creature_path() == str(private_data / "creature.json")


def test_he_grows_from_music(private_data):
    from graph_runtime.stage.character.creature import SAVE_EVERY_S, CreatureGrower, load

    g = CreatureGrower(say=lambda _l: None)
    g.track("abc123")
    dt = 1 / 30
    for i in range(int((SAVE_EVERY_S + 1) / dt)):  # bass all along, drums every other frame
        g.frame(dt, (True, i % 2 == 0, False, False), 128.0)
    g.steered("mid.0#1234", 5.0)
    g.flush()
    c, warning = load()
    assert warning is None
    assert c.tracks_played == 1 and c.minutes == pytest.approx((SAVE_EVERY_S + 1) / 60, abs=0.01)
    assert c.stem_seconds["bass"] == pytest.approx(2 * c.stem_seconds["drums"], rel=0.01)
    assert c.stem_seconds["vocals"] == 0.0
    assert (c.tempo_min, c.tempo_max) == (128.0, 128.0)
    assert c.top_features() == ["mid.0#1234"]
    # and a second session adds to the first
    g2 = CreatureGrower(say=lambda _l: None)
    g2.track("def456")
    for _ in range(300):
        g2.frame(dt, (False, False, True, False), 92.0)
    g2.flush()
    c2, _ = load()
    assert c2.tracks_played == 2 and c2.tempo_min == 92.0 and c2.tempo_max == 128.0
    assert c2.stem_seconds["vocals"] == pytest.approx(10.0, abs=0.05)
    assert c2.seed == c.seed  # the same creature


def test_his_drawing_comes_from_the_creature():
    from graph_runtime.stage.character.creature import Creature
    from graph_runtime.stage.character.skin import load_skin
    from graph_runtime.stage.character.still import still

    young, old = Creature(seed=1), Creature(seed=1)
    old.minutes, old.stem_seconds = 120.0, {"bass": 4000.0, "drums": 10.0, "vocals": 0.0,
                                             "other": 0.0}
    assert old.petals("bass", 5) > young.petals("bass", 5) == 5
    assert old.garden() == 40 and young.garden() == 0
    skin = load_skin("terminal")
    a, b = still(skin, young, 640, 360), still(skin, old, 640, 360)
    assert (a != b).any(axis=-1).sum() > 500  # flowers grew inside him


def test_writes_are_atomic(private_data, monkeypatch):
    from graph_runtime.stage.character import creature as cr

    c = cr.fresh(seed=5)
    c.minutes = 10.0
    path = c.save()
    before = open(path, "rb").read()
    c.minutes = 20.0

    def crash(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        c.save()
    monkeypatch.undo()
    assert open(path, "rb").read() == before  # the old file, whole
    assert os.listdir(os.path.dirname(path)) == ["creature.json"]  # no temp file left


@pytest.mark.parametrize("content", [b"{\"format\": \"hambajuba.creature\", \"vers",
                                     b"\xff\xfe\x00garbage", b"[1, 2, 3]",
                                     b'{"format": "hambajuba.creature", "version": 1}'])
def test_a_damaged_file_gives_a_warning_and_a_fresh_creature(private_data, content):
    from graph_runtime.stage.character.creature import CreatureGrower, load

    private_data.mkdir(parents=True, exist_ok=True)
    path = private_data / "creature.json"
    path.write_bytes(content)
    c, warning = load()
    assert c.minutes == 0 and c.tracks_played == 0
    assert warning and "damaged" in warning and "\n" not in warning
    said = []
    g = CreatureGrower(say=said.append)
    assert said and "damaged" in said[0]
    for _ in range(60):
        g.frame(0.05, (True, False, False, False), 100.0)
    g.flush()
    assert (private_data / "creature.json.damaged").read_bytes() == content  # kept, not lost
    assert load()[1] is None


def test_character_show_writes_a_png_of_him(private_data, tmp_path):
    from PIL import Image

    out = tmp_path / "him.png"
    r = _cli("character", "show", "--skin", "candy", "--out", str(out), "--canvas", "640x360")
    assert r.returncode == 0, r.stderr
    assert "candy" in r.stdout
    img = Image.open(out)
    assert img.size == (640, 360)
    assert not (private_data / "creature.json").exists()  # show reads, never writes


def test_character_reset_asks_first(private_data):
    from graph_runtime.stage.character.creature import Creature, load

    old = Creature(seed=3)
    old.minutes = 99.0
    old.save()
    r = _cli("character", "reset")  # no terminal, no --yes: refused
    assert r.returncode == 2 and "--yes" in r.stderr
    assert load()[0].minutes == 99.0
    r = _cli("character", "reset", "--yes")
    assert r.returncode == 0, r.stderr
    c, warning = load()
    assert warning is None and c.minutes == 0.0


def test_bench_character_reports_p99(private_data):
    r = _cli("bench", "character", "--json", "--frames", "60")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["canvas"] == "1280x720" and report["frames"] == 60
    assert 0 < report["p50_ms"] <= report["p99_ms"] <= report["max_ms"]
    assert report["target_p99_ms"] == 3.0

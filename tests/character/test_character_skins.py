"""Skins: the three bundled ones load and differ; a bad skin (or one that does
not parse) exits non-zero with one line naming the field, no traceback."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from character_helpers import ROOT

GOOD = {
    "format": "hambajuba.skin", "version": 1, "name": "mine",
    "colors": {"background": "#000000", "body": "#202020", "body_edge": "#ffffff",
               "screen": "#001000", "text": "#00ff00", "glow": "#00ff00",
               "heart_frame": "#101010"},
    "face": {"eye_open": "o", "eye_closed": "-", "eye_wide": "O", "brow": "~",
             "brow_raised": "^", "mouth_calm": "_", "mouth_open": "o"},
    "body": {"corner_radius": 0.2, "width": 1.4},
    "orbs": {"style": "rings", "petals": 4},
}


def _cli(*args, cwd=None, env_home=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "hambajuba_nodes.cli", *args],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=240)


def _write(path, doc) -> str:
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return str(path)


def test_three_bundled_skins_load_and_look_different():
    from graph_runtime.stage.character.skin import bundled_skins, load_skin

    skins = [load_skin(n) for n in bundled_skins()]
    assert len(skins) == 3
    assert len({s.colors["body"] for s in skins}) == 3
    assert len({s.orb_style for s in skins}) == 3
    assert len({(s.corner_radius, s.body_width) for s in skins}) == 3
    assert len({s.face["eye_closed"] for s in skins}) == 3


def test_a_single_file_skin_and_a_skin_folder_load(tmp_path):
    from graph_runtime.stage.character.skin import load_skin

    assert load_skin(_write(tmp_path / "mine.skin", GOOD)).stems["bass"] == (255, 140, 40)
    folder = tmp_path / "myskin"
    folder.mkdir()
    font = ROOT / "graph_runtime" / "stage" / "character" / "fonts" / "DejaVuSansMono.ttf"
    (folder / "Mono.ttf").write_bytes(font.read_bytes())
    _write(folder / "skin.json", dict(GOOD, font="Mono.ttf"))
    skin = load_skin(str(folder))
    assert skin.font_path == str((folder / "Mono.ttf").resolve())


@pytest.mark.parametrize("change, field", [
    (lambda d: d["colors"].update(body="pink"), "colors.body"),
    (lambda d: d["colors"].pop("glow"), "colors.glow"),
    (lambda d: d["face"].update(eye_open="OO"), "face.eye_open"),
    (lambda d: d["body"].update(corner_radius=3), "body.corner_radius"),
    (lambda d: d["orbs"].update(style="cubes"), "orbs.style"),
    (lambda d: d["orbs"].update(release_ms=900), "orbs.release_ms"),
    (lambda d: d.update(version=7), "version"),
    (lambda d: d.update(stems={"piano": "#ffffff"}), "stems.piano"),
    (lambda d: d.update(font="../../etc/x.ttf"), "font"),
])
def test_a_bad_skin_names_the_field(tmp_path, change, field):
    from graph_runtime.stage.character.skin import SkinError, load_skin

    doc = json.loads(json.dumps(GOOD))
    change(doc)
    with pytest.raises(SkinError) as e:
        load_skin(_write(tmp_path / "bad.skin", doc))
    assert str(e.value).startswith(f"bad.skin: {field}")
    assert "\n" not in str(e.value)


def test_a_font_outside_the_skin_folder_is_refused(tmp_path):
    from graph_runtime.stage.character.skin import SkinError, load_skin

    folder = tmp_path / "sneaky"
    folder.mkdir()
    (tmp_path / "outside.ttf").write_bytes(b"x")
    _write(folder / "skin.json", dict(GOOD, font="../outside.ttf"))
    with pytest.raises(SkinError, match="font"):
        load_skin(str(folder))


def test_the_cli_refuses_a_bad_skin_in_one_line(tmp_path):
    bad = _write(tmp_path / "bad.skin", dict(GOOD, colors=dict(GOOD["colors"], text="#12")))
    r = _cli("character", "show", "--skin", bad, "--out", str(tmp_path / "x.png"))
    assert r.returncode == 2
    assert r.stderr.strip() == "bad.skin: colors.text: '#12' is not a colour #rrggbb"
    assert not (tmp_path / "x.png").exists()
    broken = _write(tmp_path / "broken.skin", '{"format": "hambajuba.skin",')
    r = _cli("character", "show", "--skin", broken)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("broken.skin: not JSON")
    r = _cli("character", "show", "--skin", "nosuchskin")
    assert r.returncode == 2 and "terminal" in r.stderr and "Traceback" not in r.stderr


def test_render_refuses_a_bad_skin_before_anything_heavy(tmp_path):
    from character_helpers import write_tone

    bad = _write(tmp_path / "bad.skin", dict(GOOD, orbs={"style": "petals", "petals": 99}))
    r = _cli("render", write_tone(tmp_path / "t.wav", 1.0), "--view", "character", "--skin",
             bad, "--frames-dir", str(tmp_path / "f"), "--model", "preview")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == "bad.skin: orbs.petals: 99 is out of range 3..12"
    r = _cli("render", str(tmp_path / "t.wav"), "--view", "character", "--canvas", "big",
             "--frames-dir", str(tmp_path / "f"))
    assert r.returncode == 2 and "--canvas big" in r.stderr


def test_perform_refuses_a_bad_skin_before_the_window(tmp_path):
    bad = _write(tmp_path / "bad.skin", dict(GOOD, face=dict(GOOD["face"], brow=None)))
    r = _cli("perform", "--skin", bad, "--view", "character")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == "hambajuba perform: bad.skin: face.brow: missing (one printable character)"


def test_render_with_ray_refuses_the_character_view(tmp_path):
    from character_helpers import write_tone

    r = _cli("render", write_tone(tmp_path / "t.wav", 1.0), "--view", "character", "--ray",
             "--out", str(tmp_path / "o.mp4"))
    assert r.returncode == 2 and "--view character renders on this machine only" in r.stderr

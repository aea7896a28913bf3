"""A Ray render survives what a one-process render survives: a scene the
engine refuses (unreadable album art) renders noise and says so, with
"refused" and the file's name, even under -q, and into the sidecar; album
art travels to workers as bytes; the Ray sidecar names the analysis tools."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from render_paths import DEFAULT_PATCH, ROOT, write_track

from graph_runtime.graph.patch import load, save
from graph_runtime.scale.chunk_render import EngineSpec, render_chunk
from graph_runtime.scale.control_track import ControlTrack
from graph_runtime.scale.scene_art import read_arts

pytest.importorskip("torch")
FPS = 10
SPEC = EngineSpec("preview", 128, None, 1)


def album_patch(folder, image: str = "cover.jpg") -> str:
    """The default patch at 128 px, its latent destination reading `image` beside it."""
    patch = load(DEFAULT_PATCH)
    patch.engine.update(size=128, model="preview")
    lfo = patch.add_node("time.lfo", {"rate": 1.0})
    cover = patch.add_node("dest.latent", {"image": image, "mode": "driven"}, node_id="cover")
    patch.connect((lfo.id, "out"), (cover.id, "drive"))
    path = os.path.join(folder, "album.patch")
    save(patch, path)
    return path


def _track_with_art(path: str | None, frames: int = 4) -> ControlTrack:
    from graph_runtime.graph.frame import VEC_LEN, Scene
    from graph_runtime.scale.scene_codec import scene_to_data

    scene = scene_to_data(Scene(latent_image=path))
    return ControlTrack(FPS, 0, np.zeros((frames, VEC_LEN), np.float32),
                        np.zeros(1, np.int64), [scene])


def test_a_chunk_with_unreadable_art_renders_noise_and_says_refused(tmp_path):
    bad = tmp_path / "cover.jpg"
    bad.write_bytes(b"this is not a jpeg")
    track = _track_with_art(str(bad))
    got = render_chunk(SPEC, track, 0, "jpeg", read_arts(track.scenes))  # old: EngineError
    assert got.frames == 4 and len(got.data) == 4
    assert len(got.warnings) == 1
    assert "refused" in got.warnings[0] and "cover.jpg" in got.warnings[0]


def test_album_art_reaches_the_worker_as_bytes_not_as_a_path(tmp_path):
    from PIL import Image

    png = tmp_path / "driver-only" / "cover.png"
    png.parent.mkdir()
    Image.new("RGB", (64, 64), (220, 40, 90)).save(png)
    track = _track_with_art(str(png), frames=1)
    arts = read_arts(track.scenes)
    os.rename(png.parent, tmp_path / "gone")       # the worker's disk has no such file
    with_art = render_chunk(SPEC, track, 0, "jpeg", arts)
    plain = render_chunk(SPEC, _track_with_art(None, frames=1), 0, "jpeg")
    assert with_art.warnings == []                 # the engine read the bytes it was sent
    assert with_art.data != plain.data


def _cli(*argv, cwd, env_home) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(env_home), "XDG_DATA_HOME": "", "PYTHONPATH": str(ROOT),
           "HAMBAJUBA_CACHE": str(env_home / "cache")}
    return subprocess.run([sys.executable, "-m", "hambajuba_nodes.cli", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=600, env=env)


@pytest.mark.slow
@pytest.mark.parametrize("ray", [False, True], ids=["one-process", "ray"])
def test_render_with_unreadable_album_art_finishes_with_a_warning_even_quiet(tmp_path, ray):
    if ray:
        pytest.importorskip("ray")
    show = tmp_path / "show"
    show.mkdir()
    (show / "cover.jpg").write_bytes(b"this is not a jpeg")
    patch = album_patch(str(show))
    track = write_track(tmp_path / "song.wav", 1.0)
    out = tmp_path / "out"
    argv = ["render", track, "--patch", patch, "--frames-dir", str(out), "--fps", str(FPS),
            "--cpu-threads", "1", "-q"] + (["--ray", "--chunk-seconds", "0.5"] if ray else [])
    done = _cli(*argv, cwd=str(tmp_path), env_home=tmp_path / "home")
    assert done.returncode == 0, done.stderr[-3000:]
    said = [line for line in done.stderr.splitlines() if "refused" in line]
    assert said and "cover.jpg" in said[0], done.stderr[-3000:]
    assert len(os.listdir(out)) >= FPS                # every frame (noise) was written
    meta = json.loads((out / "render.json").read_text())
    assert any("refused" in w and "cover.jpg" in w for w in meta["warnings"])
    assert meta["analysis"].get("separator") and meta["analysis"].get("beat_tracker")

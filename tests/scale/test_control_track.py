"""The control track (phase one of a distributed render), without Ray."""
from __future__ import annotations

import numpy as np
import pytest
from render_paths import DEFAULT_PATCH

from graph_runtime.analysis.store import synthetic
from graph_runtime.graph.compiler import compile_patch
from graph_runtime.graph.frame import VEC_LEN, PromptBlend, Scene
from graph_runtime.graph.patch import load
from graph_runtime.scale.control_track import ControlTrack, record
from graph_runtime.scale.scene_codec import scene_from_data, scene_to_data
from hambajuba_nodes.registry import default_registry


def _plan():
    return compile_patch(load(DEFAULT_PATCH), default_registry(), analysis=synthetic(6.0), fps=20)


def test_record_keeps_the_frames_render_would_make():
    """Frames [first, first + n) after a pre-roll equal the same frames of a run from 0."""
    track = record(_plan(), first=30, count=40, fps=20)
    plan = _plan()
    for g in range(70):
        vec = plan.run(g / 20, 1 / 20).vec.copy()
        if g >= 30:
            np.testing.assert_array_equal(track.vecs[g - 30], vec)
    assert track.vecs.shape == (40, VEC_LEN) and track.scene_frames[0] == 0


def test_save_load_and_slices_carry_the_scene_in_force(tmp_path):
    track = record(_plan(), first=0, count=60, fps=20)
    track.scene_frames = np.array([0, 25, 50])  # three scenes, as if a node changed it twice
    track.scenes = [dict(track.scenes[0], seed_a=s) for s in (7, 8, 9)]
    path = tmp_path / "show.controls.npz"
    track.save(str(path))
    back = ControlTrack.load(str(path))
    np.testing.assert_array_equal(back.vecs, track.vecs)
    assert [s["seed_a"] for s in back.scenes] == [7, 8, 9] and back.fps == 20
    part = back.slice(30, 55)  # starts inside scene 1, crosses into scene 2 at local 20
    assert part.first == 30 and part.frames == 25
    assert [s["seed_a"] for s in part.scenes] == [8, 9]
    assert part.scene_frames.tolist() == [0, 20]
    assert part.scene_index(19) == 0 and part.scene_index(20) == 1


def test_scene_codec_round_trips_nested_prompt_blends():
    scene = Scene(version=4, prompt_a=PromptBlend("fire", PromptBlend("ice", "sea", 0.25), 0.5),
                  prompt_b="forest", seed_a=3, seed_b=11, latent_image="cover.png")
    scene.feature_ids[1, 2] = 4321
    back = scene_from_data(scene_to_data(scene))
    assert back.prompt_a == scene.prompt_a and back.prompt_b == "forest"
    assert back.feature_ids[1, 2] == 4321 and back.version == 4
    assert (back.seed_a, back.seed_b, back.latent_image) == (3, 11, "cover.png")


@pytest.mark.parametrize("bad", [
    {"feature_ids": [[0]]},
    {"prompt_a": {"a": "x"}},
    {"latent_image": 5},
])
def test_scene_codec_refuses_malformed_data(bad):
    data = dict(scene_to_data(Scene()), **bad)
    with pytest.raises(ValueError):
        scene_from_data(data)


def test_a_file_that_is_not_a_control_track_is_refused(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, vecs=np.zeros((2, 3), np.float32), meta=np.frombuffer(b'{"format": "x"}', np.uint8))
    with pytest.raises(ValueError, match="not a hambajuba control track"):
        ControlTrack.load(str(path))


def test_render_controls_only_writes_a_control_track_from_the_cli(tmp_path, monkeypatch):
    from hambajuba_nodes.cli import main

    monkeypatch.setenv("HAMBAJUBA_CACHE", str(tmp_path / "cache"))
    from render_paths import small_patch, write_track

    track = write_track(tmp_path / "song.wav", 2.0)
    out = tmp_path / "song.controls.npz"
    code = main(["render", track, "--patch", small_patch(tmp_path), "--controls-only",
                 "--out", str(out), "--fps", "10", "-q"])
    assert code == 0
    back = ControlTrack.load(str(out))
    assert back.frames == 20 and back.fps == 10
    assert np.isfinite(back.vecs).all() and np.ptp(back.vecs, axis=0).max() > 0  # the patch moves
    assert main(["render", track, "--controls-only", "--out", str(tmp_path / "x.mp4"), "-q"]) == 2


def test_ray_options_without_the_extra_say_how_to_install_it(monkeypatch):
    import sys

    from graph_runtime.render.request import RenderError
    from graph_runtime.scale import distributed

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    with pytest.raises(RenderError, match=r"pip install 'hambajuba\[ray\]'"):
        distributed._connect(None, None)

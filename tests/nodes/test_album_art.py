"""Album art: the image path is relative to the patch file's folder, the
example ships its cover, and a missing image is a warning on the node and
the plain noise destination. Tier 1: no torch."""
from __future__ import annotations

import os

from PIL import Image

from graph_runtime.graph.compiler import compile_patch
from graph_runtime.graph.frame import LATENT_DEV
from graph_runtime.graph.patch import Patch, load, save
from graph_runtime.show.commands import EditorModel
from graph_runtime.show.live_plan import LiveSession
from hambajuba_nodes.registry import default_registry

REG = default_registry()
PATCHES = os.path.join(os.path.dirname(__file__), "..", "..", "patches")


def cover_patch(image: str) -> Patch:
    p = Patch()
    p.add_node("dest.latent", {"image": image, "deviation": 0.4}, node_id="cover")
    return p


def test_a_relative_image_is_found_beside_the_patch_not_in_the_current_folder(tmp_path, monkeypatch):
    show = tmp_path / "show"
    show.mkdir()
    (show / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    save(cover_patch("cover.png"), show / "set.patch")
    monkeypatch.chdir(tmp_path)  # somewhere else: the old behaviour looked here
    plan = compile_patch(load(show / "set.patch"), REG, base_dir=str(show))
    assert plan.frame.scene.latent_image == str(show / "cover.png")
    assert plan.frame.vec[LATENT_DEV] == 0.4 and not plan.warnings


def test_the_window_session_resolves_against_the_patch_folder(tmp_path):
    (tmp_path / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    model = EditorModel(REG, cover_patch("cover.png"))
    live = LiveSession(REG)
    live.follow(model)
    live.update(model.patch)
    assert live.plan.frame.scene.latent_image is None  # not found from the current folder
    (problem,) = live.node_problems()["cover"]
    assert "not found" in problem.message and problem.warning
    live.set_base_dir(str(tmp_path))  # the window: the open patch's folder
    live.update(model.patch)
    assert live.plan.frame.scene.latent_image == str(tmp_path / "cover.png")
    assert not live.node_problems()


def test_a_missing_image_set_live_is_a_warning_and_noise_not_a_recompile(tmp_path):
    (tmp_path / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    model = EditorModel(REG, cover_patch("a.png"))
    live = LiveSession(REG)
    live.set_base_dir(str(tmp_path))
    live.follow(model)
    live.update(model.patch)
    compiles = live.compiles
    model.set_param("cover", "image", "gone.png")
    frame = live.advance(0.0, 0.0, playing=True)
    assert frame.scene.latent_image is None and frame.vec[LATENT_DEV] == 1.0
    assert "not found" in live.node_problems()["cover"][0].message
    model.set_param("cover", "image", "a.png")
    assert live.plan.frame.scene.latent_image == str(tmp_path / "a.png")
    assert not live.node_problems() and live.compiles == compiles


def test_the_example_album_patch_ships_its_cover():
    path = os.path.join(PATCHES, "album_art.patch")
    plan = compile_patch(load(path), REG, base_dir=os.path.dirname(os.path.abspath(path)))
    image = plan.frame.scene.latent_image
    assert image is not None and not plan.warnings
    assert os.path.getsize(image) < 64 * 1024  # small
    with Image.open(image) as im:
        assert min(im.size) >= 16 and im.format == "JPEG"

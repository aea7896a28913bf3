"""A headless render with an album image the engine cannot read still
renders every frame (the plain noise destination) and says why, instead of
aborting on the first frame; the image is found beside the patch file."""
from __future__ import annotations

import os

from render_helpers import StandInEngine

from graph_runtime.engine.errors import EngineError
from graph_runtime.graph.patch import Patch, save
from graph_runtime.render.loop import render
from graph_runtime.render.request import RenderRequest

FPS = 10


class ImageCheckingEngine(StandInEngine):
    """Like the real engine: reads the album image when a Scene is applied."""

    def __init__(self) -> None:
        super().__init__(32)
        self.seen, self.version, self.images = None, None, []

    def render(self, frame):
        scene = frame.scene
        if scene is not self.seen or scene.version != self.version:
            self.seen, self.version = scene, scene.version
            self.images.append(scene.latent_image)
            if scene.latent_image is not None:
                with open(scene.latent_image, "rb") as f:
                    if f.read(4) != b"\x89PNG":
                        raise EngineError(f"latent image {os.path.basename(scene.latent_image)}",
                                          "not a readable image")
        return super().render(frame)


def album_patch(folder, image: str) -> str:
    p = Patch(meta={"title": "album"})
    p.add_node("time.lfo", {"rate": 1.0}, node_id="lfo")
    p.add_node("dest.latent", {"image": image, "mode": "driven"}, node_id="cover")
    p.connect(("lfo", "out"), ("cover", "drive"))
    p.engine["size"] = 32
    path = os.path.join(folder, "album.patch")
    save(p, path)
    return path


def run(registry, track, patch, out, analysis, engine):
    said = []
    req = RenderRequest(track=track, patch=patch, frames_dir=str(out), fps=FPS, seconds=1.0)
    result = render(req, registry, engine=engine, analysis=analysis, progress=False, say=said.append)
    return result, said


def test_an_unreadable_cover_renders_noise_and_says_so(registry, track, analysis, tmp_path):
    show = tmp_path / "show"
    show.mkdir()
    (show / "cover.jpg").write_bytes(b"this is not a jpeg")
    engine = ImageCheckingEngine()
    result, said = run(registry, track, album_patch(str(show), "cover.jpg"), tmp_path / "f",
                       analysis, engine)
    assert result.frames == result.requested_frames == 10
    assert engine.images[:2] == [str(show / "cover.jpg"), None]  # found beside the patch; refused
    assert any("not a readable image" in line for line in said)


def test_a_relative_cover_is_read_from_the_patch_folder(registry, track, analysis, tmp_path,
                                                         monkeypatch):
    show = tmp_path / "show"
    show.mkdir()
    (show / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    monkeypatch.chdir(tmp_path)
    engine = ImageCheckingEngine()
    result, said = run(registry, track, album_patch(str(show), "cover.png"), tmp_path / "f",
                       analysis, engine)
    assert result.frames == 10 and engine.images == [str(show / "cover.png")]
    assert not any("refused" in line or "not found" in line for line in said)

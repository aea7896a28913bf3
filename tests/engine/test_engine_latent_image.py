"""Album art as the latent destination, and the bad files a patch can name."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from engine_testkit import frame_with, image_of, x0_of
from PIL import Image

from graph_runtime.engine.errors import EngineError
from graph_runtime.engine.latent_image import load_image
from graph_runtime.graph.frame import LATENT_DEV


@pytest.fixture(scope="module")
def album(tmp_path_factory):
    path = tmp_path_factory.mktemp("art") / "album.png"
    y, x = np.mgrid[0:96, 0:128]
    rgb = np.stack([x * 2, y * 2, (x + y) % 256], axis=-1).astype(np.uint8)
    Image.fromarray(rgb).save(path)
    return path


def test_image_is_cropped_resized_and_scaled(album):
    t = load_image(album, 512)
    assert t.shape == (1, 3, 512, 512) and t.dtype == torch.float32
    assert -1.0 <= float(t.min()) and float(t.max()) <= 1.0 and float(t.std()) > 0.1


def test_deviation_moves_between_album_and_noise(engine, album):
    frame = frame_with()
    frame.scene.latent_image = str(album)
    frame.vec[LATENT_DEV] = 0.0
    near_album = x0_of(engine, frame)
    latent = engine.generator.image_latent.clone()
    assert latent.abs().max() > 0 and engine.scene.has_image
    assert (near_album - latent).abs().mean() < 0.1          # sigma 0.03: the album, barely touched
    frame.vec[LATENT_DEV] = 1.0
    far = x0_of(engine, frame)
    assert (far - latent).abs().mean() > 5 * (near_album - latent).abs().mean()
    frame.scene.latent_image = None                          # back to no album: zero latent
    frame.scene.touch()
    engine.load(frame)
    assert not engine.scene.has_image and engine.generator.image_latent.abs().max() == 0


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("this is not an image"), "not a readable image"),
    (lambda p: Image.new("RGB", (1, 1)).save(p, format="PNG"), r"1x1 is too small"),
    (lambda p: Image.new("1", (8000, 8000)).save(p, format="PNG"), r"8000x8000 is too large"),
    (lambda p: p.write_bytes(_png_bytes()[:60]), "cannot read|not a readable image"),
])
def test_bad_album_art_is_a_clear_error(tmp_path, make, message):
    path = tmp_path / "art.png"
    make(path)
    with pytest.raises(EngineError, match=rf"latent image art.png: .*({message})"):
        load_image(path, 512)


def test_missing_album_art_keeps_the_previous_scene(engine, tmp_path):
    shown = image_of(engine, frame_with())
    frame = frame_with()
    frame.scene.latent_image = str(tmp_path / "gone.jpg")
    with pytest.raises(EngineError, match="latent image gone.jpg"):
        engine.render(frame)
    assert np.array_equal(engine.render(frame), shown)


def _png_bytes() -> bytes:
    import io
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()

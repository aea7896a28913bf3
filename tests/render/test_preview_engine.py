"""The render on the real engine (the untrained preview model, CPU) and the
shipped default patch. A few frames at 128 px: the preview is slow on a
shared CPU, and these tests are about exactness, not speed."""
from __future__ import annotations

import json

import pytest
from render_helpers import DEFAULT_PATCH, decoded_frames, frames_hash

pytestmark = pytest.mark.slow

FPS = 6
SIZE = 128


@pytest.fixture(scope="module")
def preview_engine():
    from graph_runtime.render.engines import create_engine

    return create_engine("preview", SIZE)


@pytest.fixture(scope="module")
def small_default_patch(tmp_path_factory):
    from graph_runtime.graph.patch import load, save

    patch = load(DEFAULT_PATCH)
    patch.engine["size"] = SIZE
    path = tmp_path_factory.mktemp("patch") / "default128.patch"
    save(patch, path)
    return str(path)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from hambajuba_nodes.content.demo_track import ensure_demo

    return ensure_demo(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def demo_analysis():
    """The real analysis would be better; the synthetic one keeps this test
    about the render (the demo test below uses the real pipeline)."""
    from graph_runtime.analysis.store import synthetic

    return synthetic(40.0, bpm=110.0)


def _render(engine, analysis, demo, patch, out, **kw):
    from graph_runtime.render.loop import render
    from graph_runtime.render.request import RenderRequest
    from hambajuba_nodes.registry import default_registry

    req = RenderRequest(track=str(demo.path), patch=patch, out=str(out), fps=FPS, **kw)
    return render(req, default_registry(), engine=engine, analysis=analysis, progress=False,
                  say=lambda _l: None)


def test_preview_render_twice_with_two_engines_gives_identical_frames(
        preview_engine, demo_analysis, demo, small_default_patch, tmp_path):
    from graph_runtime.render.engines import create_engine

    a = _render(preview_engine, demo_analysis, demo, small_default_patch, tmp_path / "a.mp4",
                start=20.0, seconds=0.5)
    b = _render(create_engine("preview", SIZE), demo_analysis, demo, small_default_patch,
                tmp_path / "b.mp4", start=20.0, seconds=0.5)
    fa, va, aa = decoded_frames(a.path)
    fb, _, _ = decoded_frames(b.path)
    assert len(fa) == len(fb) == 3
    assert frames_hash(fa) == frames_hash(fb)
    assert va["rate"] == FPS and va["duration"] == pytest.approx(0.5, abs=1e-6)
    assert (va["width"], va["height"]) == (SIZE, SIZE)
    assert aa["duration"] == pytest.approx(0.5, abs=1024 / 44100)
    meta = json.loads((tmp_path / "a.json").read_text())
    assert meta["model"] == "preview" and meta["preview"] is True
    assert meta["image_size"] == [SIZE, SIZE]


def test_preview_ctrl_c_keeps_what_was_made(preview_engine, demo_analysis, demo,
                                            small_default_patch, tmp_path):
    def stop(i, n):
        if i == 1:
            raise KeyboardInterrupt

    from graph_runtime.render.loop import render
    from graph_runtime.render.request import RenderRequest
    from hambajuba_nodes.registry import default_registry

    req = RenderRequest(track=str(demo.path), patch=small_default_patch,
                        out=str(tmp_path / "o.mp4"), fps=FPS, seconds=3.0)
    r = render(req, default_registry(), engine=preview_engine, analysis=demo_analysis,
               progress=False, on_frame=stop, say=lambda _l: None)
    assert r.interrupted and r.frames == 2
    frames, v, a = decoded_frames(r.path)
    assert len(frames) == 2 and a["duration"] == pytest.approx(2 / FPS, abs=1024 / 44100)

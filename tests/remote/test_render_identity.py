"""`render --engine HOST:PORT` with the real engine (the untrained preview
model, CPU) behind `serve`: raw frames equal the local render's, frame for frame."""
from __future__ import annotations

import numpy as np
import pytest

from graph_runtime.remote.server import Server

pytest.importorskip("torch")
FPS = 6
SIZE = 128


@pytest.fixture(scope="module")
def preview_server():
    from graph_runtime.render.engines import create_engine

    srv = Server(create_engine("preview", SIZE), port=0, say=lambda _l: None).start()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def patch_128(tmp_path_factory):
    """An LFO steering mid.0 and the noise walk: every frame differs."""
    from graph_runtime.graph.patch import Patch, save

    p = Patch(meta={"title": "remote test"})
    lfo = p.add_node("time.lfo", {"rate": 2.0, "shape": "sine"})
    sink = p.add_node("sae.block", {"block": "mid.0", "feature_id": 2960})
    p.add_node("noise.walk", {"distance": 0.5, "mode": "auto", "seed_a": 3, "seed_b": 4})
    p.add_node("dest.prompt", {"prompt_a": "a quiet harbour", "prompt_b": "a neon city"})
    p.connect((lfo.id, "out"), (sink.id, "strength"))
    p.engine["size"] = SIZE
    p.engine["model"] = "preview"
    path = tmp_path_factory.mktemp("patch") / "lfo128.patch"
    save(p, path)
    return str(path)


def _tone(path, seconds: float = 3.0) -> str:
    import soundfile as sf

    t = np.arange(int(seconds * 44100)) / 44100
    x = 0.3 * np.sin(2 * np.pi * 110 * t) * (1 + np.sin(2 * np.pi * 2 * t))
    sf.write(str(path), np.stack([x, x], axis=1), 44100, subtype="PCM_16")
    return str(path)


def _render(tmp_path, name, patch, **req_kw) -> list[np.ndarray]:
    from graph_runtime.analysis.store import synthetic
    from graph_runtime.render.loop import render
    from graph_runtime.render.request import RenderRequest
    from hambajuba_nodes.registry import default_registry

    frames: list[np.ndarray] = []
    req = RenderRequest(track=_tone(tmp_path / "tone.wav"), patch=patch,
                        frames_dir=str(tmp_path / name), fps=FPS, start=1.0, seconds=0.5, **req_kw)
    render(req, default_registry(), analysis=synthetic(3.0, bpm=120.0), progress=False,
           on_image=lambda i, rgba: frames.append(rgba.copy()), say=lambda _l: None)
    return frames


def test_a_render_through_serve_equals_the_local_render(preview_server, patch_128, tmp_path):
    local = _render(tmp_path, "local", patch_128, model="preview")
    remote = _render(tmp_path, "remote", patch_128,
                     engine_address=f"127.0.0.1:{preview_server.port}")
    assert len(local) == len(remote) == 3
    assert not np.array_equal(local[0], local[-1])        # the patch moves: a real comparison
    for i, (a, b) in enumerate(zip(local, remote)):
        assert np.array_equal(a, b), f"frame {i} differs"

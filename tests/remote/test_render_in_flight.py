"""`render --engine --in-flight N`: the plan runs N frames ahead of the images,
and every frame still comes back exactly once, in order, equal to the local
render's; a link cut mid-render re-sends what was in flight; a scene the
server refuses renders noise with a warning. JPEG is opt-in."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from remote_helpers import ROOT

from graph_runtime.engine.errors import EngineError
from graph_runtime.engine.null_engine import NullEngine
from graph_runtime.graph.frame import FrameParams
from graph_runtime.remote.proxy import DelayProxy
from graph_runtime.remote.server import Server

FPS = 20
SIZE = 128


class EchoEngine(NullEngine):
    """Its image carries the frame's whole vector (so order and content are checkable);
    a scene naming album art it cannot read is refused, as the real engine does."""

    def __init__(self) -> None:
        super().__init__(SIZE, np.zeros((SIZE, SIZE, 4), np.uint8), preview=True,
                         description="echo engine (tests)")
        self.scene = None

    def render(self, frame: FrameParams) -> np.ndarray:
        if frame.scene is not self.scene:
            image = frame.scene.latent_image
            if image is not None and not open(image, "rb").read(4) == b"\x89PNG":
                raise EngineError(f"latent image {os.path.basename(image)}",
                                  "not a readable image")
            self.scene = frame.scene
        image = super().render(frame)
        image.reshape(-1)[:frame.vec.nbytes] = frame.vec.view(np.uint8)
        return image


@pytest.fixture()
def echo_server():
    srv = Server(EchoEngine(), port=0, say=lambda _l: None).start()
    proxy = DelayProxy("127.0.0.1", srv.port, one_way_s=0.005).start()   # a 10 ms round trip
    yield srv, proxy
    proxy.close()
    srv.close()


def _patch(tmp_path, image: str | None = None) -> str:
    from graph_runtime.graph.patch import Patch, save

    p = Patch(meta={"title": "in flight"})
    lfo = p.add_node("time.lfo", {"rate": 3.0, "shape": "sine"})
    sink = p.add_node("sae.block", {"block": "mid.0", "feature_id": 2960})
    p.connect((lfo.id, "out"), (sink.id, "strength"))
    if image is not None:
        cover = p.add_node("dest.latent", {"image": image, "mode": "driven"})
        p.connect((lfo.id, "out"), (cover.id, "drive"))
    p.engine["size"] = SIZE
    path = tmp_path / "p.patch"
    save(p, str(path))
    return str(path)


def _tone(path) -> str:
    import soundfile as sf

    t = np.arange(3 * 22050) / 22050
    x = 0.3 * np.sin(2 * np.pi * 110 * t)
    sf.write(str(path), np.stack([x, x], axis=1), 22050)
    return str(path)


def _render(tmp_path, name, patch, on_frame=None, **kw):
    from graph_runtime.analysis.store import synthetic
    from graph_runtime.render.loop import RenderRequest, render
    from hambajuba_nodes.registry import default_registry

    frames, said = [], []
    req = RenderRequest(track=_tone(tmp_path / "tone.wav"), patch=patch,
                        frames_dir=str(tmp_path / name), fps=FPS, seconds=2.0, **kw)
    engine = EchoEngine() if "engine_address" not in kw else None
    result = render(req, default_registry(), engine=engine, analysis=synthetic(3.0),
                    progress=False, on_image=lambda i, rgba: frames.append((i, rgba.copy())),
                    on_frame=on_frame, say=said.append)
    return frames, result, said


def test_frames_in_flight_come_back_in_order_and_equal_the_local_render(echo_server, tmp_path):
    srv, proxy = echo_server
    local, _, _ = _render(tmp_path, "local", _patch(tmp_path))
    remote, result, _ = _render(tmp_path, "remote", _patch(tmp_path),
                                engine_address=f"127.0.0.1:{proxy.port}", engine_in_flight=6)
    assert [i for i, _ in remote] == list(range(2 * FPS)) and result.frames == 2 * FPS
    assert not np.array_equal(local[0][1], local[-1][1])        # the patch moves
    for (i, a), (_, b) in zip(local, remote):
        assert np.array_equal(a, b), f"frame {i} differs"


def test_a_link_cut_mid_render_resends_what_was_in_flight(echo_server, tmp_path):
    srv, proxy = echo_server
    local, _, _ = _render(tmp_path, "local", _patch(tmp_path))

    def cut(i, n):
        if i == 10:
            for c in list(proxy._conns):   # the network drops every connection at once
                try:
                    c.shutdown(2)
                except OSError:
                    pass

    remote, result, _ = _render(tmp_path, "remote", _patch(tmp_path), on_frame=cut,
                                engine_address=f"127.0.0.1:{proxy.port}", engine_in_flight=6)
    assert [i for i, _ in remote] == list(range(2 * FPS))
    for (i, a), (_, b) in zip(local, remote):
        assert np.array_equal(a, b), f"frame {i} differs"


def test_a_scene_the_server_refuses_renders_with_a_warning(echo_server, tmp_path):
    srv, proxy = echo_server
    (tmp_path / "cover.jpg").write_bytes(b"not an image")
    frames, result, said = _render(tmp_path, "remote", _patch(tmp_path, "cover.jpg"),
                                   engine_address=f"127.0.0.1:{proxy.port}", engine_in_flight=6)
    assert result.frames == 2 * FPS
    assert any("refused" in w and "cover.jpg" in w for w in result.warnings), said


def test_the_cli_takes_in_flight_and_an_opt_in_jpeg_codec(tmp_path):
    out = subprocess.run([sys.executable, "-m", "hambajuba_nodes.cli", "render",
                          _tone(tmp_path / "t.wav"), "--engine", "127.0.0.1:9", "--in-flight",
                          "99"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "--in-flight 99: use 1..32" in out.stderr
    from hambajuba_nodes.cli import build_parser

    args = build_parser().parse_args(["render", "t.wav", "--engine", "h:1"])
    assert (args.in_flight, args.engine_codec) == (4, "raw")      # lossless by default
    args = build_parser().parse_args(["render", "t.wav", "--engine", "h:1", "--engine-codec",
                                      "jpeg", "--in-flight", "8"])
    assert (args.in_flight, args.engine_codec) == (8, "jpeg")

"""`serve`: who gets in, who is refused, and what a hostile client cannot do."""
from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys

import msgpack
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from remote_helpers import ROOT, TOKEN, wait_until

from graph_runtime.engine.errors import EngineError
from graph_runtime.graph.frame import FrameParams
from graph_runtime.remote import protocol
from graph_runtime.remote.client import RemoteEngine
from graph_runtime.remote.connect import RemoteError, RemoteRefused
from graph_runtime.remote.server import ServeError, Server


def _good_render(srv, token=None) -> None:
    """A well-behaved client still gets the server's exact image."""
    eng = RemoteEngine(f"127.0.0.1:{srv.port}", token=token, codec="raw")
    try:
        assert np.array_equal(eng.render(FrameParams()), srv.engine._image)
    finally:
        eng.close()
    assert wait_until(lambda: srv.client is None, 5.0)


def test_the_right_token_gets_images_and_a_wrong_one_is_refused(token_server):
    _good_render(token_server, TOKEN)
    with pytest.raises(RemoteRefused, match="wrong token"):
        RemoteEngine(f"127.0.0.1:{token_server.port}", token=b"not the token at all, sorry")
    with pytest.raises(RemoteRefused, match="needs a token"):
        RemoteEngine(f"127.0.0.1:{token_server.port}")
    _good_render(token_server, TOKEN)            # the refusals did not break it


def test_a_non_loopback_bind_without_a_token_is_refused():
    with pytest.raises(ServeError, match="without a token"):
        Server(object(), host="0.0.0.0", port=0)
    with pytest.raises(ServeError, match="without a token"):
        Server(object(), host="192.168.1.20", port=0)


def test_the_cli_refuses_a_public_bind_without_a_token(tmp_path):
    out = subprocess.run([sys.executable, "-m", "hambajuba_nodes.cli", "serve", "--model", "null",
                          "--host", "0.0.0.0", "--port", "0"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2
    assert "refusing to listen on 0.0.0.0 without a token" in out.stderr
    short = tmp_path / "token"
    short.write_text("abc\n")
    out = subprocess.run([sys.executable, "-m", "hambajuba_nodes.cli", "serve", "--model", "null",
                          "--token-file", str(short)], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2 and "at least 16 characters" in out.stderr


def test_a_second_client_is_refused_and_the_first_leaving_frees_the_server(null_server):
    first = RemoteEngine(f"127.0.0.1:{null_server.port}")
    with pytest.raises(RemoteRefused, match="server busy: another client"):
        RemoteEngine(f"127.0.0.1:{null_server.port}")
    assert first.render(FrameParams()).shape == (128, 128, 4)   # the first is unaffected
    first.close()
    assert wait_until(lambda: null_server.client is None, 5.0)
    _good_render(null_server)


def test_nothing_listening_is_a_clear_error():
    with pytest.raises(RemoteError, match="is `hambajuba serve` running there"):
        RemoteEngine("127.0.0.1:1")


def test_album_art_arrives_as_bytes_into_the_servers_own_folder(null_server):
    art = b"\x89PNG not really but bytes"
    with socket.create_connection(("127.0.0.1", null_server.port), timeout=5) as s:
        _handshake(s)
        scene = {"t": "scene", "version": 1, "feature_ids": b"\xff" * protocol.IDS_BYTES,
                 "prompt_a": "", "prompt_b": "", "seed_a": 0, "seed_b": 1, "art": art}
        protocol.send(s, scene)
        protocol.send(s, {"t": "frame", "id": 0, "at": 0.0, "vec": FrameParams().vec.tobytes()})
        reply = protocol.Reader(s, protocol.MAX_SERVER).read()
    assert reply["t"] == "image" and reply["id"] == 0
    files = _art_files(null_server)
    assert len(files) == 1 and open(files[0], "rb").read() == art


def _art_files(srv) -> list[str]:
    return [os.path.join(d, f) for d, _, names in os.walk(srv.art_dir) for f in names]


def _handshake(s: socket.socket, token: bytes | None = None) -> None:
    r = protocol.Reader(s, protocol.MAX_SERVER)
    hello = r.read()
    protocol.send(s, {"t": "hello", "v": protocol.VERSION, "role": "client"})
    mac = protocol.auth_mac(token, hello["nonce"]) if token else b""
    protocol.send(s, {"t": "auth", "mac": mac})
    assert r.read()["t"] == "auth"


def _frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


_good_frame = msgpack.packb({"t": "frame", "id": 1, "at": 0.0,
                             "vec": b"\0" * protocol.VEC_BYTES})
_junk = st.one_of(
    st.binary(max_size=300),                                               # random bytes
    st.binary(max_size=200).map(_frame),                                   # framed junk
    st.integers(protocol.MAX_CLIENT + 1, 2**32 - 1).map(lambda n: struct.pack(">I", n)),  # oversize
    st.integers(1, len(_good_frame) - 1).map(lambda n: _frame(_good_frame)[:n + 4]),  # truncated
    st.dictionaries(st.text(max_size=8),
                    st.one_of(st.integers(-2**63, 2**64 - 1), st.text(max_size=20),
                              st.binary(max_size=20), st.none()),
                    max_size=5).map(lambda d: _frame(msgpack.packb(d))),   # random maps
    st.sampled_from(["hello", "auth", "scene", "frame", "image", "stats", "bye", "x"]).map(
        lambda t: _frame(msgpack.packb({"t": t, "id": [1], "vec": "no"}))),  # wrong fields
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=_junk, after_auth=st.booleans())
def test_hostile_bytes_close_only_that_connection(token_server, junk, after_auth):
    with socket.create_connection(("127.0.0.1", token_server.port), timeout=10) as s:
        if after_auth:
            _handshake(s, TOKEN)
        try:
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            while s.recv(1 << 16):      # the server answers (bye or image) and closes
                pass
        except (ConnectionResetError, BrokenPipeError, OSError):  # closed on us first: fine
            pass
    assert wait_until(lambda: token_server.client is None, 5.0)
    _good_render(token_server, TOKEN)


def test_the_client_sends_album_art_once_as_bytes_and_reports_a_bad_path(null_server, tmp_path):
    from PIL import Image

    png = tmp_path / "cover.png"
    Image.new("RGB", (64, 64), (200, 30, 60)).save(png)
    eng = RemoteEngine(f"127.0.0.1:{null_server.port}", codec="raw")
    try:
        frame = FrameParams()
        frame.scene.latent_image = str(png)
        frame.scene.touch()
        eng.render(frame)
        frame.scene.seed_a = 9
        frame.scene.touch()                     # another scene, the same art: named, not re-sent
        eng.render(frame)
        files = _art_files(null_server)
        assert len(files) == 1 and os.path.basename(files[0]) == "cover.png"   # named for messages
        assert open(files[0], "rb").read() == png.read_bytes()
        frame.scene.latent_image = str(tmp_path / "missing.png")
        frame.scene.touch()
        with pytest.raises(EngineError, match="missing.png: cannot read it"):
            eng.render(frame)
        assert eng.render(frame).shape == (128, 128, 4)   # reported once; the show goes on
    finally:
        eng.close()


def test_serve_says_it_is_loading_before_it_listens():
    """A first start can be silent for a minute (torch, weights, compile): say so."""
    from remote_helpers import free_port, spawn_serve

    server = spawn_serve(free_port(), model="preview")
    try:
        said = "".join(server.said)
        assert said.startswith("loading the preview engine (128 px")
        assert "engine ready in" in said and said.index("engine ready in") < said.index("listening on")
    finally:
        server.terminate()
        server.wait(10)

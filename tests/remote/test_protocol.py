"""The wire format: framing limits, message checks, scenes field by field, HMAC."""
from __future__ import annotations

import socket
import struct

import msgpack
import numpy as np
import pytest

from graph_runtime.graph.frame import BLOCKS, SLOTS, VEC_LEN, PromptBlend, Scene
from graph_runtime.remote import protocol
from graph_runtime.remote.protocol import ProtocolError, Reader


def _pair():
    a, b = socket.socketpair()
    b.settimeout(2.0)
    return a, b


def test_a_message_round_trips_through_the_reader():
    a, b = _pair()
    with a, b:
        protocol.send(a, {"t": "frame", "id": 7, "at": 1.5, "vec": b"\0" * protocol.VEC_BYTES})
        msg = Reader(b, protocol.MAX_CLIENT).read()
    assert msg["id"] == 7 and msg["at"] == 1.5 and len(msg["vec"]) == protocol.VEC_BYTES


def test_an_oversize_length_is_refused_before_the_body_is_read():
    a, b = _pair()
    with a, b:
        a.sendall(struct.pack(">I", protocol.MAX_PREAUTH + 1))  # header only: no body follows
        with pytest.raises(ProtocolError, match="over the limit"):
            Reader(b, protocol.MAX_PREAUTH).read()       # would time out if it waited for a body


def test_the_reader_buffer_never_grows_past_its_limit():
    a, b = _pair()
    with a, b:
        a.sendall(struct.pack(">I", 0xFFFFFFFF))
        r = Reader(b, protocol.MAX_CLIENT)
        with pytest.raises(ProtocolError):
            r.read()
        assert len(r._buf) <= 1 << 16


@pytest.mark.parametrize("body, why", [
    (b"\xc1", "malformed"),                                   # never-used msgpack byte
    (msgpack.packb([1, 2, 3]), "a message is a map"),
    (msgpack.packb({"t": "launch"}), "unknown message type"),
    (msgpack.packb({"t": "frame", "id": 1, "at": 0.0}), "missing vec"),
    (msgpack.packb({"t": "frame", "id": "1", "at": 0.0, "vec": b""}), "frame.id"),
    (msgpack.packb({"t": "frame", "id": 1, "at": float("nan"), "vec": b""}), "frame.at"),
    (msgpack.packb({"t": "scene", "version": 1, "feature_ids": b"", "prompt_a": "",
                    "prompt_b": "", "seed_a": 0, "seed_b": 1, "latent_image": "/etc/passwd"}),
     "unknown field 'latent_image'"),
    (msgpack.packb({"t": "bye", "reason": "x" * 5000}), "bye.reason"),
])
def test_bad_messages_raise_protocol_error(body, why):
    a, b = _pair()
    with a, b:
        a.sendall(struct.pack(">I", len(body)) + body)
        with pytest.raises(ProtocolError, match=why):
            Reader(b, protocol.MAX_CLIENT).read()


def test_a_scene_travels_field_by_field():
    ids = np.full((len(BLOCKS), SLOTS), -1, dtype=np.int32)
    ids[1, 2] = 4321
    blend = PromptBlend(PromptBlend("a red fox", "snow", 0.25), "a city at night", 0.6)
    scene = Scene(version=9, feature_ids=ids, prompt_a=blend, prompt_b="rain", seed_a=5,
                  seed_b=2**40, latent_image="/home/me/art.png")
    wire = protocol.check_message(msgpack.unpackb(msgpack.packb(
        protocol.scene_to_wire(scene, b"JPEGBYTES")), raw=False))
    back, art = protocol.scene_from_wire(wire)
    assert back.version == 9 and back.prompt_a == blend and back.prompt_b == "rain"
    assert (back.seed_a, back.seed_b) == (5, 2**40)
    assert np.array_equal(back.feature_ids, ids) and back.feature_ids.dtype == np.int32
    assert art == b"JPEGBYTES"
    assert back.latent_image is None            # the path never travels


def test_prompt_nesting_and_length_are_bounded():
    deep = "x"
    for _ in range(protocol.MAX_PROMPT_DEPTH + 1):
        deep = {"a": deep, "b": "y", "pos": 0.5}
    with pytest.raises(ProtocolError, match="nested"):
        protocol.prompt_from_wire(deep)
    with pytest.raises(ProtocolError, match="characters"):
        protocol.prompt_from_wire("x" * (protocol.MAX_PROMPT_CHARS + 1))


def test_frame_vectors_must_be_exactly_the_packed_length():
    assert protocol.check_vec(b"\0" * (VEC_LEN * 4)).shape == (VEC_LEN,)
    with pytest.raises(ProtocolError, match="expected"):
        protocol.check_vec(b"\0" * (VEC_LEN * 4 - 4))


def test_the_hmac_proves_the_token_without_sending_it():
    nonce = b"n" * protocol.NONCE_BYTES
    mac = protocol.auth_mac(b"s3cret-token-123456", nonce)
    assert b"s3cret" not in mac and len(mac) == 32
    assert protocol.auth_ok(b"s3cret-token-123456", nonce, mac)
    assert not protocol.auth_ok(b"other-token-1234567", nonce, mac)
    assert not protocol.auth_ok(b"s3cret-token-123456", b"m" * protocol.NONCE_BYTES, mac)
    assert not protocol.auth_ok(b"s3cret-token-123456", nonce, None)


@pytest.mark.parametrize("text, want", [
    ("127.0.0.1:7860", ("127.0.0.1", 7860)), ("gpu-box", ("gpu-box", 7860)),
    ("[::1]:9000", ("::1", 9000)), ("::1", ("::1", 7860)),
])
def test_engine_addresses_parse(text, want):
    from graph_runtime.remote.connect import parse_address

    assert parse_address(text) == want


@pytest.mark.parametrize("text, why", [
    ("nonsense:port:x", "give HOST:PORT"), ("box:0", "1..65535"), ("box:http", "1..65535"),
    (":7860", "give HOST:PORT"), ("my box:7860", "give HOST:PORT"),
])
def test_bad_engine_addresses_say_what_to_give(text, why):
    from graph_runtime.remote.connect import RemoteError, parse_address

    with pytest.raises(RemoteError, match=why):
        parse_address(text)

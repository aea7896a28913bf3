"""The remote engine's wire format: length-prefixed msgpack over TCP.

One message on the wire:

    [u32 big-endian body length][body: one msgpack map, {"t": type, ...}]

The reader checks the length against the limit for that side and stage
(MAX_PREAUTH before authentication, MAX_CLIENT / MAX_SERVER after) BEFORE it
allocates or reads the body, then decodes with msgpack's own per-field
limits, then checks every field of the type (`check_message`). Anything else
(bad msgpack, unknown type, wrong field type, extra large field) raises
ProtocolError, and the side that reads it closes that connection.

Why TCP and not WebSocket: both ends are ours, the frame stream is
point-to-point and latency-bound; a WebSocket adds an HTTP upgrade, per-frame
masking and a dependency for nothing a browser needs here.

Every message and field is written down in docs/protocol.md. Scenes are
serialised field by field (`scene_to_wire` / `scene_from_wire`), never
pickled. This module imports neither torch nor dearpygui.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import socket
import struct

import msgpack
import numpy as np

from graph_runtime.graph.frame import BLOCKS, SLOTS, VEC_LEN, PromptBlend, Scene

VERSION = 1
DEFAULT_PORT = 7860
HEADER = struct.Struct(">I")
VEC_BYTES = VEC_LEN * 4                      # float32 little-endian
IDS_BYTES = len(BLOCKS) * SLOTS * 4          # int32 little-endian
MAX_ART_BYTES = 16 << 20                     # album art, encoded (JPEG/PNG/...)
MAX_SIDE = 1024                              # largest image the engine makes
MAX_PREAUTH = 4 << 10                        # hello / auth: a few hundred bytes really
MAX_CLIENT = MAX_ART_BYTES + (64 << 10)      # a scene with album art is the largest
MAX_SERVER = MAX_SIDE * MAX_SIDE * 4 + (256 << 10)  # a raw RGBA image, or the means table
MAX_PROMPT_CHARS = 4096
MAX_PROMPT_DEPTH = 32                        # nested PromptBlends (each change nests one)
MAX_TEXT = 1024                              # reasons, descriptions
NONCE_BYTES = 32
AUTH_CONTEXT = b"hambajuba-remote-auth-v1\x00"
CODECS = ("jpeg", "raw")
INT64 = (-(1 << 63), (1 << 63) - 1)


class ProtocolError(Exception):
    """A malformed, oversize or unexpected message: close the connection."""


class Closed(ConnectionError):
    """The peer closed the connection (cleanly or not)."""


# -- framing -----------------------------------------------------------------------------

def pack(msg: dict) -> bytes:
    body = msgpack.packb(msg, use_bin_type=True)
    return HEADER.pack(len(body)) + body


def send(sock: socket.socket, msg: dict) -> None:
    """One message; header and body go out together without joining them (no copy)."""
    body = msgpack.packb(msg, use_bin_type=True)
    header = HEADER.pack(len(body))
    if not hasattr(sock, "sendmsg"):            # Windows
        sock.sendall(header + body)
        return
    sent = sock.sendmsg([header, body])
    if sent < len(header):
        sock.sendall(header[sent:])
        sock.sendall(body)
    elif sent < len(header) + len(body):
        sock.sendall(memoryview(body)[sent - len(header):])


class Reader:
    """Reads whole messages from one socket into one preallocated buffer.

    `limit` may be raised after authentication (`set_limit`); the buffer
    grows once to it, never per message."""

    def __init__(self, sock: socket.socket, limit: int) -> None:
        self.sock = sock
        self.limit = limit
        self._buf = bytearray(min(limit, 1 << 16))
        self._view = memoryview(self._buf)

    def set_limit(self, limit: int) -> None:
        self.limit = limit

    def read(self) -> dict:
        """The next message, checked; Closed at the end, ProtocolError if bad."""
        self._fill(self._view[:HEADER.size])
        (length,) = HEADER.unpack_from(self._buf, 0)
        if length > self.limit:
            raise ProtocolError(f"message of {length} bytes is over the limit of {self.limit}")
        if length > len(self._buf):
            self._buf = bytearray(max(length, min(self.limit, 2 * len(self._buf))))
            self._view = memoryview(self._buf)
        body = self._view[:length]
        self._fill(body)
        return check_message(decode(body, self.limit))

    def _fill(self, view: memoryview) -> None:
        got, want = 0, len(view)
        while got < want:
            n = self.sock.recv_into(view[got:], want - got)
            if n == 0:
                raise Closed("connection closed by the other side")
            got += n


def decode(body, limit: int) -> dict:
    try:
        msg = msgpack.unpackb(body, raw=False, strict_map_key=True, use_list=True,
                              max_bin_len=limit, max_str_len=min(limit, 1 << 16),
                              max_array_len=64, max_map_len=64, max_ext_len=0)
    except Exception as e:  # msgpack raises several types (ValueError, ExtraData, ...)
        raise ProtocolError(f"malformed msgpack ({type(e).__name__})") from None
    if not isinstance(msg, dict):
        raise ProtocolError(f"a message is a map, got {type(msg).__name__}")
    return msg


# -- fields ----------------------------------------------------------------------------------

_KINDS = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool) and INT64[0] <= v <= INT64[1],
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
    "bool": lambda v: isinstance(v, bool),
    "str": lambda v: isinstance(v, str) and len(v) <= MAX_TEXT,
    "bin": lambda v: isinstance(v, bytes),
    "bin?": lambda v: v is None or isinstance(v, bytes),
    "strs": lambda v: isinstance(v, list) and len(v) <= 16 and all(
        isinstance(s, str) and len(s) <= 64 for s in v),
    "prompt": lambda v: True,   # checked by prompt_from_wire
}

# type -> {field: kind}; fields not listed are refused, listed ones are required
# unless they are in OPTIONAL
SCHEMA: dict[str, dict[str, str]] = {
    "hello": {"v": "int", "role": "str", "model": "str", "size": "int", "preview": "bool",
              "description": "str", "caps": "strs", "auth": "bool", "nonce": "bin"},
    "auth": {"mac": "bin", "ok": "bool", "reason": "str", "means": "bin", "n_features": "int",
             "codec": "str", "quality": "int"},
    "scene": {"version": "int", "feature_ids": "bin", "prompt_a": "prompt", "prompt_b": "prompt",
              "seed_a": "int", "seed_b": "int", "art": "bin?", "art_id": "str", "art_name": "str"},
    "frame": {"id": "int", "at": "float", "vec": "bin", "codec": "str", "quality": "int"},
    "image": {"id": "int", "at": "float", "codec": "str", "w": "int", "h": "int", "data": "bin",
              "render_ms": "float", "server_ms": "float", "error": "str"},
    "stats": {"frames": "int", "render_ms": "float", "encode_ms": "float", "errors": "int",
              "scenes": "int", "rejected_scenes": "int"},
    "bye": {"reason": "str"},
    "labels": {"block": "str", "data": "bin"},
    "neighbours": {"block": "str", "id": "int", "k": "int", "ids": "bin", "scores": "bin"},
}
OPTIONAL: dict[str, set[str]] = {
    "hello": {"v", "role", "model", "size", "preview", "description", "caps", "auth", "nonce"},
    "auth": {"mac", "ok", "reason", "means", "n_features", "codec", "quality"},
    "scene": {"art", "art_id", "art_name"},
    "frame": {"codec", "quality"},
    "image": {"at", "codec", "w", "h", "data", "render_ms", "server_ms", "error"},
    "stats": {"frames", "render_ms", "encode_ms", "errors", "scenes", "rejected_scenes"},
    "bye": {"reason"},
    "labels": {"data"},                      # the request names a block; the answer has data
    "neighbours": {"k", "ids", "scores"},
}


def check_message(msg: dict) -> dict:
    kind = msg.get("t")
    schema = SCHEMA.get(kind) if isinstance(kind, str) else None
    if schema is None:
        raise ProtocolError(f"unknown message type {str(kind)[:40]!r}")
    for key, value in msg.items():
        if key == "t":
            continue
        want = schema.get(key)
        if want is None:
            raise ProtocolError(f"{kind}: unknown field {str(key)[:40]!r}")
        if not _KINDS[want](value):
            raise ProtocolError(f"{kind}.{key}: expected {want}, got {type(value).__name__}")
    missing = set(schema) - OPTIONAL[kind] - set(msg)
    if missing:
        raise ProtocolError(f"{kind}: missing {', '.join(sorted(missing))}")
    return msg


# -- authentication ---------------------------------------------------------------------------

def auth_mac(token: bytes, nonce: bytes) -> bytes:
    """HMAC-SHA256 of the server's nonce under the shared token (the token never travels)."""
    return hmac.new(token, AUTH_CONTEXT + nonce, hashlib.sha256).digest()


def auth_ok(token: bytes | None, nonce: bytes, mac: bytes | None) -> bool:
    if token is None:
        return True
    return mac is not None and hmac.compare_digest(auth_mac(token, nonce), mac)


# -- scenes -------------------------------------------------------------------------------------

def prompt_to_wire(p, depth: int = 0):
    if isinstance(p, str):
        return p
    if isinstance(p, PromptBlend) and depth < MAX_PROMPT_DEPTH:
        return {"a": prompt_to_wire(p.a, depth + 1), "b": prompt_to_wire(p.b, depth + 1),
                "pos": float(p.pos)}
    raise ProtocolError(f"a prompt is text or a PromptBlend at most {MAX_PROMPT_DEPTH} deep, "
                        f"got {type(p).__name__}")


def prompt_from_wire(v, depth: int = 0):
    if isinstance(v, str):
        if len(v) > MAX_PROMPT_CHARS:
            raise ProtocolError(f"prompt of {len(v)} characters (at most {MAX_PROMPT_CHARS})")
        return v
    if isinstance(v, dict) and set(v) == {"a", "b", "pos"} and depth < MAX_PROMPT_DEPTH \
            and _KINDS["float"](v["pos"]):
        return PromptBlend(prompt_from_wire(v["a"], depth + 1), prompt_from_wire(v["b"], depth + 1),
                           float(v["pos"]))
    raise ProtocolError("scene prompt: text or {a, b, pos} nested at most "
                        f"{MAX_PROMPT_DEPTH} deep")


def scene_to_wire(scene: Scene, art: bytes | None) -> dict:
    ids = np.ascontiguousarray(scene.feature_ids, dtype="<i4")
    if ids.shape != (len(BLOCKS), SLOTS):
        raise ProtocolError(f"scene.feature_ids has shape {ids.shape}, expected "
                            f"({len(BLOCKS)}, {SLOTS})")
    return {"t": "scene", "version": int(scene.version), "feature_ids": ids.tobytes(),
            "prompt_a": prompt_to_wire(scene.prompt_a), "prompt_b": prompt_to_wire(scene.prompt_b),
            "seed_a": int(scene.seed_a), "seed_b": int(scene.seed_b), "art": art}


def scene_from_wire(msg: dict) -> tuple[Scene, bytes | None]:
    """(Scene without its album-art path, album-art bytes or None)."""
    if len(msg["feature_ids"]) != IDS_BYTES:
        raise ProtocolError(f"scene.feature_ids: {len(msg['feature_ids'])} bytes, "
                            f"expected {IDS_BYTES}")
    art = msg.get("art")
    if art is not None and len(art) > MAX_ART_BYTES:
        raise ProtocolError(f"scene.art: {len(art)} bytes, at most {MAX_ART_BYTES}")
    ids = np.frombuffer(msg["feature_ids"], dtype="<i4").reshape(len(BLOCKS), SLOTS)
    scene = Scene(version=msg["version"], feature_ids=ids.astype(np.int32),
                  prompt_a=prompt_from_wire(msg["prompt_a"]),
                  prompt_b=prompt_from_wire(msg["prompt_b"]),
                  seed_a=msg["seed_a"], seed_b=msg["seed_b"], latent_image=None)
    return scene, art


def check_vec(vec: bytes) -> np.ndarray:
    if len(vec) != VEC_BYTES:
        raise ProtocolError(f"frame.vec: {len(vec)} bytes, expected {VEC_BYTES} "
                            f"({VEC_LEN} float32)")
    return np.frombuffer(vec, dtype="<f4")


def check_image_shape(w: int, h: int) -> None:
    if not (1 <= w <= MAX_SIDE and 1 <= h <= MAX_SIDE):
        raise ProtocolError(f"image {w}x{h} is outside 1..{MAX_SIDE} a side")

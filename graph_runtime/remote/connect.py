"""The client's side of the handshake: connect, hello, auth, means table.

    link = connect("127.0.0.1", 7860, token=None, codec="jpeg", quality=85)
    link.sock, link.reader, link.hello, link.means  # (len(BLOCKS), n_features) float32

Errors: RemoteRefused (wrong token, server busy, other protocol version:
retrying the same thing will not help soon) and OSError / ProtocolError /
Closed (the network or the server: retry with backoff).
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import numpy as np

from graph_runtime.engine.errors import EngineError
from graph_runtime.graph.frame import BLOCKS

from . import protocol
from .protocol import Closed, ProtocolError

HANDSHAKE_TIMEOUT_S = 5.0


class RemoteError(EngineError):
    """A remote engine failure the user can read (one line, says what to do). An
    EngineError, so the window and render report it as they report the engine's."""

    def __init__(self, message: str) -> None:
        super().__init__("remote engine", message)


class RemoteRefused(RemoteError):
    """The server said no: wrong token, busy with another client, other version."""


@dataclass
class Link:
    sock: socket.socket
    reader: protocol.Reader
    hello: dict
    means: np.ndarray


def parse_address(text: str) -> tuple[str, int]:
    """"HOST:PORT" (or "[v6]:PORT", or "HOST" for the default port) -> (host, port)."""
    text = text.strip()
    host, port = text, protocol.DEFAULT_PORT
    if text.startswith("["):
        end = text.find("]")
        host, rest = text[1:end], text[end + 1:]
        if rest.startswith(":"):
            port = _port(rest[1:], text)
    elif text.count(":") == 1:
        host, p = text.split(":")
        port = _port(p, text)
    elif ":" in text and not _is_ipv6(text):
        host = ""
    if not host or end_bad(host):
        raise RemoteError(f"engine address {text!r}: give HOST:PORT, e.g. 127.0.0.1:7860")
    return host, port


def _is_ipv6(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 6
    except ValueError:
        return False


def end_bad(host: str) -> bool:
    return any(c.isspace() for c in host)


def _port(p: str, text: str) -> int:
    if not p.isdigit() or not 0 < int(p) < 65536:
        raise RemoteError(f"engine address {text!r}: the port must be 1..65535")
    return int(p)


def connect(host: str, port: int, *, token: bytes | None, codec: str, quality: int,
            timeout: float = HANDSHAKE_TIMEOUT_S) -> Link:
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = protocol.Reader(sock, protocol.MAX_PREAUTH)
        hello = _expect(reader, "hello")
        if hello.get("v") != protocol.VERSION:
            raise RemoteRefused(f"the server at {host}:{port} speaks protocol {hello.get('v')}, "
                                f"this client {protocol.VERSION}; use one hambajuba version")
        size = hello.get("size", 0)
        protocol.check_image_shape(size, size)
        if hello.get("auth") and token is None:
            raise RemoteRefused(f"the server at {host}:{port} needs a token: pass --token-file")
        mac = protocol.auth_mac(token, hello.get("nonce", b"")) if token else b""
        protocol.send(sock, {"t": "hello", "v": protocol.VERSION, "role": "client"})
        protocol.send(sock, {"t": "auth", "mac": mac, "codec": codec, "quality": quality})
        reader.set_limit(protocol.MAX_SERVER)
        ok = _expect(reader, "auth")
        means = _means(ok)
        sock.settimeout(timeout)
        return Link(sock, reader, hello, means)
    except BaseException:
        sock.close()
        raise


def _expect(reader: protocol.Reader, kind: str) -> dict:
    msg = reader.read()
    if msg["t"] == "bye":
        reason = msg.get("reason", "no reason given")
        if "busy" in reason or "token" in reason or "protocol" in reason:
            raise RemoteRefused(f"the engine server refused: {reason}")
        raise Closed(f"the engine server closed the connection: {reason}")
    if msg["t"] != kind:
        raise ProtocolError(f"expected {kind} from the server, got {msg['t']}")
    return msg


def _means(ok: dict) -> np.ndarray:
    n = ok.get("n_features", 0)
    raw = ok.get("means", b"")
    if not (0 < n <= 65536) or len(raw) != 4 * n * len(BLOCKS):
        raise ProtocolError(f"auth: means table of {len(raw)} bytes for {n} features")
    return np.frombuffer(raw, dtype="<f4").reshape(len(BLOCKS), n).astype(np.float64)

"""`serve`: one engine behind a TCP port, for one client at a time.

    server = Server(engine, host="127.0.0.1", port=7860, token=None)
    server.serve_forever()          # or start() for a background thread

Per connection (docs/protocol.md has the fields):

    server: hello (version, model, size, nonce)   client: hello, auth (HMAC of the nonce)
    server: auth ok + the feature means table      (or bye "wrong token", then close)
    client: scene (when its version moves), frame, frame, ...   server: image per frame

The accept loop (remote/doorman.py) accepts and authenticates every caller
on one thread, with a 2 s handshake deadline and caps per address and in
all (the oldest unauthenticated caller is dropped, never the newcomer); the
engine's one slot is taken only after the HMAC checks out. The one client's
session runs on its own thread and is the only caller of the engine. A second
authenticated client gets a
`bye` naming why and is closed; a client leaving (or its connection
breaking) frees the engine for the next one. A bad message closes that
connection only. Album art arrives as bytes and is written to a folder this
server made; no path a client names is ever opened.
"""
from __future__ import annotations

import hashlib
import ipaddress
import os
import shutil
import socket
import tempfile
import threading
import time
from typing import Callable

import numpy as np

from graph_runtime.engine.protocol import FrameEngine
from graph_runtime.graph.frame import BLOCKS, FrameParams, Scene
from graph_runtime.media.atomic import write_atomic

from . import codec, protocol
from .doorman import Doorman
from .protocol import Closed, ProtocolError

WELCOME_TIMEOUT_S = 10.0     # sending the means table to an admitted client
IDLE_TIMEOUT_S = 60.0        # clients send stats pings while paused
_EMA = 0.1


class ServeError(Exception):
    """A server that must not start (bad bind address, no token, port in use)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: bytes | None) -> None:
    if not is_loopback(host) and not token:
        raise ServeError(f"refusing to listen on {host} without a token: anyone who can reach it "
                         "could drive the engine; pass --token-file FILE (or bind 127.0.0.1)")


def read_token(path: str) -> bytes:
    """The shared secret: the file's first line, at least 16 characters."""
    try:
        with open(path, "rb") as f:
            token = f.read(4096).split(b"\n", 1)[0].strip()
    except OSError as e:
        raise ServeError(f"--token-file {path}: cannot read it ({e.strerror})") from None
    if len(token) < 16:
        raise ServeError(f"--token-file {path}: the token must be at least 16 characters "
                         "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')")
    return token


class Server:
    def __init__(self, engine: FrameEngine, *, host: str = "127.0.0.1", port: int = protocol.DEFAULT_PORT,
                 token: bytes | None = None, say: Callable[[str], None] = print) -> None:
        check_bind(host, token)
        self.engine, self.token, self.say = engine, token or None, say
        try:
            self.sock = socket.create_server((host, port))
        except OSError as e:
            raise ServeError(f"cannot listen on {host}:{port} ({e.strerror})") from None
        self.host, self.port = host, self.sock.getsockname()[1]
        self.means = _means_table(engine)            # (4 * n_features,) float32, sent once
        self.art_dir: str | None = None              # made when the first album art arrives
        self.client: str | None = None               # who holds the engine now
        self.refused = self.sessions = 0
        self.stats = {"frames": 0, "render_ms": 0.0, "encode_ms": 0.0, "errors": 0,
                      "scenes": 0, "rejected_scenes": 0}
        self._lock = threading.Lock()
        self._closing = False
        self._thread: threading.Thread | None = None
        self.door: Doorman | None = None

    # -- accept loop ---------------------------------------------------------------------
    def start(self) -> "Server":
        self._thread = threading.Thread(target=self.serve_forever, name="hambajuba-serve",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Accept and authenticate on this thread (the doorman); each admitted client's
        session runs on its own thread. The slot is taken only after the HMAC checks out."""
        eng = self.engine
        hello = {"t": "hello", "v": protocol.VERSION, "role": "server",
                 "model": eng.model, "size": int(eng.size), "preview": bool(eng.is_preview),
                 "description": str(eng.description)[:protocol.MAX_TEXT],
                 "caps": list(protocol.CODECS), "auth": self.token is not None}
        self.door = Doorman(self.sock, self.token, hello, admit=self._admit, say=self.say)
        self.door.run()

    def _admit(self, conn: socket.socket, who: str, auth: dict) -> None:
        with self._lock:
            holder = self.client
            if holder is None:
                self.client = who
        if holder is not None:
            self._refuse(conn, who, holder)
            return
        threading.Thread(target=self._session, args=(conn, who, auth), daemon=True,
                         name="hambajuba-serve-client").start()

    def _refuse(self, conn: socket.socket, who: str, holder: str) -> None:
        self.refused += 1
        reason = (f"server busy: another client ({holder}) is using this engine; "
                  "one client at a time, try again when it disconnects")
        _send_quietly(conn, {"t": "bye", "reason": reason})
        conn.close()
        self.door.log(f"refused {who}: {holder} holds the engine")

    def close(self) -> None:
        self._closing = True
        if self.door is not None:
            self.door.close()
        try:
            self.sock.close()
        except OSError:
            pass
        if self.art_dir is not None:
            shutil.rmtree(self.art_dir, ignore_errors=True)

    # -- one client ------------------------------------------------------------------------
    def _session(self, conn: socket.socket, who: str, auth: dict) -> None:
        self.sessions += 1
        self.say(f"client {who} connected")
        reason = "client left"
        frames_before = self.stats["frames"]
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            Session(self, conn, auth).run()
        except Closed:
            pass
        except ProtocolError as e:
            reason = f"protocol error: {e}"
            _send_quietly(conn, {"t": "bye", "reason": str(e)[:protocol.MAX_TEXT]})
        except (OSError, TimeoutError) as e:
            reason = f"connection lost ({e})"
        finally:
            with self._lock:   # free the engine first: the next client may connect at once
                self.client = None
            conn.close()
            self.say(f"client {who} gone: {reason} ({self.stats['frames'] - frames_before} frames)")


class Session:
    """The protocol with one client: handshake, then scene/frame/stats/bye."""

    def __init__(self, server: Server, conn: socket.socket, auth: dict) -> None:
        self.server, self.conn, self.engine, self.auth = server, conn, server.engine, auth
        self.reader = protocol.Reader(conn, protocol.MAX_CLIENT)
        self.frame = FrameParams()
        self.frame.scene = Scene()
        self.codec, self.quality = "jpeg", codec.DEFAULT_QUALITY
        self.arts: dict[str, str] = {}   # sha256 hex of album art -> the file this server wrote

    def run(self) -> None:
        self._welcome()
        self.conn.settimeout(IDLE_TIMEOUT_S)
        while True:
            msg = self.reader.read()
            kind = msg["t"]
            if kind == "frame":
                self._frame(msg)
            elif kind == "scene":
                self._scene(msg)
            elif kind == "stats":
                protocol.send(self.conn, {"t": "stats", **self.server.stats})
            elif kind == "bye":
                raise Closed("client said bye")
            elif kind in ("labels", "neighbours"):
                self._features(msg)
            else:
                raise ProtocolError(f"unexpected {kind} message after the handshake")

    def _welcome(self) -> None:
        """The doorman checked hello and the HMAC; say ok and send the means table."""
        srv, auth = self.server, self.auth
        self.conn.settimeout(WELCOME_TIMEOUT_S)
        self._set_codec(auth.get("codec", self.codec), auth.get("quality", self.quality))
        n = len(srv.means) // len(BLOCKS)
        protocol.send(self.conn, {"t": "auth", "ok": True, "n_features": n,
                                  "means": srv.means.tobytes()})

    def _features(self, msg: dict) -> None:
        """The feature browser's questions: a block's labels, a feature's neighbours.
        An engine without them answers empty (the browser then lists ids)."""
        from .features import labels_message, neighbours_message

        block = msg["block"]
        if block not in BLOCKS:
            raise ProtocolError(f"{msg['t']}: unknown block {block[:40]!r}")
        try:
            if msg["t"] == "labels":
                reply = labels_message(self.engine, block)
            else:
                reply = neighbours_message(self.engine, block, int(msg.get("id", -1)),
                                           int(msg.get("k", 200)))
        except ProtocolError:
            reply = {"t": msg["t"], "block": block, "data": b'{"rows": []}'} \
                if msg["t"] == "labels" else \
                {"t": "neighbours", "block": block, "id": int(msg.get("id", -1)),
                 "ids": b"", "scores": b""}
        protocol.send(self.conn, reply)

    def _set_codec(self, name: str, quality: int) -> None:
        codec.check_codec(name, quality)
        self.codec, self.quality = name, quality

    def _scene(self, msg: dict) -> None:
        scene, art = protocol.scene_from_wire(msg)
        if art is not None:
            scene.latent_image = self._store_art(art, msg.get("art_name", ""))
        elif "art_id" in msg:   # album art this client sent before on this connection
            scene.latent_image = self.arts.get(msg["art_id"])
            if scene.latent_image is None:
                raise ProtocolError("scene.art_id names album art not sent on this connection")
        self.frame.scene = scene   # a new object: the engine applies it on the next frame
        self.server.stats["scenes"] += 1

    def _store_art(self, art: bytes, name: str = "") -> str:
        """Album art bytes -> a file in this server's own folder: a folder named by content,
        the file by the client's file name (only its last part, for the engine's messages:
        a refusal then names the user's file, not a hash)."""
        sha = hashlib.sha256(art).hexdigest()
        if self.server.art_dir is None:
            self.server.art_dir = tempfile.mkdtemp(prefix="hambajuba-serve-art-")
        where = os.path.join(self.server.art_dir, f"art-{sha[:32]}")
        path = os.path.join(where, _safe_name(name))
        if not os.path.exists(path):
            os.makedirs(where, exist_ok=True)
            write_atomic(path, art)
        self.arts[sha] = path
        return path

    def _frame(self, msg: dict) -> None:
        t_in = time.perf_counter()
        np.copyto(self.frame.vec, protocol.check_vec(msg["vec"]))
        if "codec" in msg or "quality" in msg:
            self._set_codec(msg.get("codec", self.codec), msg.get("quality", self.quality))
        stats = self.server.stats
        try:
            rgba = self.engine.render(self.frame)
        except Exception as e:  # the show goes on: the client reports it, the next frame renders
            stats["errors"] += 1
            if type(e).__name__ == "EngineError" and "scene" in str(e):
                stats["rejected_scenes"] += 1
            protocol.send(self.conn, {"t": "image", "id": msg["id"], "at": msg["at"],
                                      "error": _one_line(e)[:protocol.MAX_TEXT]})
            return
        t_rendered = time.perf_counter()
        data = codec.encode(rgba, self.codec, self.quality)
        t_encoded = time.perf_counter()
        render_ms, encode_ms = 1e3 * (t_rendered - t_in), 1e3 * (t_encoded - t_rendered)
        stats["render_ms"] += _EMA * (render_ms - stats["render_ms"])
        stats["encode_ms"] += _EMA * (encode_ms - stats["encode_ms"])
        stats["frames"] += 1
        h, w = rgba.shape[:2]
        protocol.send(self.conn, {"t": "image", "id": msg["id"], "at": msg["at"],
                                  "codec": self.codec,
                                  "w": w, "h": h, "data": data, "render_ms": render_ms,
                                  "server_ms": 1e3 * (time.perf_counter() - t_in)})


def _send_quietly(conn: socket.socket, msg: dict) -> None:
    try:
        conn.settimeout(1.0)
        protocol.send(conn, msg)
    except OSError:
        pass


def _safe_name(name: str) -> str:
    """The last part of a client's file name, printable, no leading dot; else "album-art"."""
    base = os.path.basename(str(name).replace("\\", "/"))[:100]
    base = "".join(c for c in base if c.isprintable() and c not in "/\0").lstrip(".")
    return base or "album-art"


def _one_line(e: Exception) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0]


def _means_table(engine: FrameEngine) -> np.ndarray:
    """(len(BLOCKS) * n_features,) float32: every feature's mean activation, block-major."""
    n = int(engine.n_features or 0)
    if not 0 < n <= 65536:
        raise ServeError(f"the engine reports {n} features per block")
    return np.array([engine.feature_mean(b, i) for b in BLOCKS for i in range(n)],
                     dtype="<f4")

"""The local control endpoint `perform --mcp` opens for `hambajuba mcp` (agents).

Loopback TCP only (127.0.0.1, a port the system picks). Who may connect is
whoever can read the endpoint file, `<data>/hambajuba/control/mcp.json`
(folder 0700, file 0600): it holds host, port, the pid of the show and a
per-session token of 32 random bytes. A new show writes a new token; a
killed show leaves a file whose pid is gone or whose port refuses, which
`read_endpoint` reports as stale.

Protocol: one JSON object per line, UTF-8.
  -> {"token": "..."}                       first, within HELLO_S, or the socket closes
  <- {"ok": true, "pid": N}
  -> {"op": "set_param", "args": {...}}     then requests, one at a time
  <- {"result": {...}}  or  {"error": code, "message": "..."}
Bounds, checked before anything is allocated for a peer: MAX_CONNECTIONS
sockets (the extra one is told and closed), the hello is read on the accept
thread with a deadline (no thread per unauthenticated peer), a request line
is at most MAX_REQUEST bytes, RATE calls a second per connection (a burst
of BURST), and a call not answered within CALL_S is reported busy.

Each call is posted into the show's control inbox under ("agent", slot),
the same inbox and drain as OSC and MIDI (graph_runtime/agent/desk.py);
the frame's image is encoded (PNG) on the connection's thread, never on the
main thread.
"""
from __future__ import annotations

import hmac
import json
import os
import secrets
import socket
import threading
from pathlib import Path

from graph_runtime.media.atomic import write_atomic

from .rate_cap import RATE, RateCap

MAX_CONNECTIONS = 4
MAX_REQUEST = 64 * 1024  # bytes per request line
HELLO_S = 2.0
CALL_S = 30.0

LOOPBACK = "127.0.0.1"
FILE_VERSION = 1


def data_dir() -> Path:
    """The user's data folder, worked out when used (tests set HOME / XDG_DATA_HOME)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                           "share")
    return Path(base) / "hambajuba"


def endpoint_path() -> Path:
    return data_dir() / "control" / "mcp.json"


class EndpointError(Exception):
    pass


class ControlEndpoint:
    def __init__(self, inbox, *, port: int = 0, path: Path | None = None) -> None:
        self.inbox = inbox
        self.path = Path(path) if path is not None else endpoint_path()
        self.token = secrets.token_hex(32)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((LOOPBACK, int(port)))  # loopback only, never 0.0.0.0
        except OSError as e:
            self._sock.close()
            raise EndpointError(f"control endpoint: cannot listen on {LOOPBACK}:{port}: "
                                f"{e.strerror or e}") from None
        self._sock.listen(MAX_CONNECTIONS)
        self.port = self._sock.getsockname()[1]
        self._slots = [False] * MAX_CONNECTIONS
        self._lock = threading.Lock()
        self._closed = False
        self.refused = 0  # peers turned away (bad token, too many, too big)
        self._thread: threading.Thread | None = None

    def start(self) -> ControlEndpoint:
        write_endpoint(self.path, {"version": FILE_VERSION, "host": LOOPBACK, "port": self.port,
                                   "token": self.token, "pid": os.getpid()})
        self._thread = threading.Thread(target=self._accept_loop, name="hbj-endpoint", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed = True
        try:
            self._sock.close()
        except OSError:
            pass
        try:  # only our own file: a newer show may have replaced it
            if json.loads(self.path.read_text()).get("token") == self.token:
                self.path.unlink()
        except (OSError, ValueError):
            pass

    # -- accepting ---------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            try:
                self._admit(conn)
            except (OSError, EndpointError):
                conn.close()

    def _admit(self, conn: socket.socket) -> None:
        conn.settimeout(HELLO_S)
        reader = LineReader(conn)
        hello = _parse(reader.line(1024))
        token = hello.get("token") if isinstance(hello, dict) else None
        if not isinstance(token, str) or not hmac.compare_digest(token, self.token):
            self.refused += 1
            _send(conn, {"error": "refused", "message": "bad or missing token"})
            conn.close()
            return
        slot = self._take_slot()
        if slot < 0:
            self.refused += 1
            _send(conn, {"error": "busy", "message": f"{MAX_CONNECTIONS} agents are already "
                         "connected"})
            conn.close()
            return
        _send(conn, {"ok": True, "pid": os.getpid()})
        conn.settimeout(None)
        threading.Thread(target=self._serve, args=(conn, reader, slot), name=f"hbj-agent-{slot}",
                         daemon=True).start()

    def _take_slot(self) -> int:
        with self._lock:
            for i, used in enumerate(self._slots):
                if not used:
                    self._slots[i] = True
                    return i
        return -1

    # -- one agent ------------------------------------------------------------------------
    def _serve(self, conn: socket.socket, reader: LineReader, slot: int) -> None:
        from graph_runtime.agent.link import post_call

        cap = RateCap()
        try:
            while not self._closed:
                try:
                    line = reader.line(MAX_REQUEST)
                except EndpointError as e:
                    _send(conn, {"error": "too_large", "message": str(e)})
                    return
                if line is None:
                    return
                req = _parse(line)
                if not isinstance(req, dict) or not isinstance(req.get("op"), str):
                    _send(conn, {"error": "bad_argument", "message": "a request is "
                                 '{"op": name, "args": {...}}'})
                    continue
                if not cap.take():
                    _send(conn, {"error": "rate_limited", "message": f"more than {RATE:g} calls "
                                 "a second; slow down"})
                    continue
                _send(conn, post_call(self.inbox, ("agent", slot), req["op"],
                                      req.get("args") or {}, CALL_S))
        except OSError:
            pass
        finally:
            with self._lock:
                self._slots[slot] = False
            conn.close()


class LineReader:
    """Newline-delimited reads with a bound on the line's length."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn, self.buf = conn, bytearray()

    def line(self, limit: int) -> bytes | None:
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + 1]
                return out
            if len(self.buf) > limit:
                raise EndpointError(f"a request is at most {limit} bytes")
            chunk = self.conn.recv(65536)
            if not chunk:
                return None
            self.buf += chunk


def _parse(line: bytes | None):
    if line is None:
        return None
    try:
        return json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _send(conn: socket.socket, doc: dict) -> None:
    conn.sendall(json.dumps(doc, separators=(",", ":")).encode("utf-8") + b"\n")


# -- the endpoint file ------------------------------------------------------------------

def write_endpoint(path: Path, doc: dict) -> None:
    """Atomically, readable by this user only (the file 0600, the folder 0700): it holds the token."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(path, json.dumps(doc), mode=0o600)


def read_endpoint(path: Path | None = None) -> tuple[dict | None, str]:
    """(the endpoint, "") when a live show wrote it, else (None, why not)."""
    path = Path(path) if path is not None else endpoint_path()
    try:
        if path.stat().st_size > 4096:
            return None, f"{path}: too large to be an endpoint file; ignored"
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "no show is running with --mcp"
    except (OSError, ValueError) as e:
        return None, f"{path}: unreadable ({e}); ignored"
    ok = isinstance(doc, dict) and doc.get("host") == LOOPBACK \
        and isinstance(doc.get("port"), int) and isinstance(doc.get("token"), str) \
        and isinstance(doc.get("pid"), int)
    if not ok:
        return None, f"{path}: not an endpoint file; ignored"
    if not _alive(doc["pid"]):
        return None, f"stale endpoint: the show (pid {doc['pid']}) is gone"
    try:
        socket.create_connection((LOOPBACK, doc["port"]), timeout=1.0).close()
    except OSError:
        return None, f"stale endpoint: nothing listens on {LOOPBACK}:{doc['port']}"
    return doc, ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

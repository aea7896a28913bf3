"""How `hambajuba mcp` reaches a show: through its control inbox, in-process or by socket.

Both links return the same replies: {"result": ...} or {"error": code,
"message": ...}. `post_call` is the one place a call enters a show: it posts
into the control inbox under the caller's key, waits for the main thread's
answer and encodes a frame as PNG on the caller's thread.
"""
from __future__ import annotations

import base64
import io
import json
import socket
import threading

from .desk import Call
from .errors import AgentError

CALL_S = 30.0
MAX_REPLY = 32 << 20  # bytes of one reply line (a 1024 px PNG fits)


def post_call(inbox, key, op: str, args: dict, timeout: float = CALL_S) -> dict:
    if not isinstance(args, dict):
        return AgentError("bad_argument", "args must be an object").to_json()
    call = Call(op, args)
    if not inbox.post(key, call):
        return AgentError("busy", "the control inbox is full").to_json()
    if not call.done.wait(timeout):
        return AgentError("busy", f"the show did not answer {op} within {timeout:g} s "
                          "(paused, or the window is busy)").to_json()
    if call.error is not None:
        return call.error
    result = call.result
    if isinstance(result, dict) and "rgba" in result:
        result = encode_frame(result)
    return {"result": result}


def encode_frame(result: dict) -> dict:
    """{"rgba": (H, W, 4) uint8, "size": px | None} -> {"png": base64, width, height, time}."""
    from PIL import Image

    img = Image.fromarray(result["rgba"][..., :3])
    size = result.get("size")
    if size:
        img = img.resize((int(size), int(size)), Image.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return {"png": base64.b64encode(buf.getvalue()).decode("ascii"), "width": img.width,
            "height": img.height, "time": result.get("time")}


class InboxLink:
    """In-process: the standalone show's inbox (its thread drains it every frame)."""

    def __init__(self, inbox, key=("agent", "local")) -> None:
        from graph_runtime.control.rate_cap import RateCap

        self.inbox, self.key = inbox, key
        self._lock = threading.Lock()  # one call in flight per key
        self.cap = RateCap()  # the endpoint's rate, here too

    def call(self, op: str, args: dict | None = None) -> dict:
        with self._lock:
            if not self.cap.take():
                return AgentError("rate_limited", "more than 30 calls a second; slow "
                                  "down").to_json()
            return post_call(self.inbox, self.key, op, args or {})

    def close(self) -> None:
        pass


class SocketLink:
    """To `perform --mcp` through its endpoint (graph_runtime/control/endpoint.py)."""

    def __init__(self, endpoint: dict, timeout: float = CALL_S + 5.0) -> None:
        self.sock = socket.create_connection((endpoint["host"], endpoint["port"]), timeout=timeout)
        self.buf = bytearray()
        self._lock = threading.Lock()
        reply = self._ask({"token": endpoint["token"]})
        if not reply.get("ok"):
            self.sock.close()
            raise AgentError.from_json(reply)
        self.pid = reply.get("pid")

    def call(self, op: str, args: dict | None = None) -> dict:
        with self._lock:
            try:
                return self._ask({"op": op, "args": args or {}})
            except (OSError, ValueError) as e:
                return AgentError("unavailable", f"the show went away ({e})").to_json()

    def _ask(self, doc: dict) -> dict:
        self.sock.sendall(json.dumps(doc).encode("utf-8") + b"\n")
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_REPLY:
                raise ValueError("reply too large")
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("the show closed the connection")
            self.buf += chunk
        i = self.buf.index(b"\n")
        line = bytes(self.buf[:i])
        del self.buf[:i + 1]
        return json.loads(line)

    def close(self) -> None:
        self.sock.close()

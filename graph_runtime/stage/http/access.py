"""Who may use a stage site: the same rules as `serve`, for HTTP.

- Loopback is the default bind and needs no token. Anything else needs a
  token file (its first line, stripped, >= 16 characters: `read_token`).
- When a token is configured, EVERY request needs it, from any client,
  127.0.0.1 included: the page, its assets, MJPEG and the WebSocket. It
  comes once as `?token=T`; that response (a 200, no redirect) sets an
  HttpOnly cookie holding an HMAC of the token, which later requests carry.
  Without it the answer is 401 (no credentials) or 403 (wrong ones).
- Without a token (loopback only), the Host header must name this machine
  when sent (a web page elsewhere cannot rebind a DNS name onto 127.0.0.1; VLC
  and plain HTTP/1.0 clients may send none), and a
  WebSocket's Origin, when sent, must be this site.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress

from aiohttp import web

COOKIE = "hambajuba_token"
LOOPBACK_NAMES = ("", "localhost", "127.0.0.1", "::1", "[::1]")


class AccessError(Exception):
    """A site that must not open (beyond loopback without a token); one line."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_token(path: str, flag: str) -> bytes:
    """The shared secret, read exactly as `serve` reads its --token-file."""
    from graph_runtime.remote.server import ServeError
    from graph_runtime.remote.server import read_token as serve_read_token

    try:
        return serve_read_token(path)
    except ServeError as e:
        raise AccessError(str(e).replace("--token-file", flag, 1)) from None


def check_bind(host: str, token: bytes | None, flag: str, token_flag: str) -> None:
    if not is_loopback(host) and not token:
        raise AccessError(f"{flag} {host}: refusing to listen beyond this machine without a token; "
                          f"pass {token_flag} FILE (or bind 127.0.0.1)")


def _host_name(request: web.Request) -> str:
    host = request.headers.get("Host", "")
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Access:
    def __init__(self, token: bytes | None) -> None:
        self.token = token or None
        self.cookie = (hmac.new(token, b"hambajuba web cookie", hashlib.sha256).hexdigest()
                       if token else "")
        self.refused = 0

    def verdict(self, request: web.Request) -> tuple[int, bool]:
        """(0 = allowed | 401 | 403, set the cookie on the answer)."""
        if request.headers.get("Upgrade", "").lower() == "websocket":
            origin = request.headers.get("Origin")
            if origin is not None and origin not in (f"http://{request.host}",
                                                     f"https://{request.host}"):
                return 403, False
        if self.token is None:
            name = _host_name(request)
            return (0 if name in LOOPBACK_NAMES or is_loopback(name) else 403), False
        given = request.query.get("token")
        if given is not None:
            ok = hmac.compare_digest(given.encode("utf-8", "replace"), self.token)
            return (0, True) if ok else (403, False)
        got = request.cookies.get(COOKIE)
        if got is None:
            return 401, False
        return (0 if hmac.compare_digest(got.encode("ascii", "replace"), self.cookie.encode())
                else 403), False

    def set_cookie(self, response: web.StreamResponse) -> None:
        """Called from on_response_prepare, after aiohttp has turned its cookie jar into
        headers: so the header itself (the value is hex: nothing to quote)."""
        response.headers.add("Set-Cookie", f"{COOKIE}={self.cookie}; HttpOnly; Path=/; SameSite=Strict")

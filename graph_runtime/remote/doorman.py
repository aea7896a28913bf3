"""The door of `serve`: accepts and authenticates every caller on one thread.

    door = Doorman(listen_sock, token, hello_fields, admit=fn, say=print)
    door.run()                  # until door.close(); admit(sock, who, auth_msg) per good client

Nothing a stranger sends commits a thread, a slot or the engine: each new
connection is one small record (socket, nonce, at most ~8 KiB of buffered
bytes, a deadline) in one selector loop. Only a connection whose HMAC checks
out leaves the door, handed to `admit` as a blocking socket.

Bounds, all checked before anything is allocated for a caller:
- a handshake (hello + auth) must finish within HANDSHAKE_S of the accept;
- at most MAX_PER_HOST handshakes from one address and MAX_PENDING in all.
  When a bound is reached the OLDEST unauthenticated connection (from that
  address, or anywhere) is dropped: the newcomer always gets its chance, so
  idle sockets cannot lock a real client out.
Refusals are logged at most once per LOG_PERIOD_S, with a count of the rest.
"""
from __future__ import annotations

import errno
import secrets
import selectors
import socket
import time
from collections import OrderedDict
from typing import Callable

from . import protocol
from .protocol import ProtocolError

HANDSHAKE_S = 2.0           # accept -> auth message, seconds
MAX_PENDING = 64            # unauthenticated connections held in all
MAX_PER_HOST = 8            # ... and from one address
ACCEPTS_PER_WAKE = 64       # the accept loop yields to reading after this many
LOG_PERIOD_S = 5.0
_OUT_OF_ROOM = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


class RateLimitedSay:
    """say(line) at most once per period; the lines held back are counted into the next."""

    def __init__(self, say: Callable[[str], None], period: float = LOG_PERIOD_S) -> None:
        self.say, self.period = say, period
        self.held = 0
        self._next = 0.0

    def __call__(self, line: str) -> None:
        now = time.monotonic()
        if now < self._next:
            self.held += 1
            return
        more = f" (and {self.held} more refused in the last {self.period:.0f} s)" if self.held else ""
        self.say(line + more)
        self.held, self._next = 0, now + self.period


class _Caller:
    """One unauthenticated connection: its bytes so far and its deadline."""

    __slots__ = ("sock", "who", "host", "nonce", "buf", "msgs", "deadline")

    def __init__(self, sock: socket.socket, addr, nonce: bytes, deadline: float) -> None:
        self.sock, self.host, self.nonce, self.deadline = sock, addr[0], nonce, deadline
        self.who = f"{addr[0]}:{addr[1]}"
        self.buf = bytearray()
        self.msgs: list[dict] = []


class Doorman:
    def __init__(self, listen: socket.socket, token: bytes | None, hello: dict, *,
                 admit: Callable[[socket.socket, str, dict], None],
                 say: Callable[[str], None]) -> None:
        self.listen, self.token, self.hello, self.admit = listen, token, hello, admit
        self.log = RateLimitedSay(say)
        self.pending: OrderedDict[int, _Caller] = OrderedDict()   # fileno -> caller, oldest first
        self.refused = self.dropped = self.admitted = 0
        self._sel = selectors.DefaultSelector()
        self._closing = False

    def close(self) -> None:
        self._closing = True

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        self.listen.setblocking(False)
        self._sel.register(self.listen, selectors.EVENT_READ, None)
        try:
            while not self._closing:
                for key, _ in self._sel.select(timeout=self._wait()):
                    if key.data is None:
                        self._accept()
                    elif self.pending.get(key.data.sock.fileno()) is key.data:
                        self._read(key.data)   # (not one dropped earlier in this wake)
                self._expire(time.monotonic())
        except (OSError, ValueError):   # the listening socket was closed under us
            pass
        finally:
            for caller in list(self.pending.values()):
                self._drop(caller)
            self._sel.close()

    def _wait(self) -> float:
        if not self.pending:
            return 0.25
        oldest = next(iter(self.pending.values()))
        return max(0.0, min(0.25, oldest.deadline - time.monotonic()))

    def _expire(self, now: float) -> None:
        while self.pending:
            oldest = next(iter(self.pending.values()))
            if oldest.deadline > now:
                return
            self.refused += 1
            self.log(f"refused {oldest.who}: no handshake within {HANDSHAKE_S:g} s")
            self._drop(oldest)

    # -- accept --------------------------------------------------------------------------
    def _accept(self) -> None:
        for _ in range(ACCEPTS_PER_WAKE):
            try:
                conn, addr = self.listen.accept()
            except BlockingIOError:
                return
            except OSError as e:
                if e.errno not in _OUT_OF_ROOM:   # e.g. the caller reset before we took it
                    continue
                # out of file descriptors or buffers: make room, try again on the next wake
                self.log(f"accept failed ({e.strerror}); dropping the oldest handshake")
                if self.pending:
                    self._drop(next(iter(self.pending.values())))
                return
            self._make_room(addr[0])
            self._greet(conn, addr)

    def _make_room(self, host: str) -> None:
        """Drop the oldest unauthenticated caller from `host`, then anywhere, past a bound."""
        same = [c for c in self.pending.values() if c.host == host]
        if len(same) >= MAX_PER_HOST:
            self._bump(same[0], f"more than {MAX_PER_HOST} handshakes from {host}")
        if len(self.pending) >= MAX_PENDING:
            self._bump(next(iter(self.pending.values())),
                       f"more than {MAX_PENDING} handshakes at once")

    def _bump(self, caller: _Caller, why: str) -> None:
        self.dropped += 1
        self.refused += 1
        self.log(f"dropped {caller.who} before it authenticated: {why}")
        self._drop(caller)

    def _greet(self, conn: socket.socket, addr) -> None:
        nonce = secrets.token_bytes(protocol.NONCE_BYTES)
        hello = protocol.pack({**self.hello, "nonce": nonce})   # ~300 bytes: fits any send buffer
        try:
            conn.setblocking(False)
            if conn.send(hello) != len(hello):
                raise BlockingIOError
        except OSError:
            conn.close()
            return
        caller = _Caller(conn, addr, nonce, time.monotonic() + HANDSHAKE_S)
        self.pending[conn.fileno()] = caller
        self._sel.register(conn, selectors.EVENT_READ, caller)

    # -- handshake -----------------------------------------------------------------------
    def _read(self, caller: _Caller) -> None:
        try:
            data = caller.sock.recv(protocol.MAX_PREAUTH)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(caller)
            return
        caller.buf += data
        try:
            self._parse(caller)
            if len(caller.msgs) >= 2:
                self._check(caller)
        except ProtocolError as e:
            self._refuse(caller, str(e))

    def _parse(self, caller: _Caller) -> None:
        buf = caller.buf
        while len(buf) >= protocol.HEADER.size and len(caller.msgs) < 2:
            (length,) = protocol.HEADER.unpack_from(buf, 0)
            if length > protocol.MAX_PREAUTH:   # checked before the body is kept
                raise ProtocolError(f"message of {length} bytes is over the limit of "
                                    f"{protocol.MAX_PREAUTH} before authentication")
            end = protocol.HEADER.size + length
            if len(buf) < end:
                return
            body = bytes(buf[protocol.HEADER.size:end])
            del buf[:end]
            caller.msgs.append(protocol.check_message(protocol.decode(body, protocol.MAX_PREAUTH)))

    def _check(self, caller: _Caller) -> None:
        hello, auth = caller.msgs
        if hello["t"] != "hello" or auth["t"] != "auth":
            raise ProtocolError(f"expected hello then auth, got {hello['t']} then {auth['t']}")
        if hello.get("v") != protocol.VERSION:
            raise ProtocolError(f"client speaks protocol {hello.get('v')}, this server "
                                f"{protocol.VERSION}; use the same hambajuba version on both")
        if caller.buf:
            raise ProtocolError("data sent before the server's auth reply")
        if not protocol.auth_ok(self.token, caller.nonce, auth.get("mac")):
            raise ProtocolError("wrong token: authentication failed")
        self._release(caller)
        caller.sock.setblocking(True)
        self.admitted += 1
        self.admit(caller.sock, caller.who, auth)

    def _refuse(self, caller: _Caller, reason: str) -> None:
        self.refused += 1
        self.log(f"refused {caller.who}: {reason}")
        try:
            caller.sock.send(protocol.pack({"t": "bye", "reason": reason[:protocol.MAX_TEXT]}))
        except OSError:
            pass
        self._drop(caller)

    def _release(self, caller: _Caller) -> None:
        self.pending.pop(caller.sock.fileno(), None)
        try:
            self._sel.unregister(caller.sock)
        except (KeyError, ValueError):
            pass

    def _drop(self, caller: _Caller) -> None:
        self._release(caller)
        caller.sock.close()

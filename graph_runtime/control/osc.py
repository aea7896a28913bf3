"""OSC over UDP: one receiving thread into the Inbox, and a tiny sender.

Why not python-osc's servers: a thread per packet (or a blocking dispatcher
per message) loses most of a 1,000-message loopback burst. Here ONE thread
reads the socket (SO_RCVBUF raised to RCVBUF so a burst waits in the
kernel, not on the floor), parses each datagram with python-osc's packet
parser and posts ("osc", address) -> args into the Inbox, where messages to
the same address coalesce to the newest. The main thread interprets
addresses (it knows the patch); this thread knows nothing of the patch.

Binds 127.0.0.1 unless told otherwise. Sizes are bounded before use: a
datagram is at most MAX_DGRAM bytes, an address at most MAX_ADDRESS
characters, and the Inbox refuses sources past its capacity.
"""
from __future__ import annotations

import errno
import math
import os
import socket
import struct
import threading

from .inbox import Inbox

RCVBUF = 4 * 1024 * 1024  # bytes asked of the kernel (it may cap at net.core.rmem_max)
MAX_DGRAM = 65507  # largest UDP payload over IPv4
MAX_ADDRESS = 200
MAX_ARGS = 16
POLL_S = 0.2  # how often the thread looks up from recv to see whether to stop


class OscError(Exception):
    """One-line, user-facing (port in use, bad host)."""


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
OUT_HOSTS_ENV = "HAMBAJUBA_OSC_OUT_HOSTS"  # comma-separated hosts the user lets patches send to


def out_host_allowed(host: str) -> bool:
    """A patch is data from strangers: its osc.out nodes may send to this
    machine, and elsewhere only to hosts the user named (`perform
    --osc-out-host HOST`, which fills HAMBAJUBA_OSC_OUT_HOSTS)."""
    if host in LOOPBACK_HOSTS or host.startswith("127."):
        return True
    allowed = os.environ.get(OUT_HOSTS_ENV, "")
    return host in {h.strip() for h in allowed.split(",") if h.strip()}


def parse_endpoint(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """'9000' or 'HOST:9000' -> (host, port); OscError on anything else."""
    if len(str(text)) > 300:
        raise OscError("OSC endpoint: too long")
    host, _, port = str(text).rpartition(":")
    host = host or default_host
    try:
        number = int(port)
    except ValueError:
        raise OscError(f"OSC endpoint {text!r}: expected PORT or HOST:PORT") from None
    if not 0 <= number <= 65535:  # 0: any free port (the status line says which)
        raise OscError(f"OSC endpoint {text!r}: port must be 0..65535")
    return host, number


def _messages(dgram: bytes):
    """(address, args) per message in a datagram (bundles flattened)."""
    from pythonosc.osc_packet import OscPacket

    for timed in OscPacket(dgram).messages:
        yield timed.message.address, timed.message.params


def _finite(arg) -> bool:
    return not isinstance(arg, float) or math.isfinite(arg)


class OscListener:
    def __init__(self, inbox: Inbox, host: str = "127.0.0.1", port: int = 9000,
                 *, rcvbuf: int = RCVBUF) -> None:
        self.inbox, self.host, self.port, self.rcvbuf = inbox, host, int(port), int(rcvbuf)
        self.sock: socket.socket | None = None
        self.received = 0  # datagrams read
        self.malformed = 0  # datagrams that did not parse, or broke the bounds
        self.last_error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "OscListener":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
            sock.bind((self.host, self.port))
        except OSError as e:
            sock.close()
            if e.errno == errno.EADDRINUSE:
                raise OscError(f"OSC port {self.port} on {self.host} is already in use (another "
                               "hambajuba or OSC app?); choose another with --osc PORT") from None
            raise OscError(f"cannot listen for OSC on {self.host}:{self.port}: "
                           f"{e.strerror or e}") from None
        sock.settimeout(POLL_S)
        self.sock = sock
        self.port = sock.getsockname()[1]  # port 0 asks the OS for a free one (tests)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="osc-in", daemon=True)
        self._thread.start()
        return self

    @property
    def rcvbuf_granted(self) -> int:
        return self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) if self.sock else 0

    def _run(self) -> None:
        sock, post = self.sock, self.inbox.post
        while not self._stop.is_set():
            try:
                dgram = sock.recv(MAX_DGRAM)
            except socket.timeout:
                continue
            except OSError:
                break  # closed under us by stop()
            self.received += 1
            try:
                for address, args in _messages(dgram):
                    if len(address) > MAX_ADDRESS or len(args) > MAX_ARGS:
                        self.malformed += 1
                        continue
                    if not all(_finite(a) for a in args):  # must not clobber a good value
                        post(("oscbad", address), "NaN or infinite value")
                        continue
                    post(("osc", address), tuple(args))
            except Exception as e:  # any parse failure (incl. deep bundles): count, go on
                self.malformed += 1
                self.last_error = f"{type(e).__name__}: {e}"[:200]

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class OscSender:
    """Sends one float to one address, built once: per frame it packs 4 bytes
    into a preallocated datagram and sends it (no allocation, no blocking)."""

    def __init__(self, host: str, port: int, address: str) -> None:
        addr = address.encode("ascii", "replace")
        addr += b"\0" * (4 - len(addr) % 4)
        self._dgram = bytearray(addr + b",f\0\0" + b"\0\0\0\0")
        self._off = len(self._dgram) - 4
        self._to = (host, int(port))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.errors = 0

    def send(self, value: float) -> None:
        struct.pack_into(">f", self._dgram, self._off, value)
        try:
            self.sock.sendto(self._dgram, self._to)
        except OSError:  # nobody listening (ICMP refused), buffer full: drop, count
            self.errors += 1

    def close(self) -> None:
        self.sock.close()

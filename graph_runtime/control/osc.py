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
import ipaddress
import math
import os
import socket
import struct
import threading
import time

from .inbox import Inbox

RCVBUF = 4 * 1024 * 1024  # bytes asked of the kernel (it may cap at net.core.rmem_max)
MAX_DGRAM = 65507  # largest UDP payload over IPv4
MAX_ADDRESS = 200
MAX_ARGS = 16
POLL_S = 0.2  # how often the thread looks up from recv to see whether to stop


class OscError(Exception):
    """One-line, user-facing (port in use, bad host)."""


OUT_HOSTS_ENV = "HAMBAJUBA_OSC_OUT_HOSTS"  # comma-separated hosts the user lets patches send to
RESOLVED_TTL_S = 60.0  # a name's lookup is reused this long (every compile would repeat it)
_resolved: dict[tuple[str, int], tuple[float, tuple | None, str | None]] = {}


def _allowed_hosts() -> set[str]:
    return {h.strip().lower() for h in os.environ.get(OUT_HOSTS_ENV, "").split(",") if h.strip()}


def _literal(host: str):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def out_host_refusal(host: str) -> str | None:
    """Why a patch may not send to `host`, decided without a name lookup; None: it may
    (once resolved). A patch is data from strangers: its osc.out nodes may send to this
    machine (a loopback address, or "localhost", checked again once resolved), and
    elsewhere only to hosts the user named (`perform --osc-out-host HOST`, which fills
    HAMBAJUBA_OSC_OUT_HOSTS). A name is never looked up before that: a patch cannot make
    this machine ask DNS about names of its choosing."""
    ip = _literal(host)
    if (ip is not None and ip.is_loopback) or host.lower() == "localhost" \
            or host.lower() in _allowed_hosts():
        return None
    return (f"not sending to {host!r}: a patch may send OSC only to this machine unless you "
            f"allow the host (hambajuba perform --osc-out-host {host})")


def cached_out_host(host: str, port: int) -> tuple[tuple | None, str | None] | None:
    """A recent `resolve_out_host` answer for (host, port), or None (a plain dict read)."""
    found = _resolved.get((host, port))
    if found is None or time.monotonic() - found[0] > RESOLVED_TTL_S:
        return None
    return found[1], found[2]


def resolve_out_host(host: str, port: int) -> tuple[tuple | None, str | None]:
    """((family, sockaddr), None) to send to, or (None, why not): a refused host, a name
    that does not resolve, or one the user did not allow that resolves off this machine
    (only 127.0.0.0/8 and ::1 count as this machine). May block on DNS for seconds:
    call it off the main thread (osc.out does, through the compile's cache)."""
    refusal = out_host_refusal(host)
    if refusal is not None:
        return None, refusal
    flags = socket.AI_NUMERICHOST if _literal(host) is not None else 0
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM, flags=flags)
    except (OSError, UnicodeError) as e:
        answer = (None, f"cannot resolve {host!r} ({getattr(e, 'strerror', None) or e}); "
                        "not sending")
    else:
        addrs = [(fam, sa) for fam, _t, _p, _c, sa in infos
                 if fam in (socket.AF_INET, socket.AF_INET6)]
        off = [sa[0] for _f, sa in addrs if not ipaddress.ip_address(sa[0].split("%")[0]).is_loopback]
        if not addrs:
            answer = (None, f"cannot resolve {host!r} to an IP address; not sending")
        elif off and host.lower() not in _allowed_hosts():
            answer = (None, f"not sending to {host!r}: it resolves to {off[0]}, not this machine "
                            f"(allow it with hambajuba perform --osc-out-host {host})")
        else:
            answer = (addrs[0], None)
    _resolved[(host, port)] = (time.monotonic(), *answer)
    return answer


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
        sock, post = self.sock, self.inbox.post_osc
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
                        post(address, "NaN or infinite value", bad=True)
                        continue
                    post(address, tuple(args))
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

    def __init__(self, to: tuple, address: str) -> None:
        """to: (family, sockaddr) from resolve_out_host."""
        addr = address.encode("ascii", "replace")
        addr += b"\0" * (4 - len(addr) % 4)
        self._dgram = bytearray(addr + b",f\0\0" + b"\0\0\0\0")
        self._off = len(self._dgram) - 4
        family, self._to = to
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
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

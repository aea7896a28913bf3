"""RemoteEngine: the engine interface, served by `hambajuba serve` elsewhere.

    engine = RemoteEngine("gpu-box:7860", token=b"...")    # connects, or raises RemoteError
    rgba = engine.render(frame)          # like Engine.render: one frame, waited for

Two ways to drive it:

* `render(frame)`: send one frame, wait for its image (render.py, and the
  window's EngineWorker as it is). Frame-exact; one frame in flight.
* `submit(frame, at)` / `poll()` / `wait(timeout)`: up to `in_flight`
  frames on the wire at once (default 2), so a round trip does not cut the
  frame rate. `submit` never blocks (None when the pipe is full or the link
  is down: keep the newest frame and try again); `poll` returns the newest
  finished image and drops the older ones unseen (newest wins).
  `lookahead_s` is the measured send -> decoded latency (round trip + server
  render + codecs): ask for a frame for heard + lookahead_s + display.

One link thread connects, reads images (decoding them into a small ring of
preallocated buffers) and pings while idle. When the server dies or the
network drops, frames in flight are forgotten, `status` says "engine
disconnected, reconnecting", the first render() after it raises
RemoteDisconnected once (the window shows the message) and later ones return
the last image (the window holds it); the link reconnects with backoff and
re-sends the scene before the next frame.
"""
from __future__ import annotations

import math
import select
import threading
import time

import numpy as np

from graph_runtime.engine.errors import EngineError
from graph_runtime.engine.protocol import EngineBase
from graph_runtime.graph.frame import BLOCKS, FrameParams

from . import codec as codecs
from . import protocol
from .connect import RemoteError, RemoteRefused, connect, parse_address
from .protocol import Closed, ProtocolError
from .scene_sender import SceneSender

PING_S = 1.0            # idle links are pinged (stats) this often
DEAD_AFTER_S = 10.0     # nothing heard this long while waiting for something: the link is dead
READ_TIMEOUT_S = 10.0   # one message, once it has started arriving
BACKOFF_S = (0.1, 3.0)  # first and longest wait between reconnection attempts
HOLD_WAIT_S = 0.1       # render() while down: wait this long for the link before holding
_EMA = 0.1


class RemoteDisconnected(RemoteError):
    pass


class Finished:
    """One image back from the server. `rgba` is a ring buffer: valid until the next poll()."""

    __slots__ = ("id", "at", "tag", "rgba", "render_ms", "rtt_ms", "done")

    def __init__(self) -> None:
        self.id, self.at, self.tag, self.rgba = -1, math.nan, None, None
        self.render_ms = self.rtt_ms = 0.0
        self.done = 0.0


class RemoteEngine(EngineBase):
    def __init__(self, address: str, *, token: bytes | None = None, codec: str = "jpeg",
                 quality: int = codecs.DEFAULT_QUALITY, in_flight: int = 2,
                 frame_timeout_s: float = 30.0, hold: bool = True, ordered: bool = False) -> None:
        """ordered: every image is kept until taken with result(id), in order (a render);
        otherwise the newest wins and older ones are dropped unseen (the window)."""
        codecs.check_codec(codec, quality)
        if not 1 <= in_flight <= 32:
            raise RemoteError(f"in_flight {in_flight}: use 1..32 frames")
        self.host, self.port = parse_address(address)
        self.address = f"{self.host}:{self.port}"
        self.token, self.codec, self.quality = token, codec, quality
        self.in_flight, self.frame_timeout_s, self.hold = in_flight, frame_timeout_s, hold
        self.ordered = ordered
        self._finished: dict[int, Finished] = {}          # ordered: id -> image, until taken
        self._cv = threading.Condition()
        self._send_lock = threading.Lock()
        self._link = None
        self._closed = False
        self.connections = self.received = self.dropped = self.errors = 0
        self.status = "connecting"
        self.timing = {"rtt_ms": 0.0, "render_ms": 0.0, "decode_ms": 0.0, "latency_ms": 0.0}
        self._next_id = 0
        self._sent: dict[int, tuple] = {}                 # id -> (at, sent perf_counter, tag)
        self._error: dict[int, str] = {}                  # id -> server's error text
        self.last_error = ""                              # the server's latest, for submit/poll users
        self.server_stats: dict = {}                      # the server's answer to the last ping
        self._scenes = SceneSender()
        self._answers: dict[tuple, dict] = {}             # ("labels", block) / ("neighbours", ...)
        self._reported_down = False
        link = self._handshake()                          # the first connection is not retried
        self._setup(link)
        self._thread = threading.Thread(target=self._run, args=(link,), daemon=True,
                                        name=f"hambajuba-remote-{self.address}")
        self._thread.start()

    # ---- the engine interface -------------------------------------------------------------
    @property
    def description(self) -> str:
        return f"remote engine {self.address}: {self._hello.get('description', '')}"

    @property
    def is_preview(self) -> bool:
        return bool(self._hello.get("preview", False))

    @property
    def model(self) -> str:
        return str(self._hello.get("model", ""))

    @property
    def n_features(self) -> int:
        return self._means.shape[1]

    labels = None   # the server's, fetched by render.engines.engine_factory on the engine thread

    @property
    def note(self) -> str:
        return "" if self.status == "connected" else self.status

    def feature_mean(self, block: str, fid: int) -> float:
        if block not in BLOCKS:
            raise EngineError("features", f"unknown block {block!r}; blocks are "
                              f"{', '.join(BLOCKS)}")
        if not 0 <= int(fid) < self.n_features:
            raise EngineError(f"block {block}", f"feature id {fid} out of range "
                              f"0..{self.n_features - 1}")
        return float(self._means[BLOCKS.index(block), int(fid)])

    def render(self, frame: FrameParams) -> np.ndarray:
        """Send one frame and wait for its image, (size, size, 4) uint8 (a reused buffer).

        The link down: with hold=True (the window) say so once, then return the
        last image; with hold=False (a render) wait for the link and send the
        frame again, up to frame_timeout_s."""
        try:
            return self._render(frame)
        except RemoteError as e:
            if not self.hold:
                raise
            # the window's worker prints an EngineError's text as it is (other types get
            # their class name and source line added)
            raise EngineError(e.part, e.message) from None

    def _render(self, frame: FrameParams) -> np.ndarray:
        deadline = time.monotonic() + self.frame_timeout_s
        while True:
            wait = HOLD_WAIT_S if self.hold else max(0.0, deadline - time.monotonic())
            fid = self.submit(frame, math.nan, wait_s=wait)
            if fid is not None:
                rgba = self._wait_for(fid, deadline)
                if rgba is not None:
                    return rgba
            if self.hold:
                return self._hold()
            if time.monotonic() >= deadline:
                raise RemoteDisconnected(f"the engine at {self.address} was unreachable for "
                                         f"{self.frame_timeout_s:.0f} s ({self.status})")

    def _wait_for(self, fid: int, deadline: float) -> np.ndarray | None:
        """Its image, or None when the link dropped first; RemoteError on the server's error."""
        with self._cv:
            while fid in self._sent and self._link is not None and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RemoteError(f"no image from {self.address} for "
                                      f"{self.frame_timeout_s:.0f} s")
                self._cv.wait(min(1.0, left))
            error = self._error.pop(fid, None)
            if error is not None:
                raise RemoteError(error)
            if self.ordered and fid in self._finished:
                f = self._held = self.last = self._finished.pop(fid)
                self._last_image = f.rgba
                return f.rgba
            if self._ready is not None and self._ready.id == fid:
                return self._take().rgba
        return None

    def result(self, fid: int) -> np.ndarray | None:
        """ordered: the image of frame `fid` (a ring buffer, valid until the next result),
        waiting up to frame_timeout_s; None when the link dropped before it came (send
        it again); RemoteError with the server's text when it could not render it."""
        return self._wait_for(fid, time.monotonic() + self.frame_timeout_s)

    # ---- the feature browser's questions (the labels and the decoder live on the server) -----
    def fetch_labels(self, timeout: float = 10.0):
        """The server's feature labels as an engine Labels (call off the main thread:
        render.engines.engine_factory does, on the engine thread). Empty blocks where it has none."""
        from .features import labels_from_wire

        keys = [("labels", b) for b in BLOCKS]
        got = self._ask([{"t": "labels", "block": b} for b in BLOCKS], keys, timeout)
        return labels_from_wire({k[1]: got[k] for k in keys}, self.n_features)

    def neighbours(self, block: str, fid: int, k: int = 200,
                   timeout: float = 5.0) -> tuple[list[int], list[float]]:
        """(ids, cosines) of the k features of `block` closest to `fid`, itself first,
        ranked on the server (the decoder stays there)."""
        from .features import neighbours_from_wire

        key = ("neighbours", block, int(fid))
        got = self._ask([{"t": "neighbours", "block": block, "id": int(fid), "k": int(k)}],
                        [key], timeout)
        return neighbours_from_wire(got[key])

    def _ask(self, requests: list[dict], keys: list[tuple], timeout: float) -> dict:
        with self._cv:
            link = self._link
            for key in keys:
                self._answers.pop(key, None)
        if link is None:
            raise RemoteError(f"not connected to {self.address} ({self.status})")
        try:
            with self._send_lock:
                for req in requests:
                    protocol.send(link.sock, req)
        except OSError as e:
            raise RemoteError(f"cannot ask {self.address}: {e}") from None
        end = time.monotonic() + timeout
        with self._cv:
            while not all(k in self._answers for k in keys):
                left = end - time.monotonic()
                if left <= 0 or self._closed:
                    raise RemoteError(f"no answer from {self.address} in {timeout:.0f} s")
                self._cv.wait(left)
            return {k: self._answers.pop(k) for k in keys}

    def close(self) -> None:
        """Say bye and wait (up to 2 s) for the server to close: it frees itself first,
        so an engine restarted right after this finds it free."""
        with self._cv:
            self._closed = True
            link = self._link
            self._cv.notify_all()
        if link is not None:
            try:
                with self._send_lock:
                    protocol.send(link.sock, {"t": "bye", "reason": "client closed"})
            except OSError:
                pass
        self._thread.join(timeout=2.0)   # the link thread reads until the server hangs up
        if link is not None:
            link.sock.close()

    # ---- frames in flight ------------------------------------------------------------------
    @property
    def scenes_sent(self) -> int:
        return self._scenes.sent

    @property
    def lookahead_s(self) -> float:
        """Measured send -> image-decoded time, seconds (EMA)."""
        return self.timing["latency_ms"] / 1e3

    def submit(self, frame: FrameParams, at: float, *, tag=None, wait_s: float = 0.0) -> int | None:
        """Send `frame` for track time `at`; its id, or None (pipe full, or the link down).
        `tag` (anything) comes back on its Finished, e.g. when the caller submitted it."""
        with self._cv:
            end = time.monotonic() + wait_s
            while self._link is None or len(self._sent) + len(self._finished) >= self.in_flight:
                left = end - time.monotonic()
                if self._closed or left <= 0:
                    return None
                self._cv.wait(left)
            link, link_serial = self._link, self.connections
            fid = self._next_id
            self._next_id += 1
            self._sent[fid] = (at, time.perf_counter(), tag)
        try:
            scene_msg = self._scenes.message(frame.scene, link_serial)
        except ProtocolError as e:   # e.g. unreadable album art: the server keeps the last scene
            with self._cv:
                self._sent.pop(fid, None)
            raise RemoteError(f"scene: {e}") from None
        try:
            with self._send_lock:
                if scene_msg is not None:
                    protocol.send(link.sock, scene_msg)
                protocol.send(link.sock, {"t": "frame", "id": fid, "at": float(
                    at if math.isfinite(at) else 0.0), "vec": frame.vec.tobytes()})
        except OSError as e:
            self._drop_link(link, e)
            return None
        return fid

    def poll(self) -> Finished | None:
        """The newest finished frame since the last poll, or None (older ones were dropped)."""
        with self._cv:
            return self._take() if self._ready is not None else None

    def wait(self, timeout: float) -> None:
        """Until a frame finishes, the pipe has room, or the link changes."""
        with self._cv:
            if self._ready is None and (self._link is None or len(self._sent) >= self.in_flight):
                self._cv.wait(timeout)

    # ---- internals: buffers ----------------------------------------------------------------
    def _setup(self, link) -> None:
        self._hello, self._means = link.hello, link.means
        size = int(link.hello.get("size", 0))
        protocol.check_image_shape(size, size)
        self.size = size
        # ring: the caller's (last polled), the newest ready, and one being decoded, + spare
        self._ring = [Finished() for _ in range(max(4, self.in_flight + 2) if self.ordered else 4)]
        self._finished.clear()
        for f in self._ring:
            f.rgba = np.zeros((size, size, 4), dtype=np.uint8)
        self._held: Finished | None = None
        self.last: Finished | None = None     # the image render()/poll() returned last
        self._ready: Finished | None = None
        self._last_image = self._ring[0].rgba

    def _take(self) -> Finished:
        f, self._ready = self._ready, None
        self._held = self.last = f
        self._last_image = f.rgba
        return f

    def _free_slot(self) -> Finished:
        with self._cv:
            busy = (self._held, self._ready, *self._finished.values())
            return next(f for f in self._ring if f not in busy)

    def _hold(self) -> np.ndarray:
        """The link is down: say so once, then keep returning the last image."""
        if not self._reported_down:
            self._reported_down = True
            raise RemoteDisconnected(f"engine disconnected, reconnecting to {self.address}")
        return self._last_image

    # ---- internals: the link thread -----------------------------------------------------------
    def _handshake(self):
        try:
            return connect(self.host, self.port, token=self.token, codec=self.codec,
                           quality=self.quality)
        except RemoteRefused:
            raise
        except (OSError, ProtocolError, Closed) as e:
            raise RemoteError(f"cannot reach the engine server at {self.address} ({e}); "
                              "is `hambajuba serve` running there?") from None

    def _run(self, link) -> None:
        backoff = BACKOFF_S[0]
        while not self._closed:
            if link is None:
                try:
                    link = self._handshake()
                except RemoteError as e:
                    self.status = f"engine disconnected, reconnecting ({e})"
                    time.sleep(backoff)
                    backoff = min(2 * backoff, BACKOFF_S[1])
                    continue
                backoff = BACKOFF_S[0]
            self._attach(link)
            try:
                self._read_loop(link)
            except (OSError, ValueError, ProtocolError, Closed) as e:  # ValueError: closed fd
                self._drop_link(link, e)
            link = None

    def _attach(self, link) -> None:
        with self._cv:
            if self._closed:
                link.sock.close()
                return
            if int(link.hello["size"]) != self.size:   # the server came back at another size
                self._setup(link)
            self._hello, self._means = link.hello, link.means
            self._link = link
            self._scenes.new_link()
            self._reported_down = False
            self.connections += 1
            self.status = "connected"
            self._cv.notify_all()

    def _drop_link(self, link, why) -> None:
        with self._cv:
            if self._link is link:
                self._link = None
                self._sent.clear()          # frames in flight died with the link
                self._finished.clear()      # (ordered: the caller sends them all again)
                if not self._closed:
                    self.status = f"engine disconnected, reconnecting ({why})"
            self._cv.notify_all()
        try:
            link.sock.close()
        except OSError:
            pass

    def _read_loop(self, link) -> None:
        sock = link.sock
        last_heard = time.monotonic()
        pinged = False
        while self._link is link:
            readable, _, _ = select.select([sock], [], [], PING_S / 2)
            now = time.monotonic()
            if readable:
                sock.settimeout(READ_TIMEOUT_S)
                self._on_message(link.reader.read())
                last_heard, pinged = now, False
                continue
            waiting = bool(self._sent) or pinged
            if waiting and now - last_heard > DEAD_AFTER_S:
                raise TimeoutError(f"nothing from the server for {DEAD_AFTER_S:.0f} s")
            if not pinged and now - last_heard > PING_S:
                with self._send_lock:
                    protocol.send(sock, {"t": "stats"})
                pinged = True

    def _on_message(self, msg: dict) -> None:
        kind = msg["t"]
        if kind == "image":
            self._on_image(msg)
        elif kind == "stats":
            self.server_stats = msg
        elif kind in ("labels", "neighbours"):
            key = (kind, msg["block"]) if kind == "labels" else (kind, msg["block"], msg["id"])
            with self._cv:
                if len(self._answers) > 16:         # nobody asked (a late answer): forget them
                    self._answers.clear()
                self._answers[key] = msg
                self._cv.notify_all()
        elif kind == "bye":
            raise Closed(f"the server said bye: {msg.get('reason', '')}")
        else:
            raise ProtocolError(f"unexpected {kind} from the server")

    def _on_image(self, msg: dict) -> None:
        fid = msg["id"]
        with self._cv:
            sent = self._sent.get(fid)
        if sent is None:
            return                                  # from before a reconnection: forget it
        if "error" in msg:
            with self._cv:
                if len(self._error) >= 64:          # nobody waits for those (submit/poll users)
                    self._error.clear()
                self._error[fid] = self.last_error = msg["error"]
                self._sent.pop(fid, None)
                self.errors += 1
                self._cv.notify_all()
            return
        t0 = time.perf_counter()
        slot = self._free_slot()
        if (msg.get("w"), msg.get("h")) != (self.size, self.size):
            raise ProtocolError(f"image {msg.get('w')}x{msg.get('h')}, expected {self.size}")
        codecs.decode_into(msg.get("data", b""), msg.get("codec", ""), slot.rgba)
        done = time.perf_counter()
        slot.id, slot.at, slot.tag, slot.done = fid, sent[0], sent[2], done
        slot.render_ms = float(msg.get("render_ms", 0.0))
        total_ms = 1e3 * (done - sent[1])
        slot.rtt_ms = total_ms - float(msg.get("server_ms", 0.0)) - 1e3 * (done - t0)
        self._measure(slot, total_ms, 1e3 * (done - t0))
        with self._cv:
            self._sent.pop(fid, None)
            if self.ordered:
                self._finished[fid] = slot
                self.received += 1
                self._cv.notify_all()
                return
            if self._ready is not None:
                if self._ready.id > fid:            # a newer one is already waiting
                    self.dropped += 1
                    self._cv.notify_all()
                    return
                self.dropped += 1                   # never polled: the newer one wins
            self._ready = slot
            self.received += 1
            self._cv.notify_all()

    def _measure(self, slot: Finished, total_ms: float, decode_ms: float) -> None:
        t = self.timing
        first = self.received == 0
        for key, value in (("rtt_ms", slot.rtt_ms), ("render_ms", slot.render_ms),
                           ("decode_ms", decode_ms), ("latency_ms", total_ms)):
            t[key] = value if first else t[key] + _EMA * (value - t[key])

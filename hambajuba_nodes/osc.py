"""osc.*: an OSC address as a node, and OSC out.

osc.in reads a wire the control session writes at the start of each frame
(graph_runtime/control/hub.py). osc.out sends one signal to host:port every
frame (Resolume, TouchDesigner or a second hambajuba can follow this track).
"""
from __future__ import annotations

import math

from graph_runtime.control.hub import hub_of
from graph_runtime.control.osc import OscSender, cached_out_host, out_host_refusal, resolve_out_host
from graph_runtime.graph.node import Node, Param, signal

_ADDRESS_LEN = 200


class OscIn(Node):
    type_id = "osc.in"
    family = "control"
    title = "OSC in"
    doc = ("An OSC address as a signal: its first number, held between messages. Listen with "
           "`hambajuba perform --osc PORT`.")
    outputs = (signal("value"),)
    params = (Param("address", "text", "/fader/1", max_len=_ADDRESS_LEN,
                    doc="OSC address, starting with '/'"),)

    def prepare(self, ctx) -> None:
        address = self.p["address"]
        if not address.startswith("/"):
            raise ValueError(f"param 'address' must start with '/', got {address!r}")
        self._w = hub_of(ctx).osc_wire(address)

    def process(self, t: float, dt: float) -> None:
        self.value.v = self._w.v


class OscOut(Node):
    type_id = "osc.out"
    family = "control"
    title = "OSC out"
    doc = ("Sends its input to host:port once a frame as one float at `address` (UDP). "
           "Default host is this machine.")
    inputs = (signal("x"),)
    params = (Param("host", "text", "127.0.0.1", max_len=253, doc="IPv4 address or host name"),
              Param("port", "int", 9001, 1, 65535),
              Param("address", "text", "/hambajuba/out", max_len=_ADDRESS_LEN))

    def prepare(self, ctx) -> None:
        address = self.p["address"]
        if not address.startswith("/") or not address.isascii():
            raise ValueError(f"param 'address' must be ASCII starting with '/', got {address!r}")
        old = getattr(self, "_sender", None)
        if old is not None:
            old.close()
        self._sender, self._hub = None, hub_of(ctx)
        host, port = self.p["host"], self.p["port"]
        refusal = out_host_refusal(host)  # checked before any name lookup
        answer = cached_out_host(host, port) if refusal is None else (None, refusal)
        if answer is None:  # a name lookup can take seconds: never on the window's main
            # thread (there the compile is cached-only: it misses, the plan builder resolves)
            answer = ctx.cached(("osc.out host", host, port), lambda: resolve_out_host(host, port))
        to, why = answer
        if to is None:  # a warning on this node; the rest of the patch plays
            ctx.warn(f"node {self.id}: {why}")
            return
        self._sender = OscSender(to, address)

    def process(self, t: float, dt: float) -> None:
        if self._sender is None or not self._hub.first_send(self.id):
            return  # the window's meter twin of the plan already sent this frame
        x = self.x.v
        self._sender.send(x if math.isfinite(x) else 0.0)

    def __del__(self) -> None:
        sender = getattr(self, "_sender", None)
        if sender is not None:
            sender.close()


NODES = (OscIn, OscOut)

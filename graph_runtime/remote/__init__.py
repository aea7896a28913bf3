"""The engine over a network: `serve` on the GPU machine, RemoteEngine in the window.

Files: protocol (framing, message schema, scene serialisation, HMAC auth),
codec (TurboJPEG / raw RGBA), server (`Server`: one client at a time),
connect (the client's handshake), client (`RemoteEngine`: the engine
interface plus frames in flight), null_engine (a constant image for
benchmarks), proxy (a delaying TCP proxy for the benchmark and tests),
bench (`hambajuba bench remote`). docs/protocol.md has every message.
No torch import here: the server's engine brings it.
"""
from __future__ import annotations

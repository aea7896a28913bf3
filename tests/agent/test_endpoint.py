"""The control endpoint: loopback only, token first, bounded; stale files are detected;
`hambajuba mcp` with no show (or a stale endpoint) runs standalone and answers."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time

import pytest
from agent_helpers import body, mcp_client

from graph_runtime.agent.errors import AgentError
from graph_runtime.agent.link import SocketLink
from graph_runtime.control.endpoint import (
    MAX_CONNECTIONS,
    MAX_REQUEST,
    ControlEndpoint,
    endpoint_path,
    read_endpoint,
    write_endpoint,
)
from graph_runtime.control.inbox import Inbox
from graph_runtime.control.rate_cap import RateCap


@pytest.fixture
def endpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    ep = ControlEndpoint(Inbox()).start()
    yield ep
    ep.close()


def _hello(port: int, token: str) -> tuple[socket.socket, dict]:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(json.dumps({"token": token}).encode() + b"\n")
    return s, json.loads(s.makefile().readline())


def test_the_file_is_private_and_the_socket_loopback(endpoint):
    path = endpoint_path()
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(path.parent).st_mode & 0o077 == 0
    doc, why = read_endpoint()
    assert why == "" and doc["host"] == "127.0.0.1" and doc["port"] == endpoint.port
    assert endpoint._sock.getsockname()[0] == "127.0.0.1"


def test_a_wrong_token_is_refused_before_anything_is_posted(endpoint):
    s, reply = _hello(endpoint.port, "0" * 64)
    assert reply["error"] == "refused"
    assert s.recv(10) == b""  # closed
    with pytest.raises(AgentError) as e:
        SocketLink({"host": "127.0.0.1", "port": endpoint.port, "token": "nope"})
    assert e.value.code == "refused"
    assert endpoint.inbox.posted() == 0 and endpoint.refused >= 2


def test_requests_are_bounded_in_size_count_and_rate(endpoint):
    s, reply = _hello(endpoint.port, endpoint.token)
    assert reply["ok"]
    s.sendall(b"{" + b" " * (MAX_REQUEST + 10))  # no newline: refused by length
    assert json.loads(s.makefile().readline())["error"] == "too_large"
    assert s.recv(10) == b""  # and that connection is closed
    held = [_hello(endpoint.port, endpoint.token)[0] for _ in range(MAX_CONNECTIONS)]
    extra, reply = _hello(endpoint.port, endpoint.token)
    assert reply["error"] == "busy"
    for h in held + [s, extra]:
        h.close()
    cap = RateCap(rate=10, burst=3)
    assert [cap.take() for _ in range(4)] == [True, True, True, False]


def test_a_call_goes_through_the_inbox_and_a_silent_show_is_busy(endpoint, monkeypatch):
    import graph_runtime.control.endpoint as E

    monkeypatch.setattr(E, "CALL_S", 0.3)
    link = SocketLink(read_endpoint()[0])
    reply = link.call("describe_show", {})
    assert reply["error"] == "busy"  # nobody drained the inbox
    key, call, *_ = next(endpoint.inbox.drain())
    assert key == ("agent", 0) and call.op == "describe_show"
    link.close()


def test_a_stale_endpoint_file_is_detected(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    write_endpoint(endpoint_path(), {"version": 1, "host": "127.0.0.1", "port": 9,
                                     "token": "x" * 64, "pid": int(dead)})
    doc, why = read_endpoint()
    assert doc is None and "stale endpoint" in why and dead in why
    write_endpoint(endpoint_path(), {"version": 1, "host": "127.0.0.1", "port": _free_port(),
                                     "token": "x" * 64, "pid": os.getpid()})
    doc, why = read_endpoint()
    assert doc is None and "nothing listens" in why


def test_mcp_falls_back_to_standalone_on_a_stale_endpoint(tmp_path):
    data = tmp_path / "data"
    write_endpoint(data / "hambajuba" / "control" / "mcp.json",
                   {"version": 1, "host": "127.0.0.1", "port": _free_port(), "token": "x" * 64,
                    "pid": 2 ** 22 + 1})

    async def drive():
        t0 = time.monotonic()
        async with mcp_client(data) as c:
            assert time.monotonic() - t0 < 120  # initialize answered (liveness, not speed)
            show = body(await c.call_tool("describe_show", {}))
            assert show["patch"]["title"] == "default" and show["track"] is None
            found = await c.call_tool("search_features", {"query": "glass"})
            assert not found.is_error
            doc = await c.read_resource("hambajuba://patch")
            assert json.loads(doc.contents[0].text)["format"] == "hambajuba.patch"
            docs = await c.read_resource("hambajuba://docs/control")
            assert "OSC" in docs.contents[0].text
            labels = await c.read_resource("hambajuba://features/mid.0")
            assert json.loads(labels.contents[0].text)["labels"]
            no_track = await c.call_tool("analysis_summary", {})
            assert body(no_track)["error"] == "no_track"

    asyncio.run(drive())


def test_mcp_stdout_carries_only_mcp_messages(tmp_path):
    """A raw JSON-RPC initialize on stdin: every stdout line is a JSON-RPC message."""
    from agent_helpers import ROOT, env_for

    hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                        "clientInfo": {"name": "test", "version": "0"}}}
    proc = subprocess.run([sys.executable, "-m", "hambajuba_nodes.cli", "mcp", "--standalone"],
                          input=json.dumps(hello) + "\n", capture_output=True, text=True,
                          env=env_for(tmp_path / "data"), cwd=str(ROOT), timeout=120)
    lines = [json.loads(l) for l in proc.stdout.splitlines() if l.strip()]
    assert lines and all(m.get("jsonrpc") == "2.0" for m in lines)
    assert lines[0]["id"] == 1 and lines[0]["result"]["serverInfo"]["name"] == "hambajuba"
    assert "standalone show" in proc.stderr


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_calls_past_the_rate_are_refused_and_the_rest_answered(endpoint):
    import threading

    stop = threading.Event()

    def main_thread():  # what the show's drain does with each call, minus the show
        while not stop.is_set():
            for _key, call, *_ in endpoint.inbox.drain():
                call.answer({"pong": call.op})
            time.sleep(0.001)

    drainer = threading.Thread(target=main_thread, daemon=True)
    drainer.start()
    link = SocketLink(read_endpoint()[0])
    replies = [link.call("ping", {}) for _ in range(400)]
    stop.set()
    link.close()
    answered = [r for r in replies if "result" in r]
    limited = [r for r in replies if r.get("error") == "rate_limited"]
    assert answered and limited and len(answered) + len(limited) == 400
    assert answered[0] == {"result": {"pong": "ping"}}

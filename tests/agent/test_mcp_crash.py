"""A crash inside a tool is still a structured error: {"error": "internal", "message"}
naming the tool and the fault, never a bare "Error executing tool" an agent cannot read
(scripts/auto_dance.py parses every answer as JSON). The server is the real one, in
process, through the SDK's client."""
from __future__ import annotations

import asyncio
import json
import logging

import pytest

pytest.importorskip("mcp")

from graph_runtime.agent.server import FeatureIndex, build_server  # noqa: E402


class BrokenIndex(FeatureIndex):
    def search(self, query, block, k):
        raise RuntimeError("decoder cache torn")


class NoLink:
    def call(self, op, args):
        raise ConnectionResetError("the show went away")


def test_a_crash_in_a_tool_answers_a_structured_internal_error(caplog):
    from mcp import Client

    from hambajuba_nodes.registry import default_registry

    server = build_server(NoLink(), default_registry(), features=BrokenIndex("preview"))

    async def drive():
        async with Client(server) as c:
            r = await c.call_tool("search_features", {"query": "glass"})
            assert r.is_error
            err = json.loads(r.content[-1].text)
            assert err == {"error": "internal", "message":
                           "search_features failed: RuntimeError: decoder cache torn"}
            r = await c.call_tool("describe_show", {})   # crashes in the link: the SDK caught it
            assert r.is_error
            err = json.loads(r.content[-1].text)
            assert err["error"] == "internal" and "describe_show" in err["message"]

    with caplog.at_level(logging.ERROR):
        asyncio.run(drive())
    assert "decoder cache torn" in caplog.text      # the traceback stays in the server's log

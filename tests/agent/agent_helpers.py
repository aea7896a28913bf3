"""Helpers of the agent tests: a show with the control endpoint, and an MCP client
driving `hambajuba mcp` as a subprocess over stdio (uniquely named: see control_helpers)."""
from __future__ import annotations

import json
import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path

from graph_runtime.graph.patch import Patch

ROOT = Path(__file__).resolve().parents[2]


def sink_patch() -> Patch:
    """Two SAE sinks and a constant: what the tests steer (engine size 128, preview)."""
    p = Patch(meta={"title": "agent test"})
    p.add_node("sae.block", {"block": "down.2.1", "feature_id": 7, "strength": 0.0,
                             "scale_by_mean": False}, node_id="sink")
    p.add_node("sae.block", {"block": "up.0.1", "feature_id": 9, "strength": 10.0,
                             "scale_by_mean": False}, node_id="sink2")
    p.add_node("value.constant", {"value": 0.5}, node_id="knob")
    p.engine.update({"model": "preview", "size": 128})
    return p


def env_for(data_home: Path) -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT), XDG_DATA_HOME=str(data_home),
                HOME=str(data_home.parent), HAMBAJUBA_CACHE=os.environ.get(
                    "HAMBAJUBA_CACHE", str(Path.home() / ".cache" / "hambajuba")))


@asynccontextmanager
async def mcp_client(data_home: Path, *args: str):
    """`hambajuba mcp ARGS` as a subprocess, through the SDK's stdio client."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "hambajuba_nodes.cli", "mcp", *args],
                                   env=env_for(data_home), cwd=str(ROOT))
    async with Client(params, read_timeout_seconds=120) as client:
        yield client


def body(result) -> dict:
    """The JSON object a tool answered (success or refusal)."""
    return json.loads(result.content[-1].text)

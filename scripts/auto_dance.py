"""Auto Dance: an agent loop with no hosted model (docs/agent.md).

Starts `hambajuba mcp` on the demo track, recording a video headless. It adds
one SAE sink of its own; on each section change it searches features for
the next mood word and fades the best one in on the next bar.
"""
import argparse
import asyncio
import json
import os
import sys

from mcp import Client
from mcp.client.stdio import StdioServerParameters

MOODS = ["glass", "amber", "moss", "halo", "tide", "stripe"]  # one word per section, cycled


def answer(result) -> dict:
    doc = json.loads(result.content[-1].text)
    if result.is_error:
        raise RuntimeError(f"{doc['error']}: {doc['message']}")
    return doc


async def dance(out: str, seconds: float, model: str, size: int) -> None:
    server = StdioServerParameters(command=sys.executable, args=[
        "-m", "hambajuba_nodes.cli", "mcp", "--track", "demo", "--record", out,
        "--seconds", str(seconds), "--model", model, "--size", str(size)],
        env=dict(os.environ))  # the SDK passes only a few variables on by default
    async with Client(server, read_timeout_seconds=300) as show:
        sink = answer(await show.call_tool("add_node", {
            "type": "sae.block", "params": {"block": "up.0.1", "strength": 0.0}}))["node"]
        section = None
        while True:
            now = answer(await show.call_tool("describe_show", {}))
            recording = now["engine"].get("recording", {})
            if recording.get("state") in ("done", "failed"):
                break
            if now["section"] is not None and now["section"]["index"] != section:
                section = now["section"]["index"]
                word = MOODS[section % len(MOODS)]
                hits = answer(await show.call_tool("search_features", {"query": word, "k": 3}))
                if hits["results"]:
                    best = hits["results"][0]
                    for param, value in (("block", best["block"]),
                                         ("feature_id", best["feature_id"])):
                        await show.call_tool("set_param", {"node": sink, "param": param,
                                                           "value": value, "quantise": "bar"})
                    fade = answer(await show.call_tool("set_param", {
                        "node": sink, "param": "strength", "value": 8.0,
                        "fade_beats": 4, "quantise": "bar"}))
                    print(f"section {section} at {now['time']:.2f} s: {word!r} -> "
                          f"{best['block']} #{best['feature_id']} ({best['label']}), "
                          f"fading in from {fade['starts_at']:.2f} s", flush=True)
            await asyncio.sleep(0.1)
        print(f"recording {recording['state']}: {recording['frames']} frames in "
              f"{recording['path']}", flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default="auto_dance.mp4")
    p.add_argument("--seconds", type=float, default=40.0)
    p.add_argument("--model", default="auto", choices=("auto", "preview", "sdxl-turbo"))
    p.add_argument("--size", type=int, default=512)
    a = p.parse_args()
    asyncio.run(dance(a.out, a.seconds, a.model, a.size))

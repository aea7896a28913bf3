"""`hambajuba mcp --track demo`: a standalone show analyses the track; the agent reads its
sections and renders a short preview headless (preview model)."""
from __future__ import annotations

import asyncio

import pytest
from agent_helpers import body, mcp_client

pytest.importorskip("mcp")


def test_sections_energy_and_a_rendered_preview_of_the_demo(tmp_path):
    import av

    data = tmp_path / "data"

    async def drive():
        async with mcp_client(data, "--track", "demo", "--model", "preview",
                              "--size", "128") as c:
            for _ in range(600):  # the analysis runs (cached after the first time)
                show = body(await c.call_tool("describe_show", {}))
                if show["analysed"]:
                    break
                await asyncio.sleep(0.5)
            assert show["track"].endswith("mix.flac") and 100 < show["bpm"] < 140
            summary = body(await c.call_tool("analysis_summary", {"start": 0, "end": 40}))
            starts = [s["start"] for s in summary["sections"]]
            assert len(starts) >= 3 and starts[0] == 0.0
            assert 4.0 < starts[1] < 4.7  # the bass enters at bar 2 (4.36 s)
            assert set(summary["energy"]) >= {"drums", "bass", "vocals", "other"}
            assert summary["tension"]["max"] >= summary["tension"]["mean"] >= 0.0
            bad = await c.call_tool("render_preview", {"seconds": 999})
            assert body(bad)["error"] == "bad_argument"
            r = await c.call_tool("render_preview", {"seconds": 1.0})
            assert not r.is_error, r.content
            return body(r)

    made = asyncio.run(drive())
    assert made["frames"] == 15 and made["preview"]
    assert made["path"].startswith(str(data / "hambajuba" / "agent" / "previews"))
    with av.open(made["path"]) as video:
        frames = list(video.decode(video=0))
    assert len(frames) == 15 and frames[0].width == 128

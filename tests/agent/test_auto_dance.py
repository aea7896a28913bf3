"""The Auto Dance example of docs/agent.md renders a video (a few seconds, preview model)."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from agent_helpers import ROOT, env_for

pytest.importorskip("mcp")
SCRIPT = ROOT / "scripts" / "auto_dance.py"


def test_the_docs_show_the_script_as_it_is():
    assert SCRIPT.read_text() in (ROOT / "docs" / "agent.md").read_text()


def test_auto_dance_fades_features_in_on_the_bar_and_writes_a_video(tmp_path):
    import av

    out = tmp_path / "dance.mp4"
    r = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--seconds", "6",
                        "--model", "preview", "--size", "128"], cwd=str(tmp_path),
                       env=env_for(tmp_path / "data"), capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, _first_and_last(r.stderr)
    sections = re.findall(r"section (\d+) at ([\d.]+) s: .* fading in from ([\d.]+) s", r.stdout)
    assert sections and sections[0][0] == "0", r.stdout
    import json

    from hambajuba_nodes.content.demo_track import ensure_demo

    downbeats = json.loads(ensure_demo().truth_path.read_text()).get("downbeats", [])
    for _, at, start in sections:  # each fade starts on a downbeat after the change
        assert float(start) >= float(at)
        if downbeats:
            assert min(abs(float(start) - d) for d in downbeats) < 0.1, (start, downbeats[:6])
    assert "recording done: 90 frames" in r.stdout
    with av.open(str(out)) as video:
        stream = video.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in video.decode(stream)]
    assert len(frames) == 90 and frames[0].shape == (128, 128, 3)
    assert os.path.getsize(out) > 1000


def _first_and_last(stderr: str) -> str:
    """The server's own traceback (first) and the client's (last) of a failed run."""
    at = stderr.find("Traceback")
    head = stderr[max(0, at):max(0, at) + 3000] if at >= 0 else stderr[:1000]
    return head + "\n...\n" + stderr[-2500:]

"""`perform --mcp`: the window opens the control endpoint; `hambajuba mcp` attaches and
plays it; agent edits show in Messages marked "agent", undo works on them, and the
panic key (F12, pressed with xdotool) freezes agent input until pressed again."""
from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import sys
import threading

import pytest
from gui_harness import GradientEngine, run_window_command, step_until, xdo

pytestmark = pytest.mark.gui
pytest.importorskip("mcp")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _client(data):
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    env = dict(os.environ, PYTHONPATH=ROOT, XDG_DATA_HOME=str(data))
    return Client(StdioServerParameters(command=sys.executable,
                                        args=["-m", "hambajuba_nodes.cli", "mcp", "--model",
                                              "preview"], env=env, cwd=ROOT),
                  read_timeout_seconds=120)


def test_an_agent_plays_the_window_and_the_panic_key_freezes_it(make_app, wav, tmp_path,
                                                                monkeypatch):
    from graph_runtime.control.endpoint import endpoint_path

    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    app = make_app(patch_path=os.path.join(ROOT, "patches", "default.patch"),
                   track_path=wav(60.0), engine=lambda: GradientEngine(), mcp=True, autoplay=True)
    assert endpoint_path().exists() and app.agent.endpoint is not None
    assert step_until(app, lambda: app.agent.latest.seq > 0, 60.0)  # frames are shown

    steps: list = []
    press = threading.Event()
    pressed = threading.Event()

    async def drive():
        async with _client(data) as c:
            show = json.loads((await c.call_tool("describe_show", {})).content[0].text)
            steps.append(("show", show))
            r = await c.call_tool("assign_feature", {"sink": "sink_bass", "feature_id": 321})
            steps.append(("assign", r.is_error))
            r = await c.call_tool("get_frame", {"size": 64})
            steps.append(("frame", r.is_error, r.content[0].data if not r.is_error else r))
            r = await c.call_tool("undo", {})
            steps.append(("undo", r.is_error))
            r = await c.call_tool("assign_feature", {"sink": "sink_bass", "feature_id": 322})
            press.set()
            await asyncio.get_running_loop().run_in_executor(None, pressed.wait, 60)
            r = await c.call_tool("assign_feature", {"sink": "sink_bass", "feature_id": 323})
            steps.append(("frozen", r.is_error, r.content[0].text))

    worker = threading.Thread(target=lambda: asyncio.run(drive()))
    worker.start()
    while worker.is_alive():
        app.step()
        if press.is_set() and not pressed.is_set():
            xdo(app, "key", "F12")
            pressed.set()
    worker.join()
    got = {s[0]: s[1:] for s in steps}
    show = got["show"][0]
    assert show["patch"]["title"] == "default" and show["engine"]["state"] == "ready"
    assert got["assign"] == (False,) and got["undo"] == (False,)
    from PIL import Image

    img = Image.open(io.BytesIO(base64.b64decode(got["frame"][1])))
    assert not got["frame"][0] and img.size == (64, 64)
    assert got["frozen"][0] and json.loads(got["frozen"][1])["error"] == "frozen"
    assert app.model.param_value("sink_bass", "feature_id") == 322  # 321 undone, 323 refused
    app.step(3)
    texts = [m[-1] for m in app.messages]  # (time, level, text)
    assert any("agent: assigned feature 321" in t for t in texts)
    assert any("agent: frozen" in t for t in texts)
    xdo(app, "key", "F12")
    assert not app.agent.desk.frozen  # the performer hands control back
    app.close()
    assert not endpoint_path().exists()


def test_perform_mcp_prints_the_client_configuration(display, wav, tmp_path):
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"),
               HAMBAJUBA_CONFIG=str(tmp_path / "config"))
    r = run_window_command([sys.executable, "-m", "hambajuba_nodes.cli", "perform", wav(3.0),
                            "--mcp", "--no-engine", "--null-audio", "--synthetic-analysis",
                            "--quit-after", "1"], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    config = json.loads(r.stdout[r.stdout.index("{"):r.stdout.rindex("}") + 1])
    server = config["mcpServers"]["hambajuba"]
    assert "mcp" in server["args"]
    assert not (tmp_path / "data" / "hambajuba" / "control" / "mcp.json").exists()  # removed

"""The web surface in the real window: `perform --web` starts it with
the window, the join card shows the URL and its QR code, a phone's fader
reaches the window's patch through the same inbox (undo sees it), and the
Stage menu's entry stops and starts it on the address chosen in the menu."""
from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request

import dearpygui.dearpygui as dpg
import pytest

from graph_runtime.graph import patch as P

pytestmark = pytest.mark.gui
TOKEN = b"window-web-token-0123456789"


def step_until(app, cond, timeout=20.0):
    """(conftest's, kept here: `conftest` is ambiguous when test folders run together)"""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.step()
        if cond():
            return True
    return False


def pinned(tmp_path):
    p = P.Patch()
    p.add_node("sae.block", {"block": "down.2.1", "feature_id": 7, "strength": 0.0,
                             "scale_by_mean": False}, (40.0, 40.0), node_id="sink")
    p.meta["perform"] = [["sink", "strength"]]
    path = tmp_path / "pinned.patch"
    P.save(p, path)
    return str(path)


def phone(url: str, messages: list, out: dict) -> None:
    import aiohttp

    async def go():
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.get(url) as r:  # the join URL: page + cookie
                out["page"] = r.status
            async with http.get(url.split("/?")[0] + "/api/controls") as r:
                out["controls"] = await r.json()
            async with http.ws_connect(url.split("/?")[0].replace("http", "ws") + "/ws") as ws:
                for m in messages:
                    await ws.send_str(json.dumps(m))
                out["status"] = json.loads((await ws.receive(timeout=10)).data)

    asyncio.run(go())


def test_perform_web_in_the_window(make_app, tmp_path):
    app = make_app(patch_path=pinned(tmp_path), web="127.0.0.1:0", web_token=TOKEN)
    app.step(5)
    web = app.stage.web
    assert web.surface is not None, app.last_status()
    url = web.surface.join_url
    assert url.startswith("http://127.0.0.1:") and url.endswith(f"/?token={TOKEN.decode()}")
    card = web.card
    assert card.window is not None and dpg.does_item_exist(card.texture)
    assert dpg.get_value(dpg.get_item_children(card.window, 1)[0]) == url
    assert dpg.get_item_width(card.texture) >= 21 * 5  # a QR code: at least 21 modules of 5 px

    out: dict = {}
    t = threading.Thread(target=phone, args=(url, [{"op": "set", "node": "sink", "param": "strength",
                                                    "x": 0.75}], out), daemon=True)
    t.start()
    assert step_until(app, lambda: not t.is_alive() and app.model.param_value("sink", "strength") != 0)
    assert out["page"] == 200 and [f["param"] for f in out["controls"]["faders"]] == ["strength"]
    assert app.model.param_value("sink", "strength") == pytest.approx(200.0)  # -400..400 at 0.75
    assert app.model.undo() and app.model.param_value("sink", "strength") == 0.0

    # the stage's problems reach the page's status line
    taken = web.surface.port  # MJPEG asked onto the web's port: refused, said in one line
    assert app.stage.serve(f"127.0.0.1:{taken}") is not None
    assert step_until(app, lambda: any("in use" in p for p in web.surface.board.status[1]["problems"]))

    # Record from the phone: the window's own recorder starts (and stops)
    app.stage._record_dir = str(tmp_path)
    out2: dict = {}
    t = threading.Thread(target=phone, args=(url, [{"op": "record", "on": True}], out2), daemon=True)
    t.start()
    assert step_until(app, lambda: app.stage.recorder.recording), app.last_status()
    assert step_until(app, lambda: not t.is_alive())
    assert app.stage.recorder.path.startswith(str(tmp_path))
    t = threading.Thread(target=phone, args=(url, [{"op": "record", "on": False}], {}), daemon=True)
    t.start()
    assert step_until(app, lambda: not app.stage.recorder.recording and not t.is_alive(), 30)

    port = web.surface.port
    web.toggle()  # the Stage menu's entry: stop
    app.step(2)
    assert web.surface is None and card.window is None
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
    web._set_address("127.0.0.1:0")  # the menu's address field
    web.toggle()  # and start again
    app.step(2)
    assert web.surface is not None and web.surface.port != 0

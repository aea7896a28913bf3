"""`hambajuba mcp` attached to a running show: the show (the headless show the window's
per-frame path runs, ticked on its own thread) opens the control endpoint the way
`perform --mcp` does; the test drives `hambajuba mcp` with the SDK's client over stdio."""
from __future__ import annotations

import asyncio
import base64
import io
import threading

import pytest
from agent_helpers import body, mcp_client, sink_patch

from graph_runtime.agent.standalone import StandaloneShow
from graph_runtime.analysis.store import synthetic
from graph_runtime.control.endpoint import ControlEndpoint, endpoint_path

pytest.importorskip("mcp")


@pytest.fixture
def running_show(tmp_path, monkeypatch):
    """120 BPM synthetic track (a downbeat every 2 s), preview engine at 128 px."""
    from graph_runtime.render.engines import create_engine
    from graph_runtime.show.headless_show import HeadlessShow
    from hambajuba_nodes.registry import default_registry

    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    analysis = synthetic(600.0)
    show = HeadlessShow(sink_patch(), registry=default_registry(), analysis=analysis, fps=30.0)
    host = StandaloneShow(show, engine_factory=lambda: create_engine(  # as `hambajuba mcp` does
        "preview", 128, "cpu", compile="none", warmup=False), fps=30.0)
    host.duration = analysis.duration
    log: list[tuple[float, float]] = []  # (track time, sink strength) at each change
    lock = threading.Lock()

    def seen(change):
        with lock:
            log.append((show.control.t, show.model.param_value("sink", "strength")))

    show.model.listeners.append(seen)
    endpoint = ControlEndpoint(show.control.inbox).start()
    assert endpoint_path() == data / "hambajuba" / "control" / "mcp.json"
    host.start()
    host.log = log
    yield host, data
    endpoint.close()
    host.stop()
    assert not endpoint_path().exists()  # the show removes its endpoint file


def test_an_agent_plays_the_running_show(running_show):
    host, data = running_show
    model = host.show.model

    async def drive():
        async with mcp_client(data, "--model", "preview") as c:
            names = {t.name for t in (await c.list_tools()).tools}
            assert {"describe_show", "search_features", "assign_feature", "set_param",
                    "recall_scene", "store_scene", "add_node", "link", "get_frame",
                    "analysis_summary", "render_preview", "release_agent", "undo"} <= names

            show = body(await c.call_tool("describe_show", {}))
            assert show["patch"]["title"] == "agent test" and show["analysed"]
            assert {n["id"] for n in show["nodes"]} == {"sink", "sink2", "knob"}
            assert show["param_specs"]["sae.block"]["feature_id"]["max"] == 5119

            found = body(await c.call_tool("search_features", {"query": "glass", "k": 5}))
            assert found["results"] and found["preview"]
            hit = found["results"][0]
            assert "glass" in hit["label"] and hit["neighbours"]
            none = await c.call_tool("search_features", {"query": "zzzqqq"})
            assert not none.is_error and body(none)["results"] == []

            r = await c.call_tool("assign_feature", {"sink": "sink", "slot": hit["block"],
                                                     "feature_id": hit["feature_id"]})
            assert not r.is_error, r.content
            assert model.param_value("sink", "feature_id") == hit["feature_id"]
            assert any(m.startswith("agent: assigned") for m in host.show.control.reports)

            r = body(await c.call_tool("set_param", {"node": "sink", "param": "strength",
                                                     "value": 80.0, "fade_beats": 2,
                                                     "quantise": "bar"}))
            start = r["starts_at"]
            assert start > r["now"] and start % 2.0 == pytest.approx(0.0, abs=1e-6)
            await _until(lambda: model.param_value("sink", "strength") == 80.0, 15.0)
            moves = [(t, v) for t, v in host.log if v not in (None, 0.0)]
            assert moves[0][0] >= start - 1e-6  # nothing moved before the downbeat
            assert moves[0][0] < start + 0.5 and moves[0][1] < 40.0  # it starts there, low
            assert [v for _, v in moves] == sorted(v for _, v in moves)  # and rises to 80

            frame = await _frame(c, 96)
            from PIL import Image

            img = Image.open(io.BytesIO(base64.b64decode(frame.content[0].data)))
            assert frame.content[0].mime_type == "image/png" and img.size == (96, 96)
            img.verify()

            r = body(await c.call_tool("undo", {}))  # the fade was one undo step
            assert r["undone"] == "set strength" and model.param_value("sink", "strength") == 0.0
            r = body(await c.call_tool("undo", {}))
            assert model.param_value("sink", "feature_id") == 7  # the assignment is undone

            assert not (await c.call_tool("release_agent", {})).is_error
            refused = await c.call_tool("set_param", {"node": "sink", "param": "strength",
                                                      "value": 5.0})
            assert refused.is_error and body(refused)["error"] == "frozen"
            assert model.param_value("sink", "strength") == 0.0
            host.desk.enable()  # the performer hands control back
            again = await c.call_tool("set_param", {"node": "sink", "param": "strength",
                                                    "value": 5.0})
            assert not again.is_error and model.param_value("sink", "strength") == 5.0

    asyncio.run(drive())


BAD = [
    ("set_param", {"node": "nope", "param": "strength", "value": 1.0}, "not_found"),
    ("set_param", {"node": "sink", "param": "strength", "value": 1e9}, "bad_argument"),
    ("set_param", {"node": "sink", "param": "strength", "value": 1.0, "quantise": "soon"},
     "bad_argument"),
    ("set_param", {"node": "sink", "param": "strength", "value": 1.0, "fade_beats": -1},
     "bad_argument"),
    ("assign_feature", {"sink": "sink", "feature_id": 99999}, "bad_argument"),
    ("assign_feature", {"sink": "knob", "feature_id": 3}, "not_found"),
    ("recall_scene", {"name": "missing"}, "not_found"),
    ("add_node", {"type": "no.such.type"}, "bad_argument"),
    ("add_node", {"type": "value.constant", "params": {"value": "loud"}}, "bad_argument"),
    ("link", {"from_": "knob.out", "to": "sink.mask"}, "refused"),
    ("link", {"from_": "knob", "to": "sink.strength"}, "bad_argument"),
    ("get_frame", {"size": 5}, "bad_argument"),
    ("analysis_summary", {"start": 5.0, "end": 1.0}, "bad_argument"),
    ("search_features", {"query": "glass", "k": 0}, "bad_argument"),
    ("search_features", {"query": "glass", "block": "down.9"}, "bad_argument"),
]


def test_bad_arguments_are_structured_errors_not_tracebacks(running_show):
    host, data = running_show
    before = host.show.model.revision

    async def drive():
        async with mcp_client(data, "--model", "preview") as c:
            for tool, args, code in BAD:
                r = await c.call_tool(tool, args)
                assert r.is_error, (tool, args)
                err = body(r)
                assert err["error"] == code and err["message"], (tool, args, err)
                assert "Traceback" not in err["message"]
            r = await c.call_tool("assign_feature", {"sink": "sink", "feature_id": "abc"})
            err = body(r)  # the SDK's schema check, in the same shape
            assert r.is_error and err["error"] == "bad_argument"
            assert err["message"].startswith("assign_feature: feature_id: ")
            r = await c.call_tool("set_param", {"node": "sink", "param": "strength"})
            assert body(r)["error"] == "bad_argument" and "value" in body(r)["message"]
            ok = body(await c.call_tool("add_node", {"type": "value.constant",
                                                     "params": {"value": 0.25}}))
            linked = await c.call_tool("link", {"from_": f"{ok['node']}.out",
                                                "to": "sink.strength"})
            assert not linked.is_error
            summary = body(await c.call_tool("analysis_summary", {"start": 0, "end": 8}))
            assert summary["downbeats"][:2] == [0.0, 2.0] and summary["beats"] == 16

    asyncio.run(drive())
    assert host.show.model.revision == before + 2  # only the good add and link changed it
    assert host.show.model.link_into(("sink", "strength")) is not None


async def _frame(c, size: int):
    """get_frame, asking again while the engine loads (a generous liveness deadline)."""
    for _ in range(600):
        frame = await c.call_tool("get_frame", {"size": size})
        if not frame.is_error:
            return frame
        assert body(frame)["error"] == "no_engine" and "loading" in body(frame)["message"]
        await asyncio.sleep(0.5)
    raise AssertionError("the engine never came up")


async def _until(cond, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.05)

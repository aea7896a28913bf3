"""The main thread's side: agent calls drained from the control inbox like OSC, param
fades on the beat grid, the freeze. Driven frame by frame through the headless show."""
from __future__ import annotations

import pytest
from agent_helpers import sink_patch

from graph_runtime.agent.desk import AgentDesk, Call
from graph_runtime.analysis.store import synthetic
from graph_runtime.show.headless_show import HeadlessShow
from hambajuba_nodes.registry import default_registry


class Host:
    def __init__(self, show):
        self.model, self.registry, self.track = show.model, show.registry, None

    def engine_info(self):
        return {"state": "off"}

    def frame(self):
        return None


@pytest.fixture
def show():
    """120 BPM: a beat every 0.5 s, a downbeat every 2 s."""
    s = HeadlessShow(sink_patch(), registry=default_registry(), analysis=synthetic(20.0))
    s.desk = AgentDesk(s.control, Host(s))
    return s


def call(show, t, op, **args):
    """Post like an endpoint connection, then run the frame that drains it."""
    c = Call(op, args)
    assert show.control.inbox.post(("agent", 0), c)
    show.tick(t)
    assert c.done.is_set()
    return c


def strength(show):
    return show.model.param_value("sink", "strength")


def test_a_fade_on_the_bar_is_exact_on_the_grid_and_one_undo_step(show):
    c = call(show, 0.3, "set_param", node="sink", param="strength", value=80.0,
             fade_beats=2.0, quantise="bar")
    assert c.error is None and c.result["starts_at"] == 2.0
    for t in (0.5, 1.0, 1.99):
        show.tick(t)
        assert strength(show) == 0.0  # nothing before the downbeat
    show.tick(2.0)
    assert strength(show) == 0.0  # p = 0 on the downbeat
    show.tick(2.5)
    assert strength(show) == pytest.approx(40.0)  # one of two beats
    show.tick(3.0)
    assert strength(show) == 80.0 and not show.desk.fades
    assert show.model.undo() and strength(show) == 0.0
    assert any(r.startswith("agent: set sink.strength") for r in show.control.reports)


def test_switches_land_at_the_start_and_a_new_fade_replaces_the_old(show):
    call(show, 0.1, "set_param", node="sink", param="feature_id", value=42, quantise="beat")
    assert show.model.param_value("sink", "feature_id") == 7
    show.tick(0.5)
    assert show.model.param_value("sink", "feature_id") == 42
    call(show, 0.6, "set_param", node="sink", param="strength", value=10.0, fade_beats=4)
    call(show, 0.7, "set_param", node="sink", param="strength", value=20.0, fade_beats=4)
    assert len(show.desk.fades) == 1 and show.desk.fades[0].target == 20.0


def test_the_freeze_refuses_calls_and_stops_fades_and_agent_recalls(show):
    show.control.store_scene("loud")
    show.model.set_param("sink", "strength", 0.0)
    call(show, 0.1, "set_param", node="sink2", param="strength", value=100.0, fade_beats=8)
    call(show, 0.2, "recall_scene", name="loud", fade=8, quantise="now")
    assert show.control.fade is not None and show.desk.fades
    show.desk.freeze()
    assert show.control.fade is None and not show.desk.fades
    c = call(show, 1.0, "describe_show")
    assert c.error["error"] == "frozen"
    held = show.model.param_value("sink2", "strength")
    show.tick(5.0)
    assert show.model.param_value("sink2", "strength") == held  # stopped where it was
    show.desk.enable()
    assert call(show, 5.1, "ping").result == {"ok": True, "frozen": False}


def test_unknown_calls_and_bad_argument_names_are_refused_not_raised(show):
    assert call(show, 0.0, "rm_rf").error["error"] == "not_found"
    assert call(show, 0.0, "set_param", node="sink", colour="red").error["error"] == "bad_argument"
    c = Call("describe_show")
    show.control.agent = None  # a show that takes no agent calls
    show.control.inbox.post(("agent", 1), c)
    show.tick(0.1)
    assert c.error["error"] == "unavailable"

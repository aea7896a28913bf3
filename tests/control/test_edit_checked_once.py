"""An edit is checked once, where it enters the show; the layers inside trust it.

Counts Param.check on the paths users take: a typed value or a slider (the
document, EditorModel.set_param) and an OSC message (routes.set_param,
through the same inbox the listener posts into), each followed by the frame
that applies it to the running plan and its meter twin."""
import pytest
from control_helpers import strength

from graph_runtime.graph.node import Param


@pytest.fixture
def checks(monkeypatch):
    calls = []
    real = Param.check

    def counted(self, value):
        calls.append((self.name, value))
        return real(self, value)

    monkeypatch.setattr(Param, "check", counted)
    return calls


def test_a_typed_value_is_checked_once_on_its_way_to_the_frame(show, checks):
    for i in range(3):
        show.tick(i / 60, lookahead=0.5)  # a slow engine: the meter twin is compiled and runs too
    assert show.live.monitor is not None
    checks.clear()
    assert show.model.set_param("sink", "strength", 12.5) is None
    assert strength(show.tick(3 / 60, lookahead=0.5)) == 12.5
    assert checks == [("strength", 12.5)]


def test_an_osc_value_is_checked_once_by_its_route(show, checks):
    show.tick(0.0)
    checks.clear()
    show.control.inbox.post_osc("/hambajuba/sink/strength", (7.0,))
    assert strength(show.tick(1 / 60)) == 7.0
    assert checks == []  # the route's coerce checked and clamped it; nothing inside asks again
    show.control.inbox.post_osc("/hambajuba/sink/block", ("up.0.1",))
    show.tick(2 / 60)
    assert show.model.param_value("sink", "block") == "up.0.1"
    assert checks == []


def test_a_refused_value_still_says_what_and_where(show):
    assert show.model.set_param("sink", "strength", "loud") == "sink.strength: expected a number, got str"
    assert show.model.set_param("sink", "loudness", 1.0) == "sae.block has no param 'loudness'"
    show.control.inbox.post_osc("/hambajuba/sink/strength", ("loud",))
    show.tick(0.0)
    assert any("OSC /hambajuba/sink/strength: expected a number, got str; ignored" in r
               for r in show.control.reports)

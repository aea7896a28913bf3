"""The web surface's messages on the HTTP loop's side (control/web.py): any JSON
a stranger with the token sends is refused or posted, never raised, and only
names the patch has take an inbox slot."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from graph_runtime.control.inbox import Inbox
from graph_runtime.control.web import WebInput

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
OPS = st.sampled_from(["set", "scene", "tap", "nudge", "tempo", "downbeat", "assign", "record",
                       "view", "transport", "nope"])
KEYS = ("node", "param", "x", "name", "when", "beats", "dir", "factor", "block", "feature", "on",
        "what")


def web_input() -> WebInput:
    inp = WebInput(Inbox(capacity=64))
    inp.faders = frozenset({("knob", "value")})
    inp.scenes = frozenset({"calm"})
    inp.sinks = frozenset({"sink"})
    inp.blocks = ("down.2.1",)
    return inp


@settings(max_examples=400, deadline=None)
@given(op=OPS, fields=st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6))
def test_any_message_is_taken_or_refused_never_raised(op, fields):
    inp = web_input()
    inp.take(json.dumps({"op": op, **fields}))
    keys = {k for k in inp.inbox.keys[: inp.inbox.n]}
    allowed = {("web", "set", "knob", "value"), ("web", "scene"), ("web", "tap"), ("web", "nudge"),
               ("web", "tempo"), ("web", "downbeat"), ("web", "assign"), ("web", "record"),
               ("web", "view"), ("web", "transport")}
    assert keys <= allowed
    assert inp.taken + inp.unknown + inp.malformed == 1


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=64) | st.binary(max_size=64).map(lambda b: b.decode("latin-1")))
def test_any_text_is_taken_or_refused_never_raised(text):
    inp = web_input()
    inp.take(text)
    assert inp.taken + inp.unknown + inp.malformed == 1


def test_a_fader_position_is_clamped_and_coalesces_into_one_slot():
    inp = web_input()
    for x in (0.2, 7.0, -3.0):
        assert inp.take(json.dumps({"op": "set", "node": "knob", "param": "value", "x": x}))
    assert inp.inbox.n == 1 and inp.inbox.values[0] == 0.0
    assert not inp.take('{"op": "set", "node": ["knob"], "param": "value", "x": 1}')
    assert not inp.take('{"op": "set", "node": "knob", "param": "value", "x": NaN}')
    assert inp.inbox.n == 1

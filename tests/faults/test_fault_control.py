"""The fault battery, control side: hypothesis-driven OSC messages (any types,
any addresses, raw junk), MIDI message streams and .patch documents thrown at
a running show (the window's per-frame path, HeadlessShow). Each case ends
with the show still running and nothing lost: a known control still lands,
and the document still round-trips."""
from __future__ import annotations

import json
import math

import mido
import pytest
from fault_helpers import settle, stage_patch, strength
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pythonosc.osc_message_builder import OscMessageBuilder

from graph_runtime.control.midi import MidiHandler, RelativeMap
from graph_runtime.control.osc import OscListener
from graph_runtime.graph import patch as P
from graph_runtime.show.headless_show import HeadlessShow
from hambajuba_nodes.registry import default_registry

FUZZ = settings(max_examples=50, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture(scope="module")
def show():
    return HeadlessShow(stage_patch(), registry=default_registry())


@pytest.fixture(scope="module")
def osc(show):
    listener = OscListener(show.control.inbox, "127.0.0.1", 0).start()
    yield listener
    listener.stop()


def _still_plays(show, t: float) -> None:
    """A known control lands on the next frame; the document round-trips."""
    show.model.set_param("sink", "strength", 3.0)
    assert strength(show.tick(t)) == 3.0
    again = P.loads(P.dumps(show.model.patch))
    assert [n.id for n in again.nodes] == [n.id for n in show.model.patch.nodes]


osc_args = st.lists(st.one_of(
    st.integers(-2**31, 2**31 - 1), st.floats(width=32), st.text(max_size=40),
    st.binary(max_size=64), st.booleans(), st.none()), max_size=6)
osc_addresses = st.one_of(
    st.text(min_size=1, max_size=60).map(lambda s: "/" + s.replace("\0", "")),
    st.tuples(st.sampled_from(["sink", "knob", "range", "sink2", "scene", "transport", "tap",
                               "nudge", "ghost", ""]),
              st.text(max_size=12).map(lambda s: s.replace("\0", ""))).map(
        lambda p: f"/hambajuba/{p[0]}/{p[1]}"))


def _datagram(address: str, args: list) -> bytes | None:
    try:
        b = OscMessageBuilder(address)
        for a in args:
            b.add_arg(a)
        return b.build().dgram
    except Exception:   # the builder refuses some (non-ASCII addresses): nothing to send
        return None


@FUZZ
@given(messages=st.lists(st.tuples(osc_addresses, osc_args), min_size=1, max_size=20),
       junk=st.lists(st.binary(max_size=200), max_size=3))
def test_any_osc_leaves_the_show_running(show, osc, messages, junk):
    import socket

    sent, before = 0, osc.received
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for address, args in messages:
            dgram = _datagram(address, args)
            if dgram is not None:
                s.sendto(dgram, ("127.0.0.1", osc.port))
                sent += 1
        for j in junk:
            s.sendto(j, ("127.0.0.1", osc.port))
            sent += 1
    settle(osc, before + sent)
    show.tick(0.1)
    _still_plays(show, 0.2)
    assert show.control.inbox.n <= 64          # strangers' addresses took no slots


midi_messages = st.one_of(
    st.builds(lambda c, n, v: mido.Message("control_change", channel=c, control=n, value=v),
              st.integers(0, 15), st.integers(0, 127), st.integers(0, 127)),
    st.builds(lambda c, n, v: mido.Message("note_on", channel=c, note=n, velocity=v),
              st.integers(0, 15), st.integers(0, 127), st.integers(0, 127)),
    st.builds(lambda c, n: mido.Message("note_off", channel=c, note=n),
              st.integers(0, 15), st.integers(0, 127)),
    st.builds(lambda c, p: mido.Message("pitchwheel", channel=c, pitch=p),
              st.integers(0, 15), st.integers(-8192, 8191)),
    st.builds(lambda d: mido.Message("sysex", data=d), st.lists(st.integers(0, 127), max_size=32)),
    st.builds(lambda c, p: mido.Message("program_change", channel=c, program=p),
              st.integers(0, 15), st.integers(0, 127)),
    st.sampled_from([mido.Message("clock"), mido.Message("start"), mido.Message("stop"),
                     mido.Message("reset")]),
)


@FUZZ
@given(stream=st.lists(midi_messages, max_size=200))
def test_any_midi_stream_leaves_the_show_running(show, stream):
    handler = MidiHandler(show.control.inbox, "fuzz port", RelativeMap())
    for msg in stream:
        handler(msg)                            # what the port's callback thread does
    show.tick(0.3)
    handler(mido.Message("control_change", channel=0, control=21, value=127))
    assert strength(show.tick(0.4)) == pytest.approx(100.0)    # the bound CC still plays
    _still_plays(show, 0.5)


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**9, 10**9),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8)


@st.composite
def patch_documents(draw):
    """The stage patch's JSON with fields removed, replaced or added at random."""
    doc = json.loads(P.dumps(stage_patch()))
    for _ in range(draw(st.integers(1, 6))):
        where = draw(st.sampled_from(["top", "node", "param", "link", "binding"]))
        if where == "top":
            key = draw(st.sampled_from(sorted(doc) + ["extra"]))
            if draw(st.booleans()):
                doc.pop(key, None)
            else:
                doc[key] = draw(json_values)
        elif where == "node" and isinstance(doc.get("nodes"), list) and doc["nodes"]:
            node = draw(st.sampled_from(doc["nodes"]))
            if isinstance(node, dict):
                node[draw(st.sampled_from(["id", "type", "params", "pos"]))] = draw(json_values)
        elif where == "param" and isinstance(doc.get("nodes"), list) and doc["nodes"]:
            node = draw(st.sampled_from(doc["nodes"]))
            if isinstance(node, dict) and isinstance(node.get("params"), dict):
                name = draw(st.sampled_from(sorted(node["params"]) + ["zz"]))
                node["params"][name] = draw(json_values)
        elif where == "link" and isinstance(doc.get("links"), list) and doc["links"]:
            doc["links"][0] = draw(json_values)
        elif where == "binding" and isinstance(doc.get("bindings"), list):
            doc["bindings"].append(draw(json_values))
    return json.dumps(doc)


@FUZZ
@given(text=patch_documents())
def test_any_patch_document_opened_mid_show_leaves_it_running(show, text):
    before = P.dumps(show.model.patch)
    try:
        patch = P.loads(text, "fuzz.patch")
    except P.PatchError:
        assert P.dumps(show.model.patch) == before     # refused: nothing lost
        show.tick(0.6)
        return
    show.model.replace(patch)                           # what File > Open does
    show.tick(0.6)                                      # compile problems are shown, not raised
    show.tick(0.7)
    show.model.replace(stage_patch())
    _still_plays(show, 0.8)
    assert math.isfinite(strength(show.tick(0.9)))

"""MIDI through the real handler: a fake mido backend feeds MidiInputs' ports
exactly as rtmidi would (a callback on another thread), into a headless show
that takes the window's per-frame path."""
import math

import hbj_fake_midi as fake
import mido
import pytest
from control_helpers import strength

from graph_runtime.control.midi import MidiError, MidiInputs

PORT = "Fake Keys 20:0"


@pytest.fixture
def keys(show):
    fake.NAMES[:] = [PORT]
    midi = MidiInputs(show.control.inbox, show.control.relative, backend_name="hbj_fake_midi")
    midi.open("Fake Keys")  # the ALSA client:port suffix may differ
    yield midi
    midi.stop()
    fake.NAMES.clear()


def cc(control, value, channel=0):
    return mido.Message("control_change", channel=channel, control=control, value=value)


def bind(show, **fields):
    raw = {"source": "cc", "channel": 0, "control": 21, "node": "sink", "param": "strength",
           "min": 0.0, "max": 100.0, **fields}
    _, reason = show.model.apply("bind", lambda p: p.bindings.append(raw))
    assert reason is None


def test_learn_then_the_control_moves_the_param(show, keys):
    show.tick(0.0)
    show.control.arm_learn()
    show.model.set_param("sink", "strength", 3.0)  # the user touches the param in the window
    assert show.control.learn_target == ("sink", "strength")
    fake.send(PORT, cc(21, 5))
    show.tick(0.02)
    b = show.control.bindings_for("sink", "strength")
    assert len(b) == 1 and (b[0].source, b[0].control, b[0].channel) == ("cc", 21, 0)
    assert not show.control.learning
    fake.send(PORT, cc(21, 127))
    frame = show.tick(0.04)
    assert strength(frame) == 400.0  # learned with the param's own range, -400..400
    assert show.model.undo()  # the CC move is one undo step...
    assert show.model.patch.bindings  # ...and the learn another
    assert show.model.undo()
    assert not show.model.patch.bindings


@pytest.mark.parametrize("curve,expect", [("lin", 50.0), ("log", 100.0 * math.log10(5.5)),
                                          ("exp", 100.0 * (math.sqrt(10.0) - 1.0) / 9.0)])
def test_curves_through_the_handler(show, keys, curve, expect):
    bind(show, curve=curve)
    show.tick(0.0)
    fake.send(PORT, cc(21, 0), cc(21, 127))
    assert strength(show.tick(0.02)) == 100.0
    fake.send(PORT, cc(21, 0))
    assert strength(show.tick(0.04)) == 0.0
    fake.send(PORT, mido.Message("pitchwheel", channel=0, pitch=0))  # not bound: nothing moves
    assert strength(show.tick(0.06)) == 0.0
    show.control.edit_binding(0, source="pitchbend")
    fake.send(PORT, mido.Message("pitchwheel", channel=0, pitch=0))  # the middle, x = 8192/16383
    got = strength(show.tick(0.08))
    x = 8192 / 16383
    from graph_runtime.control.mapping import shape
    assert got == pytest.approx(100.0 * shape(curve, x), abs=1e-3)
    assert abs(100.0 * shape(curve, 0.5) - expect) < 1e-9


def test_jump_follows_at_once(show, keys):
    bind(show, takeover="jump")
    show.model.set_param("sink", "strength", 80.0)
    show.tick(0.0)
    fake.send(PORT, cc(21, 0))
    assert strength(show.tick(0.02)) == 0.0


def test_pickup_waits_until_the_control_crosses_the_value(show, keys):
    bind(show, takeover="pickup")
    show.model.set_param("sink", "strength", 50.0)  # sits at x = 0.5
    show.tick(0.0)
    fake.send(PORT, cc(21, 10))
    assert strength(show.tick(0.02)) == 50.0  # far below: nothing
    fake.send(PORT, cc(21, 40))
    assert strength(show.tick(0.04)) == 50.0  # still below
    fake.send(PORT, cc(21, 70))  # crossed 63.5 between frames: caught
    assert strength(show.tick(0.06)) == pytest.approx(100.0 * 70 / 127)
    fake.send(PORT, cc(21, 20))
    assert strength(show.tick(0.08)) == pytest.approx(100.0 * 20 / 127)
    show.model.set_param("sink", "strength", 90.0)  # the mouse moves it: catch it again
    fake.send(PORT, cc(21, 30))
    assert strength(show.tick(0.10)) == 90.0


@pytest.mark.parametrize("style,up,down", [("twos", 3, 125), ("offset", 67, 61)])
def test_relative_encoders_in_both_styles(show, keys, style, up, down):
    bind(show, takeover="relative", relative=style, min=0.0, max=127.0)
    show.model.set_param("sink", "strength", 10.0)
    show.tick(0.0)
    fake.send(PORT, cc(21, up), cc(21, up))  # two messages in one frame: both count
    assert strength(show.tick(0.02)) == pytest.approx(16.0)
    fake.send(PORT, cc(21, down))
    assert strength(show.tick(0.04)) == pytest.approx(13.0)


def test_notes_fire_triggers_and_toggle_bools(show, keys, registry):
    nid = show.model.add_node("midi.note", params={"channel": 10, "note": 36})
    show.model.apply("bind", lambda p: p.bindings.append(
        {"source": "note", "channel": 9, "control": 40, "node": "sink", "param": "scale_by_mean"}))
    show.tick(0.0)
    hit = show.live.plan.wire(nid, "hit")
    fake.send(PORT, mido.Message("note_on", channel=9, note=36, velocity=100))
    show.tick(0.02)
    assert hit.v is True and show.live.plan.values(nid)["velocity"] == pytest.approx(100 / 127)
    show.tick(0.04)
    assert hit.v is False  # one frame only
    fake.send(PORT, mido.Message("note_off", channel=9, note=36))
    show.tick(0.06)
    assert show.live.plan.values(nid)["velocity"] == 0.0
    assert show.model.param_value("sink", "scale_by_mean") is False
    fake.send(PORT, mido.Message("note_on", channel=9, note=40, velocity=90))
    show.tick(0.08)
    assert show.model.param_value("sink", "scale_by_mean") is True
    fake.send(PORT, mido.Message("note_on", channel=9, note=40, velocity=90),
              mido.Message("note_on", channel=9, note=40, velocity=90))
    show.tick(0.10)  # two presses in one frame toggle twice
    assert show.model.param_value("sink", "scale_by_mean") is True


def test_midi_cc_node_is_a_signal_source(show, keys):
    nid = show.model.add_node("midi.cc", params={"channel": 1, "control": 74})
    show.tick(0.0)
    fake.send(PORT, cc(74, 127))
    show.tick(0.02)
    assert show.live.plan.values(nid)["value"] == 1.0


def test_a_port_that_vanishes_reconnects_when_it_returns(show, keys):
    keys.check()
    assert "Fake Keys" in keys.open_ports
    fake.NAMES.clear()  # unplugged mid-show
    keys.check()
    assert "Fake Keys" not in keys.open_ports
    assert any("disappeared" in m for m in keys.messages)
    show.tick(0.0)  # the show goes on
    fake.NAMES[:] = ["Fake Keys 24:0"]  # back, on another ALSA client number
    keys.check()
    assert "Fake Keys" in keys.open_ports
    bind(show)
    fake.send("Fake Keys 24:0", cc(21, 127))
    assert strength(show.tick(0.02)) == 100.0


def test_unknown_port_lists_the_ports(show, keys):
    with pytest.raises(MidiError, match=r"no MIDI input port 'Nope'; ports: 'Fake Keys 20:0'"):
        keys.open("Nope")


def test_no_alsa_sequencer_is_a_clear_message(monkeypatch):
    class Broken:
        def get_input_names(self):
            raise SystemError("MidiInAlsa::initialize: error creating ALSA sequencer client object.")

    from graph_runtime.control import midi as M
    with pytest.raises(MidiError, match="ALSA sequencer cannot be opened"):
        M.input_names(Broken())

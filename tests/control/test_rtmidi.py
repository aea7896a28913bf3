"""A real rtmidi virtual port round trip, where the ALSA sequencer exists."""
import os
import time

import mido
import pytest

from graph_runtime.control.inbox import Inbox
from graph_runtime.control.midi import MidiError, MidiInputs, backend, input_names


def _alsa_reason() -> str | None:
    if not os.path.exists("/dev/snd/seq"):
        return "no ALSA sequencer (/dev/snd/seq is absent on this machine)"
    try:
        input_names(backend())
    except MidiError as e:
        return str(e)
    return None


@pytest.mark.skipif(_alsa_reason() is not None, reason=str(_alsa_reason()))
def test_virtual_port_round_trip():
    be = backend()
    out = be.open_output("hambajuba-test-out", virtual=True)
    try:
        inbox = Inbox()
        midi = MidiInputs(inbox)
        midi.open("hambajuba-test-out")
        out.send(mido.Message("control_change", channel=2, control=7, value=99))
        end = time.monotonic() + 5.0
        while inbox.n == 0 and time.monotonic() < end:
            time.sleep(0.01)
        got = list(inbox.drain())
        midi.stop()
        assert got and got[0][0][0] == "cc" and got[0][0][2:] == (2, 7) and got[0][1] == 99
    finally:
        out.close()


def test_without_alsa_opening_midi_says_why():
    if _alsa_reason() is None:
        pytest.skip("this machine has an ALSA sequencer")
    with pytest.raises(MidiError, match="MIDI is unavailable"):
        MidiInputs(Inbox()).open("anything")


def test_rtmidis_own_error_becomes_one_clear_line():
    """python-rtmidi raises its own SystemError where the sequencer is missing."""
    if _alsa_reason() is None:
        pytest.skip("this machine has an ALSA sequencer")
    with pytest.raises(MidiError, match=r"^MIDI is unavailable: the ALSA sequencer cannot be "
                                        r"opened \(MidiInAlsa::initialize"):
        input_names(backend())

"""`hambajuba midi ports`, `hambajuba bench control`, `perform --osc/--midi` flags."""
import json
import os

import pytest

from hambajuba_nodes.cli import main


def test_perform_refuses_a_malformed_osc_endpoint_before_opening_a_window(capsys):
    assert main(["perform", "--osc", "loud", "--null-audio", "x.wav"]) == 2
    assert "OSC endpoint 'loud': expected PORT or HOST:PORT" in capsys.readouterr().err


def test_perform_takes_repeatable_midi_ports():
    from hambajuba_nodes.cli import build_parser

    args = build_parser().parse_args(["perform", "--midi", "A", "--midi", "B b", "--osc", "9000"])
    assert args.midi == ["A", "B b"] and args.osc == "9000"


@pytest.mark.skipif(os.path.exists("/dev/snd/seq"), reason="this machine has an ALSA sequencer")
def test_midi_ports_without_alsa_says_why(capsys):
    assert main(["midi", "ports"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("hambajuba midi ports: MIDI is unavailable: the ALSA sequencer")
    assert len(err.strip().splitlines()) == 1


def test_bench_control_applies_every_message(capsys):
    assert main(["bench", "control", "--json", "--messages", "60", "--rate", "300"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["messages"] == r["applied"] == r["received"] == 60
    assert {"p50_ms", "p99_ms", "messages", "applied"} <= set(r)
    assert r["recompiles"] == 1  # feature ids changed in place, never by recompiling


def test_bench_control_bad_arguments(capsys):
    assert main(["bench", "control", "--messages", "0"]) == 2
    assert "--messages 1..5119" in capsys.readouterr().err

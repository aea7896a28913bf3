"""LiveSource / LiveBank: every example patch compiles and plays on live input;
triggers fire once per pulse; the beat grid is predicted ahead."""
import pathlib

import numpy as np
import pytest
from live_helpers import blocks, drum_loop

from graph_runtime.graph.compiler import compile_patch
from graph_runtime.graph.patch import load
from graph_runtime.live import layout
from graph_runtime.live.analyser import CausalAnalyser
from graph_runtime.live.bank import LiveSource
from hambajuba_nodes.registry import default_registry

PATCHES = sorted((pathlib.Path(__file__).resolve().parents[2] / "patches").glob("*.patch"))
DT = 0.02


def warmed(seconds=8.0, bpm=120.0):
    a = CausalAnalyser(sr=44100, channels=2)
    x = drum_loop(seconds + 4.0, bpm=bpm)
    it = blocks(x, a.block)
    for _ in range(int(seconds * 100)):
        a.push(next(it).copy())
    return a, it


def test_there_are_example_patches():
    assert len(PATCHES) >= 3


@pytest.mark.parametrize("path", PATCHES, ids=lambda p: p.stem)
def test_example_patch_compiles_and_plays_on_a_live_source(path):
    a, it = warmed(4.0)
    source = LiveSource(a.ring)
    plan = compile_patch(load(path), default_registry(), analysis=source)
    moved = set()
    for i in range(150):                       # 3 s of frames, two input blocks per frame
        a.push(next(it).copy())
        a.push(next(it).copy())
        frame = plan.run(4.0 + i * DT, DT)
        assert np.all(np.isfinite(frame.vec))
        moved.add(float(np.abs(frame.vec).sum()))
    assert plan.nan_count() == 0
    assert len(moved) > 10                     # the live channels move the frame


def test_bank_reads_the_newest_row_and_fires_each_pulse_once():
    a, it = warmed(6.0)
    bank = LiveSource(a.ring).make_bank()
    env = bank.signal("drums/envelope")
    hit = bank.trigger("drums/transient")
    coupled = bank.signal("coupling/bass+drums/plv")     # computed live (live/coupling.py)
    missing = bank.signal("bass/no_such_channel")
    bank.freeze()
    fired = 0
    col = layout.COUNT_INDEX["drums/transient"]
    start = a.ring.latest()[col]
    for _ in range(90):                         # 3.6 s: frames run at half the row rate here
        for _ in range(4):
            a.push(next(it).copy())
        bank.update(0.0)
        fired += hit.v
        assert env.v == pytest.approx(a.ring.latest()[layout.INDEX["drums/envelope"]])
        assert coupled.v == pytest.approx(a.ring.latest()[layout.INDEX["coupling/bass+drums/plv"]])
        assert missing.v == 0.0
    pulses = a.ring.latest()[col] - start
    assert pulses >= 3 and fired == pytest.approx(pulses, abs=1)   # none lost between frames


def test_beat_phase_is_predicted_ahead_by_the_lookahead():
    a, _ = warmed(10.0, bpm=120.0)
    row = a.ring.latest()
    assert row[layout.STATUS_INDEX["period"]] == pytest.approx(0.5, rel=0.02)
    phases = []
    for lookahead in (0.0, 0.125):
        source = LiveSource(a.ring, lookahead_s=lookahead)
        bank = source.make_bank()
        ph = bank.signal("global/beat_phase")
        bank.freeze()
        bank.update(0.0)
        phases.append(ph.v)
    ahead = (phases[1] - phases[0]) % 1.0
    assert ahead == pytest.approx(0.25, abs=0.03)     # 125 ms = a quarter beat at 120 BPM


def test_beat_triggers_follow_the_predicted_clock():
    a, it = warmed(8.0, bpm=120.0)
    bank = LiveSource(a.ring).make_bank()
    beat = bank.trigger("global/beat")
    down = bank.trigger("global/downbeat")
    bank.freeze()
    beats = downs = 0
    for _ in range(200):                           # 4 s of 20 ms frames
        a.push(next(it).copy())
        a.push(next(it).copy())
        bank.update(0.0)
        beats += beat.v
        downs += down.v
    assert 7 <= beats <= 9                         # 8 beats in 4 s at 120 BPM
    assert 1 <= downs <= 3


def test_live_session_recompiles_against_the_live_source():
    from graph_runtime.show.live_plan import LiveSession
    a, it = warmed(3.0)
    source = LiveSource(a.ring)
    session = LiveSession(default_registry())
    session.set_analysis(source)
    patch = load(PATCHES[0])
    assert session.update(patch) is not None
    assert session.plan is not None and session.plan.bank.source is source


def test_stem_handles_carry_the_live_classification():
    """A patch compiled while music plays: its stem handles (and so the blended
    physics) get the running classification, drums percussive, the held tone harmonic."""
    from hambajuba_nodes.audio import stem_handle
    from hambajuba_nodes.physics import classification_weights
    assert LiveSource(CausalAnalyser(sr=44100, channels=2).ring).classification("drums")["percussive"] == 0.0
    a, _ = warmed(6.0)
    source = LiveSource(a.ring)
    drums, tone = stem_handle(source, "drums"), stem_handle(source, "vocals")   # centred: vocals
    row = a.ring.latest()
    assert drums.weight("percussive") == pytest.approx(row[layout.INDEX["class/drums/percussive"]])
    assert drums.weight("percussive") > 0.5 > tone.weight("percussive")
    assert tone.weight("harmonic") > 0.5 > drums.weight("harmonic")
    assert classification_weights(drums)["spring"] > classification_weights(tone)["spring"]

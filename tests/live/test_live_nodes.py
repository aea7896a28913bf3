"""Live input reaches the nodes that read coupling and classification: a file played
through LiveInput (the show's live file source) into a patch compiled on its
LiveSource before the music starts, as the window does.

- ensemble.prominence: two ensembles, every stem R3, one with the coupling bonus
  (coupling_max 0.5) and one without (0): on the same frames they differ by exactly
  the bonus that the row's live lock_index gives (1 + bonus), and some stem earns one.
- physics.blend (weighting: classification): its w_* outputs are the write-up's
  blend of the running live classification, not the spring-only fallback it read at
  compile time before any music; auto_chain picks a chain from the same estimate."""
import time
import tracemalloc

import numpy as np
import pytest
from live_helpers import drum_loop

from graph_runtime.analysis.store import STEMS, pair_key
from graph_runtime.graph.compiler import compile_patch
from graph_runtime.graph.patch import Patch
from graph_runtime.live import layout
from graph_runtime.live.input import LiveInput
from hambajuba_nodes.audio import StemHandle
from hambajuba_nodes.content import auto_chain
from hambajuba_nodes.ensemble import LOCK_THRESHOLD
from hambajuba_nodes.physics import classification_weights
from hambajuba_nodes.registry import default_registry

SR = 22050
SECONDS = 12.0
DT = 1.0 / 30


@pytest.fixture(scope="module")
def kick_and_bass(tmp_path_factory):
    """Drums with a 55 Hz bass note struck on every beat: stems that play together."""
    import soundfile as sf

    x = drum_loop(SECONDS, bpm=120.0, sr=SR, channels=1, tone_hz=None)[:, 0].astype(np.float64)
    t = np.arange(len(x)) / SR
    y = x + 0.2 * np.sin(2 * np.pi * 55 * t) * np.exp(-(t % 0.5) * 4.0)
    path = tmp_path_factory.mktemp("live") / "kick_and_bass.wav"
    sf.write(path, (0.5 * y / np.abs(y).max()).astype(np.float32), SR, subtype="FLOAT")
    return str(path)


def _patch() -> Patch:
    p = Patch()
    ranks = {**{f"rank_{s}": "R3" for s in STEMS}, "novelty_max": 0.0}   # the ratio: 1 + bonus
    p.add_node("ensemble.prominence", {**ranks, "coupling_max": 0.5}, node_id="with_bonus")
    p.add_node("ensemble.prominence", {**ranks, "coupling_max": 0.0}, node_id="without")
    p.add_node("audio.source", {"stem": "bass"}, node_id="bass")
    p.add_node("physics.blend", {"weighting": "classification"}, node_id="phys")
    p.connect(("bass", "stem"), ("phys", "stem"))
    p.connect(("bass", "energy_smooth"), ("phys", "target"))
    return p


@pytest.fixture(scope="module")
def played(kick_and_bass):
    return _play(kick_and_bass)


def _play(path: str):
    """Compile on the live source before any music, then play the whole file as fast as
    the analysis goes, a frame now and then; returns (input, plan) with the input stopped."""
    live = LiveInput(file=path, channels=1, realtime=False)
    source = live.open()
    plan = compile_patch(_patch(), default_registry(), analysis=source)
    live.start()
    t, deadline = 0.0, time.monotonic() + 120.0      # liveness only: ~2 s on a quiet machine
    try:
        while (live.state == "running" or live.ring.available()) and time.monotonic() < deadline:
            plan.run(t, DT)
            t += DT
            time.sleep(0.002)
    finally:
        live.stop()
    assert live.state == "finished" and live.analyser.frame >= (SECONDS - 1.0) * 50
    for _ in range(3):                 # the newest row is now fixed: settle on it
        plan.run(t, DT)
        t += DT
    return live, plan


def test_the_ensemble_follows_the_live_coupling(played):
    live, plan = played
    row = live.analyser.ring.latest()
    lock = lambda a, b: float(row[layout.INDEX[f"coupling/{pair_key(a, b)}/lock_index"]])
    earned = {}
    for s in STEMS:
        best = max(lock(s, q) for q in STEMS if q != s)
        bonus = 0.5 * min(max((best - LOCK_THRESHOLD) / (1.0 - LOCK_THRESHOLD), 0.0), 1.0)
        with_bonus, without = plan.wire("with_bonus", s).v, plan.wire("without", s).v
        if without > 1e-3:
            assert with_bonus == pytest.approx(without * (1.0 + bonus), rel=1e-9), (s, best)
            earned[s] = bonus
    assert earned and max(earned.values()) > 0.1, earned      # the live lock reached the node
    # the live nodes keep nothing per frame (as test_compiler's plan on a track)
    tracemalloc.start()
    snap0 = tracemalloc.take_snapshot()
    for i in range(2000):
        plan.run(i * DT, DT)
    snap1 = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(d.size_diff for d in snap1.compare_to(snap0, "filename") if d.size_diff > 0)
    assert grown < 4096, f"the live plan keeps {grown} bytes per 2000 frames"


def test_the_blended_physics_weights_follow_the_live_classification(played):
    live, plan = played
    estimate = live.source.classification("bass")
    assert max(estimate.values()) > 0.1                       # a running estimate after 12 s
    want = classification_weights(StemHandle("bass", estimate, True))
    got = {k: plan.wire("phys", f"w_{k}").v for k in want}
    assert got == pytest.approx(want, abs=1e-9)
    assert got["spring"] < 0.99                               # not the fallback read at compile time
    # and a chain added now (auto_chain) is chosen from what was heard, not the name's defaults
    assert auto_chain.classification("bass", live.source) == estimate

"""The live on-beat check's verdict on a clock whose level has settled: on orchestral and
game recordings the check often reads the half-beat grid as a little clearer while the
comb sits on the beat, so a settled clock leaves the comb's own pulse only on a clear
verdict twice in a row; a young clock (a syncopated groove's first seconds) still moves
at once, and a clock on the off-beat goes back to the comb's pulse on one clear verdict."""
import numpy as np
import pytest
from live_helpers import pulses

from graph_runtime.analysis import beat_grid
from graph_runtime.live.beat_tracker import OFF_BEAT_SURE, OFF_PULSE_SURE, OnlineBeatTracker

FPS = 50.0


def _clock(seconds: float) -> OnlineBeatTracker:
    """A tracker that has heard `seconds` of a clean 120 BPM pulse."""
    tr = OnlineBeatTracker(fps=FPS)
    x = pulses(int(seconds * FPS), 25.0, 1.0, phase=5.0)
    for v in x:
        tr.step(float(v), float(v), float(v), np.zeros(12), np.zeros(12))
        tr.idle()
    assert tr.bpm == pytest.approx(120.0, rel=0.03)
    return tr


@pytest.fixture
def verdict(monkeypatch):
    """Sets what beat_grid.on_beat_margin answers: (moved, margin)."""
    said = {"moved": False, "margin": 0.0}
    monkeypatch.setattr(beat_grid, "on_beat_margin",
                        lambda frames, env: (0.5, said["moved"], said["margin"]))
    return said


def test_a_settled_clock_stays_on_the_combs_pulse_on_a_narrow_verdict(verdict):
    tr = _clock(20.0)
    assert tr.i - tr.level_since > 6 * FPS and tr.offbeat == 0.0
    verdict.update(moved=True, margin=0.5 * (OFF_BEAT_SURE + OFF_PULSE_SURE))
    for _ in range(3):                            # clear for a young clock, narrow here
        tr._on_beat()
    assert tr.offbeat == 0.0 and tr.glide == 0.0
    verdict.update(margin=OFF_PULSE_SURE + 0.1)
    tr._on_beat()
    assert tr.offbeat == 0.0                      # one clear verdict is not yet enough
    tr._on_beat()
    assert tr.offbeat == 0.5 and tr.glide == -0.5  # the second moves it, gliding
    verdict.update(margin=OFF_BEAT_SURE)
    tr._on_beat()                                 # back to the comb's pulse: one clear verdict
    assert tr.offbeat == 0.0


def test_a_young_clock_still_moves_on_one_clear_verdict(verdict):
    tr = _clock(8.0)
    tr.level_since = tr.i - int(2 * FPS)          # its level was taken 2 s ago
    verdict.update(moved=True, margin=OFF_BEAT_SURE)
    tr._on_beat()
    assert tr.offbeat == 0.5

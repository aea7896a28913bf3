"""A settled clock keeps its level against a 3:2 (or other non-octave) reading unless
the pulse filter (live/pulse_filter.py) holds more mass at the new tempo
(beat_level._pulse_holds), and a window's reading the filter is sure of stands
against the long-term level check's 3:2 rewrite (beat_level._pulse_keeps). On game
recordings 8 s windows of accents 1.5 beats apart read 2/3 of the tempo for a few
bars, and the votes moved a 140 BPM clock to 94 for the rest of the track while
every beat went on landing at 140.

The filter is stepped by OnlineBeatTracker.step on the onsets, as on the analysis
thread; only the window's tempo reading (or the level check's rewrite of it) is
replaced in the first tests, to stand for windows that read 3:2 (the long-term
check would put a synthetic click track's windows right before they vote)."""
import numpy as np
import pytest
from live_helpers import tempo_each_second

from graph_runtime.live import beat_level
from graph_runtime.live.level_check import MIN_WEIGHT, LevelCheck
from graph_runtime.live.pulse_filter import PulseFilter

FPS = 50.0


def _clicks(bpm_at, seconds: float, seed: int = 0) -> np.ndarray:
    """(n,) onset flux: a click on every beat (+-0.7 frame) of bpm_at(t s), over soft noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FPS)
    x = rng.random(n) ** 6 * 0.5
    t = 2.0
    while t * FPS < n - 1:
        x[int(round(t * FPS + rng.normal(0.0, 0.7)))] += rng.uniform(0.9, 1.3)
        t += 60.0 / bpm_at(t)
    return x


def _run(x: np.ndarray, share: list | None = None) -> np.ndarray:
    return tempo_each_second(x, FPS, share)


def _at(bpm: np.ndarray, tempo: float) -> np.ndarray:
    """Per second: the read-out within 8 % of tempo (0 before the first estimate)."""
    return np.abs(np.log(np.maximum(bpm, 1e-6) / tempo)) < np.log(1.08)


def _windows_read_two_thirds(monkeypatch, lo_s: float, hi_s: float) -> None:
    """Between lo_s and hi_s every window's level reads 2/3 of what it heard."""
    fold = beat_level.MetricalLevel._fold

    def reads(self, bpm, *beats):
        got = fold(self, bpm, *beats)
        return got * 2.0 / 3.0 if lo_s <= self.now() < hi_s and got > 0 else got
    monkeypatch.setattr(beat_level.MetricalLevel, "_fold", reads)


@pytest.mark.parametrize("seed", [0, 1])
def test_windows_that_read_two_thirds_do_not_move_a_clock_the_beats_hold(seed, monkeypatch):
    x = _clicks(lambda t: 140.0, 70.0, seed)
    _windows_read_two_thirds(monkeypatch, 25.0, 50.0)
    held = _run(x)
    assert _at(held[15:70], 140.0).all(), np.round(held[15:])
    monkeypatch.setattr(beat_level.MetricalLevel, "_pulse_holds", lambda self, period: False)
    moved = _run(x)                                     # the votes alone (what the filter guards)
    assert _at(moved[30:55], 140.0 * 2.0 / 3.0).any(), np.round(moved[15:])


@pytest.mark.parametrize("seed", [0, 1])
def test_a_reading_the_beats_hold_stands_against_the_level_checks_rewrite(seed, monkeypatch):
    settle = LevelCheck.settle

    def rewrites(self, bpm):         # the long-term comb counts every window at 2/3 of it
        got = settle(self, bpm)
        return got * 2.0 / 3.0 if self.weight >= MIN_WEIGHT and got > 0 else got
    monkeypatch.setattr(LevelCheck, "settle", rewrites)
    x = _clicks(lambda t: 140.0, 60.0, seed)
    share: list = []
    held = _run(x, share)
    assert _at(held[15:60], 140.0).all(), np.round(held[15:])
    assert min(share[30:60]) >= 0.9, np.round(share[15:], 2)    # the panel: sure of 140
    monkeypatch.setattr(beat_level.MetricalLevel, "_pulse_keeps", lambda self, read, settled: False)
    moved = _run(x)               # the rewrite alone: the votes take 93 while the clock is young
    assert _at(moved[15:60], 140.0 * 2.0 / 3.0).any(), np.round(moved[15:])


def _settles_at(bpm: np.ndarray, tempo: float) -> int | None:
    """The first second from which the read-out stays at tempo to the end."""
    at = _at(bpm, tempo)
    off = np.flatnonzero(~at)
    first = 0 if not len(off) else int(off[-1]) + 1
    return first if first < len(bpm) else None


@pytest.mark.parametrize("seed", [0, 1])
def test_music_that_really_moves_to_two_thirds_is_followed(seed, monkeypatch):
    x = _clicks(lambda t: 140.0 if t < 30.0 else 93.3, 80.0, seed)
    bpm = _run(x)
    assert _at(bpm[15:29], 140.0).all(), np.round(bpm[15:])
    settled = _settles_at(bpm, 93.3)
    assert settled is not None and settled <= 65, np.round(bpm[30:])   # the votes' ~30 s memory
    monkeypatch.setattr(beat_level.MetricalLevel, "_pulse_holds", lambda self, period: False)
    votes_alone = _settles_at(_run(x), 93.3)
    assert votes_alone is not None and settled <= votes_alone + 2      # the filter adds no delay here


def test_the_filter_keeps_the_tempo_the_beats_land_on():
    f = PulseFilter(fps=FPS)
    x = _clicks(lambda t: 140.0, 30.0)
    for t, v in enumerate(x):      # accents 1.5 beats apart in the second half, the beats go on
        if t > 15 * FPS and int(t - 15 * FPS) % 32 == 0:
            v += 1.0
        f.step(max(float(v) - 0.05, 0.0))
    assert f.mass_near(140.0) > 0.5 > f.mass_near(93.3)
    assert abs(f.bpms[int(np.argmax(f.tempo_mass()))] / 140.0 - 1.0) < 0.05
    f.reset()
    for v in _clicks(lambda t: 93.3, 20.0, seed=3):
        f.step(float(v))
    assert f.mass_near(93.3) > 0.5 > f.mass_near(140.0)


def test_the_filter_step_allocates_nothing():
    import tracemalloc
    f = PulseFilter(fps=FPS)
    x = _clicks(lambda t: 120.0, 6.0)
    for v in x[:50]:
        f.step(float(v))
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for v in x[50:]:
        f.step(float(v))
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename")
                if "pulse_filter" in s.traceback[0].filename)
    assert grown < 1024, grown

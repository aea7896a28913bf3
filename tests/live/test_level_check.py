"""The live level's long memory (live/level_check.py): a window's level checked on the
periodicity of the last ~30 s, on onsets like an orchestra's (soft, uneven beats
under dense unrelated notes), where single 8 s windows read unrelated levels."""
import numpy as np
import pytest

from graph_runtime.analysis import tempo_level
from graph_runtime.live import tempo
from graph_runtime.live.beat_tracker import OnlineBeatTracker
from graph_runtime.live.level_check import MIN_WEIGHT, RUNAWAY, LevelCheck, hold_to_level

FPS = 50.0
BPM = 115.0


def _orchestral(seed: int, seconds: float = 60.0) -> np.ndarray:
    """(n,) onset flux: a 115 BPM pulse that a fifth of the beats do not sound, +-1 frame
    of timing, under dense, uneven notes (strings and brass swells) of random strength."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FPS)
    x = rng.random(n) ** 6 * 2.0
    beats = np.arange(10.0, n - 2, 60.0 * FPS / BPM)
    keep = rng.random(len(beats)) > 0.2
    idx = np.round(beats[keep] + rng.normal(0.0, 1.0, keep.sum())).astype(int)
    x[np.clip(idx, 0, n - 1)] += rng.uniform(0.6, 1.6, keep.sum())
    return x


def _level(tracker: OnlineBeatTracker) -> float:
    """BPM of the level with the most votes (the level the tracker believes)."""
    return 60.0 / max(tracker.votes, key=lambda v: v[1])[0]


def _track(x: np.ndarray, *, check: bool) -> OnlineBeatTracker:
    tr = OnlineBeatTracker(fps=FPS)
    if not check:
        tr.level_check.settle = lambda bpm: bpm
    chroma = np.zeros(12)
    tr.bpm_each_second = []
    for i, v in enumerate(x):
        tr.step(float(v), float(v), 0.0, chroma, np.zeros(12))
        tr.idle()
        if i % int(FPS) == 0:
            tr.bpm_each_second.append(tr.bpm)
    return tr


def test_the_windows_disagree_and_the_level_holds_the_pulse():
    seeds = range(8)
    streams = [_orchestral(s) for s in seeds]
    # the property that fooled the tracker: one 8 s window's level is often unrelated
    windows = [tempo_level.choose_level(tempo.normalise(x[s:s + 400], fps=FPS), fps=FPS)[0]
               for x in streams for s in range(0, len(x) - 400, 400)]
    assert np.mean([abs(np.log(w / BPM)) > np.log(1.08) for w in windows]) > 0.4
    near = lambda bpm: abs(np.log(bpm / BPM)) <= np.log(1.08)   # noqa: E731
    trackers = [_track(x, check=True) for x in streams]
    held = [near(_level(tr)) for tr in trackers]
    assert sum(held) >= 7, held
    # and the clock's period stays near the level the votes hold (the comb and the
    # follower, catching the dense notes, walked it 15 % away)
    for tr in trackers:
        late = np.asarray(tr.bpm_each_second[-30:])
        assert np.median(np.abs(np.log(late / _level(tr)))) <= RUNAWAY, (late, _level(tr))
    # without the check the votes follow the windows (the figure this guards)
    assert sum(near(_level(_track(x, check=False))) for x in streams) < sum(held)


def test_settle_replaces_an_unrelated_level_and_keeps_an_octave():
    check = LevelCheck(fps=FPS, n_lags=201)
    for k in range(int(MIN_WEIGHT) + 2):
        x = tempo.normalise(_orchestral(10 + k, seconds=8.0), fps=FPS)
        check.add(tempo_level.periodicity(x, fps=FPS))
    assert check.settle(84.0) == pytest.approx(BPM, rel=0.03)      # unrelated: the comb's tempo
    assert check.settle(2 * BPM) == pytest.approx(BPM, rel=0.03)   # an octave up, past LEVEL_HI
    assert check.settle(BPM / 2) == BPM / 2                        # an octave down: the walk's
    assert check.settle(0.0) == 0.0
    check.add(check.acf / check.weight, music_start=30.0)         # the next song begins
    assert check.settle(84.0) == 84.0                              # too little of it heard: as it is


def test_a_runaway_period_comes_back_and_a_rubato_or_another_level_does_not():
    votes = [[60.0 / 143.0, 3.0], [60.0 / 96.0, 0.4]]
    back = hold_to_level(60.0 / 170.0, votes)                    # 19 % fast: held at RUNAWAY
    assert np.log(60.0 / 143.0 / back) == pytest.approx(RUNAWAY)
    assert np.log(hold_to_level(60.0 / 121.0, votes) / (60.0 / 143.0)) == pytest.approx(RUNAWAY)  # 18 % slow
    assert hold_to_level(60.0 / 121.0, votes) != 60.0 / 121.0
    assert hold_to_level(60.0 / 152.0, votes) == 60.0 / 152.0    # 6 % (a rubato): free
    assert hold_to_level(60.0 / 160.0, votes) == 60.0 / 160.0    # 12 %: a rubato's swing plus the clock's lag
    assert hold_to_level(60.0 / 190.0, votes) == 60.0 / 190.0    # another level: the votes' call
    assert hold_to_level(60.0 / 170.0, [[60.0 / 143.0, 1.0]]) == 60.0 / 170.0   # one estimate

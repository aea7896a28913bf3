"""The live clock's motion model (live/motion.py): a rubato whose beats each have a
clear onset is followed by the moving predictor, a humanised steady groove keeps the
steady one; a level change or a half-beat move starts both again; a beat without an
examined onset is predicted through. Through CausalAnalyser on generated rubato, the
clock stays on the beat where the steady clock alone lagged the swing, and the tempo
read out while it moves is the median interval of the beats it played."""
import numpy as np
import pytest

from graph_runtime.live.motion import MIN_BEATS, MotionModels

KEY = (0, 0, 0.0)          # (corrections, lead, offbeat): one clock, no correction


def _feed(models: MotionModels, onsets: np.ndarray, period: float, *, key=KEY, first: int = 0) -> list[bool]:
    """Each onset as the clock's beat (the clock a little early: beat = onset - 10 ms), in turn;
    the `moving` choice after each."""
    return [models.beat(t - 0.010, period, first + k, t, key) for k, t in enumerate(onsets)]


def _rubato(n: int, bpm: float = 84.0) -> np.ndarray:
    """s: onsets of a tempo swinging +-8 % over 16 beats (no jitter: every beat a clear note)."""
    period = 60.0 / bpm / (1.0 + 0.08 * np.sin(2 * np.pi * np.arange(n) / 16.0))
    return 0.5 + np.concatenate(([0.0], np.cumsum(period[:-1])))


def test_a_rubato_is_followed_and_a_humanised_groove_is_not():
    moving = _feed(MotionModels(), _rubato(40), 60.0 / 84.0)
    assert not any(moving[:MIN_BEATS - 1])                  # no choice before MIN_BEATS
    assert all(moving[16:])                                 # then follows the swing
    rng = np.random.default_rng(3)
    groove = 0.5 + np.arange(60) * 60.0 / 128.0 + rng.normal(0.0, 0.012, 60)   # 12 ms jitter
    assert not any(_feed(MotionModels(), groove, 60.0 / 128.0))


def test_the_moving_predictor_calls_a_rubato_better_than_the_steady_one():
    models = MotionModels()
    _feed(models, _rubato(40), 60.0 / 84.0)
    steady, moving = models.err
    assert moving < 0.25 * steady
    assert steady ** 0.5 > 0.03                             # the steady one lags by tens of ms


def test_a_correction_starts_both_predictors_again():
    models = MotionModels()
    onsets = _rubato(40)
    _feed(models, onsets[:30], 60.0 / 84.0)
    assert models.moving
    # a half-beat move (the on-beat check counts a correction): the next beat restarts
    models.beat(onsets[30] - 0.01, 60.0 / 84.0, 30, onsets[30], (1, 0, 0.5))
    assert not models.moving and models.measured == 1
    assert models.err == [pytest.approx(0.01 ** 2 * 0.2), pytest.approx(0.01 ** 2 * 0.2)]


def test_beats_not_examined_are_predicted_through():
    models = MotionModels()
    period = 0.5
    onsets = 1.0 + np.arange(20) * period
    _feed(models, onsets[:10], period)
    measured = models.measured
    # beats 10 and 11 were never examined (a glide): beat 12 comes next, on time
    models.beat(onsets[12] - 0.01, period, 12, onsets[12], KEY)
    assert models.measured == measured + 1                  # no restart: still in step
    assert models.err[0] < 0.015 ** 2


def test_the_panel_says_when_the_clock_follows_a_moving_tempo():
    from graph_runtime.live import layout
    from hambajuba_nodes.editor.live_input_panel import tempo_text
    row = {n: 0.0 for n in layout.STATUS}
    row.update(bpm=82.0, tempo_locked=1.0, meter=4.0, level_share=1.0, last_correction=-1.0)
    assert "moving tempo" not in tempo_text(row)
    row["tempo_moving"] = 1.0
    assert tempo_text(row).startswith("tempo: 82.0 BPM, locked to the tracker, following a moving tempo")


def _rubato_through_the_analyser(tempo_scale: float):
    import beat_cases

    from graph_runtime.live import layout
    from graph_runtime.live.analyser import CausalAnalyser
    from graph_runtime.live.replay import feed
    y, truth = beat_cases.make("rubato_84", 22.0, seed=501, tempo_scale=tempo_scale)
    analyser = CausalAnalyser(sr=beat_cases.SR, channels=1)
    tr = analyser.tracker
    tr.log = []
    moving = []                                   # the published status column, after every block
    column = layout.STATUS_INDEX["tempo_moving"]

    def published(*_):
        row = analyser.ring.latest()
        moving.append(0.0 if row is None else row[column])
    feed(y[:, None], analyser, on_block=published)
    return analyser, np.array(truth["beats"]), np.array([b for b, _ in tr.log]), np.array(moving)


@pytest.mark.parametrize("tempo_scale", [1.01, 1.03, 1.05])
def test_the_live_clock_stays_on_a_rubato(tempo_scale):
    # generated piano rubato (+-8 % over 16 beats, 2 % per beat at random): the steady
    # clock alone lagged each swing by 60-120 ms (0.77-0.88 of these beats hit)
    from graph_runtime.analysis.beat_eval import hits
    analyser, truth, emitted, moving = _rubato_through_the_analyser(tempo_scale)
    tr = analyser.tracker
    assert tr.motion.moving and moving[-1] == 1.0          # and the status row says so
    assert not moving[: len(moving) // 4].any()            # not before the swing was heard
    late = truth[truth >= 10.0]
    assert hits(late, emitted).mean() >= 0.9
    # the tempo read out while it moves: the median interval of the last 8 beats played
    played = np.sort(tr.emitted[:min(tr.n_emitted, len(tr.emitted))])[-9:]
    assert tr.bpm == pytest.approx(60.0 / np.median(np.diff(played)), rel=1e-9)


def test_a_midi_clock_taking_over_a_moving_clock_reads_its_own_tempo():
    # the MIDI clock in (lead 2) hands its tempo to the tracker; the follower then stands
    # aside, so the choice made on the rubato must not keep the read-out on its beats
    from graph_runtime.live import layout
    from graph_runtime.live.replay import feed
    analyser, _, _, _ = _rubato_through_the_analyser(1.03)
    tr = analyser.tracker
    assert tr.motion.moving
    tr.override(120.0, tr.now(), lead=2)
    rows = []
    column = layout.STATUS_INDEX["tempo_moving"]
    feed(np.zeros((2205, 1), np.float32), analyser,          # 0.1 s more: a few frames
         on_block=lambda *_: rows.append(analyser.ring.latest()[column]))
    assert tr.bpm == pytest.approx(120.0) and rows and rows[-1] == 0.0

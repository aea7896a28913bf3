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
    """Sets what beat_grid.on_beat_margin answers (moved, margin) and whether the
    half-beats carry the bass line's changes (bass_on_halves)."""
    said = {"moved": False, "margin": 0.0, "bass_on_halves": True}
    monkeypatch.setattr(beat_grid, "on_beat_margin",
                        lambda frames, env: (0.5, said["moved"], said["margin"]))
    monkeypatch.setattr(beat_grid, "half_beats_lead", lambda frames, env: said["bass_on_halves"])
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


def test_a_young_clock_leaves_the_combs_pulse_on_one_verdict_only_where_the_bass_says_so(verdict):
    # on game recordings (chiptune, electronic) the first check read the half-beat grid as
    # clearer (margin 0.6-1.2) where the comb sat on the beat, and the clock sat on the
    # off-beat for 15-35 s; a syncopated groove tracked on its "and"s has its bass notes
    # on the half-beats (4-6 times the beats' bass changes)
    tr = _clock(8.0)
    tr.level_since = tr.i - int(2 * FPS)
    verdict.update(moved=True, margin=1.2, bass_on_halves=False)
    tr._on_beat()
    assert tr.offbeat == 0.0                      # one verdict is not enough
    tr._on_beat()
    assert tr.offbeat == 0.5                      # the second in a row moves it


def test_half_beats_lead_reads_the_bass_line_of_a_groove_tracked_on_its_ands():
    import beat_cases

    from graph_runtime.analysis import decode, spectral
    y, truth = beat_cases.make("syncopated_124", 12.0)
    sr, fps = spectral.ANALYSIS_SR, spectral.FPS
    mag = spectral.stft_magnitude(decode.resample(y, beat_cases.SR, sr))
    env = beat_grid.Envelopes.of(mag, sr=sr, chroma=None)
    on_beat = np.asarray(truth["beats"]) * fps
    ands = (on_beat[:-1] + on_beat[1:]) / 2.0
    assert beat_grid.half_beats_lead(ands, env)          # tracked on the "and"s: the bass says move
    assert not beat_grid.half_beats_lead(on_beat, env)   # on the beat: it does not


@pytest.fixture
def halves(monkeypatch):
    """Sets what beat_grid.half_beat_ratios answers: (bass, low) on the half-beats over
    the beats."""
    said = {"ratios": (0.0, 0.0)}
    monkeypatch.setattr(beat_grid, "half_beat_ratios", lambda frames, env: said["ratios"])
    return said


def test_before_the_bar_test_can_a_young_clock_moves_on_the_bass_and_kick_alone(halves):
    from graph_runtime.live.on_beat_check import EARLY_BASS, EARLY_LOW, EARLY_S
    tr = _clock(3.5)                              # 8 beats not yet heard: no bar test
    assert 6 <= len(tr._clock_grid(len(tr.onset), 16)) < 8
    halves["ratios"] = (EARLY_BASS * 0.9, EARLY_LOW * 2)     # the bass not clearly there
    tr._early_on_beat()
    assert tr.offbeat == 0.0
    halves["ratios"] = (EARLY_BASS * 2, EARLY_LOW * 0.9)     # the kick weaker there
    tr._early_on_beat()
    assert tr.offbeat == 0.0
    halves["ratios"] = (EARLY_BASS, EARLY_LOW)
    tr._early_on_beat()
    assert tr.offbeat == 0.5 and tr.glide == -0.5            # moves at once, gliding
    tr._early_on_beat()
    assert tr.offbeat == 0.5                                  # and only once
    halves["ratios"] = (0.0, 0.0)
    late = _clock(EARLY_S + 1.0)                              # later, the bar test decides
    halves["ratios"] = (EARLY_BASS, EARLY_LOW)
    late._early_on_beat()
    assert late.offbeat == 0.0


def test_a_syncopated_groove_is_on_its_beat_before_the_bar_test_could_say(tmp_path):
    """syncopated_124's comb takes its "and"s (the kick and bass there, open hats); the bar
    test's first verdict, on 8-9 beats, moved it 5-6 s in (its beats at 4.2 and 4.7 s were
    half a beat off)."""
    import beat_cases
    import soundfile as sf

    from graph_runtime.analysis.beat_eval import hits
    from graph_runtime.live.replay import analyse_file
    y, truth = beat_cases.make("syncopated_124", 12.0)
    path = tmp_path / "syncopated.wav"
    sf.write(path, y, beat_cases.SR)
    beats = analyse_file(str(path)).beats
    ref = np.asarray(truth["beats"])
    assert hits(ref[(ref >= 4.0) & (ref <= 11.0)], beats).all()   # every beat from the 4th s, 70 ms

"""The bar without drums (analysis/meter.py DRUMLESS_WEIGHTS, beat_grid.drums_absent):
a hymn in 3/4 that starts on a pickup, played by strings, a choir and a bass that
moves on every beat at one loudness, with no kit. Only the harmony says where the
bar starts: one chord a beat, and every second bar ends its phrase on the one with
a chord held until the next phrase's pickup. The drums' bar logic put the one on
the pickup (downbeat F1 0.00 and 0.29 at 85 and 130 BPM); the harmony reads it.

With a kit that counts its bars from the first beat heard (as the shared eval
chorales' drummer does, over the same pickup), the kit's bar stays the answer.
And the shared eval chorales, mixed without their drum stem, are read on their
score's bar lines.
"""
from __future__ import annotations

import beat_cases
import mir_eval
import numpy as np
import pytest
import soundfile as sf
from analysis_helpers import CASES, EVAL, need_eval, truth

from graph_runtime.analysis import beat_grid, decode, spectral
from hambajuba_nodes.cli.beats import grid_of

SECONDS = 22.0
# a chord a beat: C F G Am Dm G Em F (bass root, triad)
PROGRESSION = ((48, (60, 64, 67)), (53, (60, 65, 69)), (55, (59, 62, 67)), (45, (60, 64, 69)),
               (50, (62, 65, 69)), (43, (59, 62, 67)), (52, (59, 64, 67)), (41, (60, 65, 69)))


def hymn(n: int, *, kit: bool = False) -> tuple[beat_cases.Score, dict]:
    """3/4, one beat of pickup; with kit=True a drummer plays bars from beat 0
    (kick on the first beat of each of its bars, hats on every beat) and the truth
    is the drummer's bar."""
    pickup = 1
    s = beat_cases.Score(3, n, pickup=0 if kit else pickup)
    k = 0
    while k < n:
        pos = (k - pickup) % 3
        bar = (k - pickup) // 3
        root, triad = PROGRESSION[k % len(PROGRESSION)]
        hold = 2 if (pos == 0 and bar % 2 == 1) else 1      # the phrase's last chord, held
        for m in triad:
            s.add(k, "pad", 0.25, m, hold * 0.95)
        s.add(k, "choir", 0.3, triad[k % 3] + 12, hold * 0.95)
        s.add(k, "bass", 0.5, root - 12, hold * 0.95)
        k += hold
    if kit:
        for b in range(n):
            if b % 3 == 0:
                s.add(b, "kick", 1.0)
            s.add(b, "hat", 0.5)
            s.add(b + 0.5, "hat", 0.35)
    return s, dict(bpm=100.0)


def f_measure(ref, est) -> float:
    return float(mir_eval.beat.f_measure(mir_eval.beat.trim_beats(np.asarray(ref, float)),
                                         mir_eval.beat.trim_beats(np.asarray(est, float))))


def run(tmp_path, monkeypatch, name, case, scale):
    monkeypatch.setitem(beat_cases.CASES, name, case)
    path = beat_cases.write_case(str(tmp_path), name, SECONDS, seed=0, tempo_scale=scale)
    _, truth = beat_cases.make(name, SECONDS, seed=0, tempo_scale=scale)
    return path, truth, grid_of(f"{path}/mix.flac", full=False)


def drums_absent(path: str) -> bool:
    track = decode.decode_for_analysis(f"{path}/mix.flac")
    mix = decode.resample(track.mono(), track.sr, spectral.ANALYSIS_SR)
    return beat_grid.drums_absent(spectral.stft_magnitude(mix), sr=spectral.ANALYSIS_SR)


@pytest.mark.parametrize("scale", [0.85, 1.3])
def test_a_hymn_without_drums_takes_its_bar_from_the_harmony(tmp_path, monkeypatch, scale):
    path, truth, (beats_s, downs, _, bpb, _) = run(tmp_path, monkeypatch, "hymn", hymn, scale)
    assert drums_absent(path)
    assert f_measure(truth["beats"], beats_s) >= 0.95
    assert bpb == 3
    assert f_measure(truth["downbeats"], downs) >= 0.9     # 0.00 / 0.29 with the drums' logic


def test_a_kit_over_the_same_hymn_keeps_the_kit_s_bar(tmp_path, monkeypatch):
    path, truth, (beats_s, downs, _, bpb, _) = run(
        tmp_path, monkeypatch, "hymn_kit", lambda n: hymn(n, kit=True), 1.0)
    assert not drums_absent(path)
    assert f_measure(truth["beats"], beats_s) >= 0.95
    assert bpb == 3
    assert f_measure(truth["downbeats"], downs) >= 0.9


# The shared eval chorales all start on a one-beat pickup (in the music21 corpus each
# one's measure 0 is one quarter long); their drummer counts bars from the first note,
# so truth.json's downbeats are the drummer's. Without the drum stem the score's bar
# lines are what plays: beats[PICKUP::beats_per_bar].
PICKUP = 1


def test_the_eval_chorales_without_drums_are_read_on_their_score_s_bars(tmp_path):
    need_eval()
    beat_f, down_f = [], []
    for case in CASES:
        stems = [sf.read(str(EVAL / case / "stems" / f"{s}.flac"), dtype="float32")
                 for s in ("bass", "vocals", "other")]
        mix = sum(y for y, _ in stems)
        path = tmp_path / f"{case}.flac"
        sf.write(str(path), 0.9 * mix / float(np.abs(mix).max()), stems[0][1])
        t = truth(case)
        beats_s, downs, *_ = grid_of(str(path), full=False)
        beat_f.append(f_measure(t["beats"], beats_s))
        down_f.append(f_measure(t["beats"][PICKUP::t["beats_per_bar"]], downs))
    assert np.mean(beat_f) >= 0.9, beat_f                  # 0.939
    assert np.mean(down_f) >= 0.8, down_f                  # 0.925; 0.305 with the drums' logic

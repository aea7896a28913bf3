"""The rendered eval cases: beats, tempo, downbeats, pitch, crossovers, the contract."""
from __future__ import annotations

import mir_eval
import numpy as np
import pytest
from analysis_helpers import CASES, EVAL, need_eval, truth

from graph_runtime.analysis import ALL_STEMS, CHANNELS, CLASS_NAMES, COUPLING_CHANNELS, GLOBAL_CHANNELS, STEMS, pair_key


def f_measure(ref, est) -> float:
    return mir_eval.beat.f_measure(mir_eval.beat.trim_beats(np.asarray(ref)),
                                   mir_eval.beat.trim_beats(np.asarray(est)))


def test_beat_f_measure_mean_at_least_095(eval_runs):
    scores = {c: f_measure(truth(c)["beats"], a.beats) for c, a in eval_runs.items()}
    assert np.mean(list(scores.values())) >= 0.95, scores
    assert min(scores.values()) >= 0.9, scores


@pytest.mark.parametrize("case", CASES)
def test_tempo_within_3_percent_including_174(eval_runs, case):
    a, bpm = eval_runs[case], truth(case)["bpm"]
    assert a.meta["beat_tracker"] == "fallback"
    assert abs(a.bpm - bpm) / bpm <= 0.03, (case, a.bpm, bpm)


def test_downbeats_and_meter(eval_runs):
    for case, a in eval_runs.items():
        t = truth(case)
        assert f_measure(t["downbeats"], a.downbeats) >= 0.9, case
        bar = np.median(np.diff(a.downbeats)) / np.median(np.diff(a.beats))
        assert round(bar) == t["beats_per_bar"], case


def _on_reference_grid(track_50fps: np.ndarray, ref_10ms) -> tuple[np.ndarray, np.ndarray]:
    """(estimate, reference) on the reference's 10 ms grid (nearest 50 fps frame)."""
    ref = np.asarray(ref_10ms, dtype=float)
    idx = np.clip(np.round(np.arange(len(ref)) * 0.01 * 50).astype(int), 0, len(track_50fps) - 1)
    return track_50fps[idx].astype(float), ref


def raw_pitch_accuracy(track_50fps: np.ndarray, ref_10ms) -> float:
    """mir_eval raw pitch accuracy (reference-voiced frames, 50 cents)."""
    est, ref = _on_reference_grid(track_50fps, ref_10ms)
    ref_c, ref_v = mir_eval.melody.freq_to_voicing(ref)
    est_c, est_v = mir_eval.melody.freq_to_voicing(est)
    return mir_eval.melody.raw_pitch_accuracy(ref_v, mir_eval.melody.hz2cents(ref_c),
                                              est_v, mir_eval.melody.hz2cents(est_c))


@pytest.mark.parametrize("stem", ["vocals", "bass"])
def test_pesto_raw_pitch_accuracy_where_voiced(stem):
    """PESTO's pitch (before the voicing gate) on the true stems: RPA >= 0.9 on every case."""
    need_eval()
    from graph_runtime.analysis import decode, pitch, spectral
    scores = {}
    for case in CASES:
        track = decode.decode_for_analysis(EVAL / case / "stems" / f"{stem}.flac")
        y = decode.resample(track.mono(), track.sr, spectral.ANALYSIS_SR)
        n = spectral.n_frames_for(len(y))
        hz, _ = pitch.track_stem(y, sr=spectral.ANALYSIS_SR, stem=stem, active=np.ones(n, bool))
        scores[case] = raw_pitch_accuracy(hz, truth(case)[f"f0_{stem}_hz_10ms"])
    assert all(s >= 0.9 for s in scores.values()), scores


@pytest.mark.parametrize("stem", ["vocals", "bass"])
def test_gated_pitch_channel_is_right_where_it_says_voiced(eval_runs, stem):
    """pitch_hz (0 = unvoiced): >= 0.9 accurate where both it and the truth are voiced,
    and voiced on >= 80% of the truth's voiced frames."""
    for case, a in eval_runs.items():
        est, ref = _on_reference_grid(a.channel(f"{stem}/pitch_hz"), truth(case)[f"f0_{stem}_hz_10ms"])
        both = (ref > 0) & (est > 0)
        cents = 1200 * np.abs(np.log2(est[both] / ref[both]))
        assert np.mean(cents < 50) >= 0.9, case
        assert both.sum() / (ref > 0).sum() >= 0.8, case
        assert a.meta["pitch_tracker"][stem] == "pesto"


def test_crossover_bands_sum_back_within_01_db():
    need_eval()
    from graph_runtime.analysis import crossover, decode, spectral
    track = decode.decode_for_analysis(EVAL / "bwv66_6_120" / "stems" / "drums.flac")
    drums = decode.resample(track.mono(), track.sr, spectral.ANALYSIS_SR)
    names, cutoffs = crossover.SUB_BANDS["drums"]
    bands = crossover.split_bands(drums, sr=spectral.ANALYSIS_SR, cutoffs=cutoffs)
    total = np.sum(bands, axis=0)
    err_db = 20 * np.log10(np.sqrt(np.mean(total ** 2)) / np.sqrt(np.mean(drums ** 2)))
    assert abs(err_db) < 0.1
    # and per frequency: the summed spectrum matches the stem's in every bin
    spec_sum = np.abs(np.fft.rfft(total)) + 1e-9
    spec_stem = np.abs(np.fft.rfft(drums)) + 1e-9
    loud = spec_stem > spec_stem.max() * 1e-3
    assert np.max(np.abs(20 * np.log10(spec_sum[loud] / spec_stem[loud]))) < 0.1
    # the bands really split: kick energy in drums_low, hats in drums_high
    rms = [np.sqrt(np.mean(b ** 2)) for b in bands]
    assert all(r > 1e-4 for r in rms)


def test_every_channel_of_the_contract_is_there(eval_runs):
    a = eval_runs["bwv66_6_120"]
    n = a.n_frames
    assert a.fps == 50.0 and abs(n / 50.0 - 24.0) < 0.1
    for stem in ALL_STEMS:
        for ch in CHANNELS:
            arr = a.channel(f"{stem}/{ch}")
            assert arr.shape == (n,) and arr.dtype == np.float32 and np.all(np.isfinite(arr))
        assert a.data[f"class/{stem}"].shape == (len(CLASS_NAMES),)
    for ch in GLOBAL_CHANNELS:
        assert a.channel(f"global/{ch}").shape == (n,)
    for i, s in enumerate(STEMS):
        for b in STEMS[i + 1:]:
            for ch in COUPLING_CHANNELS:
                arr = a.channel(f"coupling/{pair_key(s, b)}/{ch}")
                assert arr.shape == (n,) and 0.0 <= arr.min() and arr.max() <= 1.0
    assert a.meta["separator"] == "user"


def test_channels_say_what_the_music_does(eval_runs):
    a = eval_runs["bwv66_6_120"]
    drums, vocals = a.classification("drums"), a.classification("vocals")
    assert drums["percussive"] > 0.7 and drums["melodic"] == 0.0
    assert vocals["harmonic"] > 0.8 and vocals["melodic"] > vocals["percussive"]
    assert a.channel("drums_high/brightness")[a.channel("drums_high/activity") > 0].mean() > \
        a.channel("drums_low/brightness")[a.channel("drums_low/activity") > 0].mean() + 0.3
    assert a.channel("drums_high/flatness").mean() > a.channel("vocals/flatness").mean() + 0.3
    # the kick sits on the beats: drums_low transients near beats 1 and 3
    kicks = np.flatnonzero(a.channel("drums_low/transient")) / a.fps
    near = [np.min(np.abs(a.beats - k)) < 0.07 for k in kicks]
    assert len(kicks) >= 10 and np.mean(near) > 0.9
    # bass and drums play the same grid: more locked than bass and vocals' call and response
    lock = a.channel(f"coupling/{pair_key('bass', 'drums')}/lock_index").mean()
    assert 0.0 < lock <= 1.0

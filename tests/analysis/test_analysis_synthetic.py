"""Synthetic signals with known answers, one or more per channel family."""
from __future__ import annotations

import numpy as np
import pytest
from analysis_helpers import click_track, tone, write

from graph_runtime.analysis import beat_grid, crossover, envelope, features, onsets, spectral, tonal
from graph_runtime.analysis.pitch import normalized, track_stem

SR, FPS = spectral.ANALYSIS_SR, spectral.FPS


# -- envelope followers ----------------------------------------------------------------
@pytest.mark.parametrize("stem", ["drums", "vocals"])
def test_step_response_matches_preset_times(stem):
    """A step reaches 1 - 1/e after the attack time and falls to 1/e after the release."""
    attack, release = envelope.preset_for(stem)
    fps = 1000.0  # a fine grid so a 2 ms attack is resolved
    x = np.r_[np.zeros(100), np.ones(1000), np.zeros(1000)]
    y = envelope.follow(x, fps=fps, attack_ms=attack, release_ms=release)
    rise = y[100 + int(round(attack)) - 1]
    assert rise == pytest.approx(1 - np.exp(-1), abs=0.02)
    fall = y[1100 + int(round(release)) - 1]
    assert fall == pytest.approx(np.exp(-1) * y[1099], abs=0.02)
    assert attack < release


def test_presets_have_the_documented_feel():
    assert envelope.preset_for("drums") == (2.0, 100.0)     # 50:1, punchy
    assert envelope.preset_for("vocals") == (15.0, 150.0)   # 10:1, phrasing


def test_time_constants_do_not_depend_on_frame_rate():
    x50 = np.r_[np.zeros(10), np.ones(100)]
    x200 = np.r_[np.zeros(40), np.ones(400)]
    y50 = envelope.follow(x50, fps=50.0, attack_ms=15.0, release_ms=150.0)
    y200 = envelope.follow(x200, fps=200.0, attack_ms=15.0, release_ms=150.0)
    assert y50[10 + 4] == pytest.approx(y200[40 + 19], abs=1e-6)  # both at 100 ms


def test_flash_pops_on_a_hit_and_falls_while_sustain_holds():
    env = np.r_[np.zeros(50), np.ones(100)].astype(np.float32)
    flash, sustain = envelope.dual_layer(env, fps=FPS)
    assert flash[50:53].max() > 0.8
    assert flash[120] < 0.05 and sustain[120] > 0.95


# -- pitch ---------------------------------------------------------------------------------
def test_440_hz_tone_reads_440_hz():
    y = tone(440.0, 2.0)
    n = spectral.n_frames_for(len(y))
    hz, conf = track_stem(y, sr=SR, stem="vocals", active=np.ones(n, bool))
    middle = slice(10, n - 10)
    assert np.median(hz[middle]) == pytest.approx(440.0, rel=0.01)
    assert np.median(conf[middle]) > 0.5


def test_low_bass_note_is_not_read_as_its_harmonic():
    """A 49 Hz note with strong harmonics: PESTO alone reports 147 Hz; the bass setting does not."""
    t = np.arange(int(2.0 * SR)) / SR
    y = sum(np.sin(2 * np.pi * 49.0 * k * t) / k for k in range(1, 8)).astype(np.float32) * 0.2
    n = spectral.n_frames_for(len(y))
    hz, _ = track_stem(y, sr=SR, stem="bass", active=np.ones(n, bool))
    assert np.median(hz[10:-10]) == pytest.approx(49.0, rel=0.03)


def test_pitch_normalized_holds_the_last_voiced_value():
    hz = np.array([0, 80, 1200, 0, 0, 80], np.float32)
    out = normalized(hz, lo_hz=80.0, hi_hz=1200.0)
    assert out.tolist() == pytest.approx([0, 0, 1, 1, 1, 0])


# -- beats and onsets -------------------------------------------------------------------
@pytest.mark.parametrize("bpm", [90.0, 128.0, 174.0])
def test_click_track_beats_and_tempo(bpm):
    import mir_eval
    y, clicks = click_track(bpm, 12.0)
    mag = spectral.stft_magnitude(y)
    found, _, tempo = beat_grid.track(mag, sr=SR, fps=FPS)
    assert tempo == pytest.approx(bpm, rel=0.02)
    assert mir_eval.beat.f_measure(clicks, found) >= 0.95


def test_click_track_flux_peaks_and_transients_sit_on_the_clicks():
    y, clicks = click_track(120.0, 6.0)
    ch = features.stem_channels(y, sr=SR, stem="drums", mix_peak=0.1, bpm=120.0)
    hits = np.flatnonzero(ch["transient"]) / FPS
    assert len(hits) == len(clicks)
    assert np.max(np.abs(hits - clicks)) <= 0.03
    peaks = [np.argmax(ch["flux"][int(c * FPS) - 5:int(c * FPS) + 5]) + int(c * FPS) - 5
             for c in clicks]
    assert np.max(np.abs(np.array(peaks) / FPS - clicks)) <= 0.03
    assert ch["flux"].max() == pytest.approx(1.0)


def test_adaptive_threshold_ignores_a_steady_bed():
    flux = np.full(200, 0.4, np.float32)
    flux[[50, 120]] = 1.0
    hits = onsets.pick_peaks(flux, fps=FPS)
    assert np.flatnonzero(hits).tolist() == [50, 120]


# -- silence -------------------------------------------------------------------------------
def test_silence_gives_flat_channels_and_no_beats(tmp_path):
    from graph_runtime.analysis import analyze
    a = analyze(write(tmp_path / "silence.wav", np.zeros(3 * 44100, np.float32), 44100),
                use_cache=False)
    assert len(a.beats) == 0 and len(a.downbeats) == 0 and a.bpm == 0.0
    for key, arr in a.data.items():
        assert np.all(np.isfinite(arr)), key
        if not key.startswith("class/"):
            assert np.ptp(arr) == 0.0, key
    assert float(a.channel("drums/envelope").max()) == 0.0


# -- spectra and bands ----------------------------------------------------------------
def test_rms_of_a_full_scale_sine_is_0707():
    r = spectral.rms(spectral.stft_magnitude(tone(1000.0, 1.0, amp=1.0)))
    assert np.median(r) == pytest.approx(np.sqrt(0.5), rel=0.01)


def test_brightness_and_flatness_order_sounds():
    rng = np.random.default_rng(1)
    low, high = tone(100.0, 1.0), tone(5000.0, 1.0)
    noise = rng.standard_normal(SR).astype(np.float32) * 0.1
    b = [np.median(spectral.brightness(spectral.centroid(spectral.stft_magnitude(x), sr=SR)))
         for x in (low, high)]
    assert b[0] < 0.3 < 0.7 < b[1]
    assert np.median(spectral.flatness(spectral.stft_magnitude(low))) < 0.05
    assert np.median(spectral.flatness(spectral.stft_magnitude(noise))) > 0.8


def test_harmonic_ratio_separates_tone_from_clicks():
    y, _ = click_track(120.0, 4.0)
    tone_ratio = spectral.harmonic_ratio(spectral.stft_magnitude(tone(220.0, 4.0)))
    click_ratio = spectral.harmonic_ratio(spectral.stft_magnitude(y))
    assert np.median(tone_ratio[20:-20]) > 0.9
    assert np.median(click_ratio[20:-20]) < 0.3


def test_lr4_crossover_is_minus_6_db_at_the_cutoff_and_24_db_per_octave():
    n = 1 << 16
    impulse = np.zeros(n, np.float32)
    impulse[n // 2] = 1.0
    low, high = crossover.split_bands(impulse, sr=SR, cutoffs=(1000.0,))
    freqs = np.fft.rfftfreq(n, 1 / SR)
    lo_db = 20 * np.log10(np.abs(np.fft.rfft(low)) + 1e-12)
    hi_db = 20 * np.log10(np.abs(np.fft.rfft(high)) + 1e-12)
    at = lambda db, f: db[np.argmin(np.abs(freqs - f))]  # noqa: E731
    assert at(lo_db, 1000.0) == pytest.approx(-6.0, abs=0.3)
    assert at(hi_db, 1000.0) == pytest.approx(-6.0, abs=0.3)
    assert at(hi_db, 250.0) - at(hi_db, 125.0) == pytest.approx(24.0, abs=1.0)  # 24 dB/octave
    for f in (300.0, 2000.0, 4000.0):  # the digital LR4 magnitude (bilinear warping included)
        r = np.tan(np.pi * f / SR) / np.tan(np.pi * 1000.0 / SR)
        assert at(lo_db, f) == pytest.approx(-20 * np.log10(1 + r ** 4), abs=0.5)
    assert np.allclose(low + high, impulse, atol=1e-6)
    assert np.argmax(np.abs(low)) == n // 2  # zero phase: no delay


def test_tension_orders_intervals():
    t = np.arange(int(2.0 * SR)) / SR

    def dyad(ratio):
        return sum((np.sin(2 * np.pi * 261.63 * k * t) + np.sin(2 * np.pi * 261.63 * ratio * k * t)) / k
                   for k in range(1, 7)) * 0.2
    n = spectral.n_frames_for(len(t))
    on = np.ones(n, bool)
    values = [np.median(tonal.tension(dyad(r), on, sr=SR, hop=spectral.HOP, fps=FPS)[10:-10])
              for r in (2.0, 1.5, 2 ** (6 / 12), 2 ** (1 / 12))]
    assert values == sorted(values) and values[0] < 0.05 and values[-1] > 0.4


def test_tonal_distance_is_zero_at_home_and_grows_away():
    n = 200
    chroma = np.zeros((12, n), np.float32)
    chroma[[0, 4, 7], :150] = 1.0        # C major for most of the track
    chroma[[1, 5, 8], 150:] = 1.0        # then a chord a semitone up
    d = tonal.tonal_distance(chroma, np.ones(n, bool), fps=FPS)
    assert d[50] < d[190] and d[190] > 0.5 and d[50] < 0.5

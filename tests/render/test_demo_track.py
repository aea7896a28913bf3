"""The demo track: deterministic, ~40 s, every instrument where it should be,
and the tempo change heard in the audio (not just written in truth.json)."""
from __future__ import annotations

import os

import numpy as np
import pytest

from hambajuba_nodes.content import demo_track as demo

SR = demo.SR


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The demo written to a fresh cache (one synthesis), read back."""
    import soundfile as sf

    cache = tmp_path_factory.mktemp("cache")
    track = demo.ensure_demo(cache)
    mix, rate = sf.read(track.path, dtype="float32")
    stems = {s: sf.read(track.stems_dir / f"{s}.flac", dtype="float32")[0] for s in demo.STEMS}
    return track, mix, rate, stems, cache


def _band_envelope(x: np.ndarray, lo: float, hi: float, hop: int = 441) -> np.ndarray:
    """RMS in [lo, hi] Hz per 10 ms hop (2048-sample frames)."""
    mono = x.mean(axis=1) if x.ndim == 2 else x
    n = 2048
    frames = np.lib.stride_tricks.sliding_window_view(mono, n)[::hop] * np.hanning(n)
    spec = np.abs(np.fft.rfft(frames, axis=1))
    f = np.fft.rfftfreq(n, 1 / SR)
    return np.sqrt((spec[:, (f >= lo) & (f < hi)] ** 2).sum(axis=1))


def _onsets(env: np.ndarray, hop_s: float = 0.01) -> np.ndarray:
    """Times where the band energy jumps up (rise above 3x the median rise)."""
    rise = np.maximum(np.diff(np.log(env + 1e-6)), 0)
    thr = rise.mean() + 2 * rise.std()
    peaks = [i for i in range(1, len(rise) - 1)
             if rise[i] > thr and rise[i] >= rise[i - 1] and rise[i] >= rise[i + 1]]
    times, last = [], -1.0
    for i in peaks:
        t = (i + 1) * hop_s
        if t - last > 0.15:  # one hit, one onset
            times.append(t)
            last = t
    return np.array(times)


def test_it_is_deterministic(made):
    """A second synthesis equals what the first wrote (to 24-bit FLAC)."""
    _, mix, _, stems, _ = made
    again = demo.synthesize()
    assert np.max(np.abs(again.mix - mix)) <= 2 ** -23 + 1e-9
    for s in demo.STEMS:
        assert np.max(np.abs(again.stems[s] - stems[s])) <= 2 ** -23 + 1e-9


def test_shape_length_and_levels(made):
    track, mix, rate, stems, _ = made
    assert rate == 44100 and mix.ndim == 2 and mix.shape[1] == 2
    assert mix.shape[0] / rate >= 30.0
    assert 0.5 < np.max(np.abs(mix)) < 1.0  # loud, never clipped
    assert np.max(np.abs(sum(stems.values()) - mix)) < 1e-5  # the stems add up to the mix
    truth = track.truth()
    assert truth["duration"] == pytest.approx(mix.shape[0] / rate)
    assert set(truth["notes"]) == {"bass", "vocals", "other"}


def test_kick_tempo_changes_from_110_to_128(made):
    _, _, _, stems, _ = made
    onsets = _onsets(_band_envelope(stems["drums"], 30, 120))
    before = np.diff(onsets[(onsets > 1.0) & (onsets < 17.0)])
    after = np.diff(onsets[(onsets > 22.5) & (onsets < 38.0)])
    assert len(before) > 20 and len(after) > 25
    assert 60 / np.median(before) == pytest.approx(110, abs=2)
    assert 60 / np.median(after) == pytest.approx(128, abs=2)


def test_drums_have_kick_snare_and_hats(made):
    _, _, _, stems, _ = made
    d = stems["drums"]
    hats = _band_envelope(d, 7000, 16000)
    at = lambda env, t: env[int(t / 0.01) + 2]  # just after a hit at t (s)
    a, b = 60 / 110, 60 / 128
    start_b = float(demo.beat_time(demo.RAMP_TO))
    # at 110 BPM hats play eighths: loud on the off-beat eighth, quiet on the sixteenths
    eighth = [at(hats, (k + 0.5) * a) for k in range(16)]
    sixteenth_a = [at(hats, (k + 0.25) * a) for k in range(16)]
    assert np.median(eighth) > 5 * np.median(sixteenth_a)
    # at 128 BPM they play sixteenths
    sixteenth_b = [at(hats, start_b + (k + 0.25) * b) for k in range(24)]
    assert np.median(sixteenth_b) > 5 * np.median(sixteenth_a)
    snare = _band_envelope(d, 1500, 5000)
    hop = 0.01
    beat = 60 / 110
    # bar 4 on: the snare band is louder on beats 2 and 4 than on 1 and 3
    on = [snare[int((8.73 + (k + 1) * beat) / hop) + 2] for k in range(0, 14, 2)]
    off = [snare[int((8.73 + k * beat) / hop) + 2] for k in range(0, 14, 2)]
    assert np.median(on) > 2 * np.median(off)
    # and no snare before bar 4
    early = [snare[int((2 * 4 * beat + (k + 1) * beat) / hop) + 2] for k in range(0, 8, 2)]
    assert np.median(on) > 3 * np.median(early)


def _pitch(x: np.ndarray, t0: float, t1: float, fmin: float, fmax: float) -> float:
    """Strongest autocorrelation period in [1/fmax, 1/fmin] -> Hz."""
    seg = x[int(t0 * SR):int(t1 * SR)].mean(axis=1)
    seg = seg - seg.mean()
    ac = np.fft.irfft(np.abs(np.fft.rfft(seg, 2 * seg.size)) ** 2)[: seg.size]
    lo, hi = int(SR / fmax), int(SR / fmin)
    return SR / (lo + int(np.argmax(ac[lo:hi])))


def test_bass_plays_the_chord_roots(made):
    _, _, _, stems, _ = made
    beat = 60 / 110
    bar = 4 * beat
    # bar 2 is C (C3, 130.8 Hz), bar 3 is G (G2, 98.0 Hz), bar 4 is Am (A2, 110 Hz)
    for n, hz in ((2, 130.8), (3, 98.0), (4, 110.0)):
        assert _pitch(stems["bass"], n * bar + 0.05, n * bar + 0.4, 50, 200) == \
            pytest.approx(hz, rel=0.03)
    low = _band_envelope(stems["bass"], 30, 300).sum()
    high = _band_envelope(stems["bass"], 1000, 8000).sum()
    assert low > 10 * high
    assert np.max(np.abs(stems["bass"][: int(2 * bar * SR) - 100])) < 1e-4  # enters at bar 2


def test_pad_sustains_and_lead_enters_at_bar_4(made):
    _, _, _, stems, _ = made
    bar = 4 * 60 / 110
    pad = _band_envelope(stems["other"], 100, 2000)
    body = pad[int(0.5 / 0.01):int(36 / 0.01)]
    assert np.mean(body > 0.1 * np.median(body)) > 0.97  # on all the time
    lead = stems["vocals"]
    assert np.max(np.abs(lead[: int(4 * bar * SR) - 100])) < 1e-4  # silent before bar 4
    assert np.sqrt(np.mean(lead[int(4 * bar * SR):int(8 * bar * SR)] ** 2)) > 0.01
    # its first note is E5 (659 Hz)
    assert _pitch(lead, 4 * bar + 0.2, 4 * bar + 0.7, 300, 1200) == pytest.approx(659.3, rel=0.03)


def test_truth_matches_the_tempo_map():
    beats = np.array(demo.beat_time(np.arange(demo.TOTAL_BEATS + 1)))
    ibi = np.diff(beats)
    assert ibi[0] == pytest.approx(60 / 110) and ibi[-1] == pytest.approx(60 / 128)
    assert np.all(np.diff(ibi) <= 1e-12)  # the tempo only ever rises
    assert demo.bpm_at_beat(36) == pytest.approx(119)


def test_written_once_atomically_and_reused(made, monkeypatch):
    track, _, _, _, cache = made
    leftovers = [p for p in (cache / "demo").iterdir() if p.name.startswith(".")]
    assert leftovers == []
    stamp = os.stat(track.path).st_mtime_ns
    called = []
    monkeypatch.setattr(demo, "synthesize", lambda: called.append(1))
    again = demo.ensure_demo(cache)
    assert again.path == track.path and not called
    assert os.stat(track.path).st_mtime_ns == stamp
    monkeypatch.setenv("HAMBAJUBA_CACHE", str(cache))
    assert demo.ensure_demo().path == track.path and not called


def test_an_incomplete_demo_is_remade(made, tmp_path):
    import shutil

    track, _, _, _, cache = made
    copy = tmp_path / "cache"
    shutil.copytree(cache, copy)
    (copy / "demo" / "v1" / "stems" / "bass.flac").unlink()
    remade = demo.ensure_demo(copy)
    assert (remade.stems_dir / "bass.flac").read_bytes() == \
        (track.stems_dir / "bass.flac").read_bytes()

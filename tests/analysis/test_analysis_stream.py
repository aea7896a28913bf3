"""Long tracks in bounded memory: block-wise separation equals the
whole-track one, and streaming the stems changes no channel."""
from __future__ import annotations

import numpy as np
import pytest

from graph_runtime.analysis import crossover, features, spectral, stems, stream
from graph_runtime.analysis.store import ALL_STEMS

SR = spectral.ANALYSIS_SR


def busy_stereo(seconds: float, sr: int = 44100, seed: int = 0) -> np.ndarray:
    """Kicks, a bass line, a panned pad and noise: (2, n) float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    beat = (t * 2.0) % 1.0
    kick = np.exp(-beat * 25) * np.sin(2 * np.pi * 55 * t)
    bass = 0.3 * np.sin(2 * np.pi * (55 * 2 ** (np.floor(t / 2) % 5 / 12)) * t)
    pad = 0.2 * np.sin(2 * np.pi * 660 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.3 * t))
    hiss = 0.05 * rng.standard_normal(len(t))
    left, right = kick + bass + 1.4 * pad + hiss, kick + bass + 0.6 * pad + hiss
    return (0.5 * np.stack([left, right])).astype(np.float32)


def test_blockwise_approx_separation_equals_the_whole_track():
    x = busy_stereo(20.0)
    whole = stems.separate_approx(x, sr=44100)
    blocks = stream.separate_approx_blocks(x, sr=44100, block_hops=200, margin_hops=60)  # 4.6 s
    assert set(blocks) == set(whole)
    for name in whole:
        assert len(blocks[name]) == len(whole[name])
        err = np.abs(blocks[name] - whole[name]).max()
        assert err < 1e-3 * np.abs(whole[name]).max(), (name, err)


def test_short_tracks_take_the_whole_track_path(monkeypatch):
    calls = []
    real = stems.separate_approx
    monkeypatch.setattr(stems, "separate_approx", lambda *a, **k: calls.append(1) or real(*a, **k))
    stream.separate_approx_blocks(busy_stereo(3.0), sr=44100)
    assert calls == [1]


def test_streamed_channels_equal_the_all_at_once_ones():
    x = busy_stereo(8.0)
    sources = stems.separate_approx(x, sr=44100)
    mix = (0.5 * (x[0] + x[1]))[::2].copy()            # any mono signal at SR will do
    n = len(mix)
    sources = {k: stems._fit(v, n) for k, v in sources.items()}
    audio = dict(sources)
    audio.update(crossover.virtual_stems(sources, sr=SR))
    audio["mix"] = mix
    mix_mag = spectral.stft_magnitude(mix)
    peak = float(spectral.rms(mix_mag).max())
    expected = {name: features.stem_channels(audio[name], sr=SR, stem=name, mix_peak=peak,
                                             bpm=120.0) for name in ALL_STEMS}
    streamed_audio, mags = dict(sources, mix=mix), {"mix": mix_mag}
    steps = []
    got = stream.stem_channels_in_turn(streamed_audio, mags, sr=SR, fps=spectral.FPS,
                                       mix_peak=peak, bpm=120.0,
                                       step=type("S", (), {"step": lambda self: steps.append(1)})())
    assert list(got) == list(ALL_STEMS) and len(steps) == len(ALL_STEMS)
    for name in ALL_STEMS:
        for ch, arr in expected[name].items():
            np.testing.assert_allclose(got[name][ch], arr, atol=1e-5, err_msg=f"{name}/{ch}")
    # consumed: only the pitched stems are left, and no spectrum
    assert sorted(streamed_audio) == ["bass", "other", "vocals"] and mags == {}


def test_sub_bands_made_in_turn_equal_split_bands():
    y = busy_stereo(4.0)[0][::2].copy()
    names, cutoffs = crossover.SUB_BANDS["drums"]
    whole = crossover.split_bands(y, sr=SR, cutoffs=cutoffs)
    in_turn = list(stream._bands_in_turn(y, sr=SR, cutoffs=cutoffs))
    assert len(in_turn) == len(whole) == len(names)
    for a, b in zip(in_turn, whole):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("stem", ["drums", "other"])
def test_every_sub_band_source_precedes_its_bands(stem):
    order = stream.ORDER
    names, _ = crossover.SUB_BANDS[stem]
    assert all(order.index(stem) < order.index(b) for b in names)


@pytest.mark.parametrize("name, context, align", [("rms", 0, 1), ("spectral_flux", 2, 1),
                                                   ("flatness", 0, 1), ("centroid", 0, 1),
                                                   ("harmonic_ratio", 64, 2)])
def test_framewise_equals_the_whole_spectrogram(monkeypatch, name, context, align):
    from graph_runtime.analysis import framewise
    monkeypatch.setattr(framewise, "BLOCK", 300)
    mag = spectral.stft_magnitude(busy_stereo(30.0)[0][::2].copy())    # 1501 frames: 6 blocks
    fn = getattr(spectral, name)
    if name == "centroid":
        fn = lambda m: spectral.centroid(m, sr=SR)  # noqa: E731
    whole = fn(mag)
    np.testing.assert_allclose(framewise.framewise(fn, mag, context=context, align=align), whole,
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("rate", [44100, 48000])
def test_the_loader_reads_into_one_array_as_a_plain_read_would(tmp_path, rate):
    import soundfile as sf

    from graph_runtime.analysis import decode
    x = busy_stereo(7.0, sr=rate).T.copy()     # (n, 2): longer than a sanitize block
    x[1000, 0] = x[300000, 1] = np.nan
    sf.write(tmp_path / "t.wav", x, rate, subtype="FLOAT")
    track = decode.decode_for_analysis(tmp_path / "t.wav", sr=22050)
    plain = np.nan_to_num(sf.read(tmp_path / "t.wav", dtype="float32")[0].T, nan=0.0)
    np.testing.assert_array_equal(track.samples, decode.resample(plain, rate, 22050))
    assert track.samples.flags.c_contiguous and track.samples.shape[0] == 2
    assert any("2 NaN/inf" in w for w in track.warnings)


def test_pitch_blocks_line_up_with_the_grid(monkeypatch):
    """A stand-in tracker that reports the sample each frame starts at: the
    stitched result must be the whole-track one exactly, frames included."""
    monkeypatch.setattr(stream, "PITCH_BLOCK_FRAMES", 70)
    monkeypatch.setattr(stream, "PITCH_MARGIN_FRAMES", 9)
    sr, fps, n = 16000, 50.0, 503
    hop = int(sr / fps)
    y = np.arange(n * hop + 77, dtype=np.float32)          # the sample index itself

    def tracker(seg, *, sr, n_frames, fps, frames, y_confidence, tag):
        assert tag == "kw passed on" and len(seg) >= n_frames * hop
        conf = np.zeros(n_frames, np.float32)
        conf[frames] = 1.0
        return seg[::hop][:n_frames].copy(), conf + y_confidence[::hop][:n_frames]

    frames = np.arange(0, n, 3)
    hz, conf = stream.pitch_in_blocks(tracker, y, sr=sr, n_frames=n, fps=fps, frames=frames,
                                      y_confidence=-y, tag="kw passed on")
    np.testing.assert_array_equal(hz, np.arange(n) * hop)
    expected = -np.arange(n, dtype=np.float32) * hop
    expected[frames] += 1.0
    np.testing.assert_array_equal(conf, expected)


def test_pitch_in_blocks_reads_like_the_whole_stem(monkeypatch):
    """PESTO on 40 s in 12 s blocks: the same confidence; the pitch within the
    coarse pass's tolerance (which frames it samples moves with the block)."""
    from graph_runtime.analysis import pitch
    t = np.arange(int(40 * SR)) / SR
    y = (0.2 * np.sin(2 * np.pi * (300 * 2 ** (np.floor(t / 1.5) % 7 / 12)) * t)).astype(np.float32)
    n = spectral.n_frames_for(len(y))
    active = np.ones(n, bool)
    whole = pitch.track_stem(y, sr=SR, stem="vocals", active=active)
    monkeypatch.setattr(stream, "PITCH_BLOCK_FRAMES", 600)
    blocks = pitch.track_stem(y, sr=SR, stem="vocals", active=active)
    np.testing.assert_allclose(blocks[1], whole[1], atol=1e-5)
    cents = 1200 * np.abs(np.log2(np.maximum(blocks[0], 1.0) / np.maximum(whole[0], 1.0)))
    assert np.percentile(cents, 99) < 15.0 and np.median(cents) < 1.0


def test_tension_in_blocks_equals_the_whole_track():
    from graph_runtime.analysis import tonal
    y = busy_stereo(30.0)[0][::2].copy()
    n = spectral.n_frames_for(len(y))
    active = np.ones(n, bool)
    active[400:460] = False
    whole = tonal.tension(y, active, sr=SR, hop=spectral.HOP, fps=spectral.FPS)
    blocks = stream.tension_in_blocks(y, active, sr=SR, hop=spectral.HOP, fps=spectral.FPS,
                                      block=250, margin=50)
    assert whole.max() > 0.05                                       # something to compare
    np.testing.assert_allclose(blocks, whole, atol=1e-4)

"""The fast paths give the numbers of the slow ones they replace.

Each speed-up in the analysis (1-D medians, shifted maxima, row-wise
cumulative sums, blockwise float32 STFTs, numpy filterbanks, PESTO's encoder
by FFT convolutions, the coarse-to-fine pitch frames) is checked against
the straightforward computation it stands for.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal

from graph_runtime.analysis import pitch, spectral, tonal

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("shape", [(256, 300), (5, 7), (1, 1), (40, 3)])
@pytest.mark.parametrize("size", [1, 2, 9, 17])
def test_median_along_equals_scipy_median_filter(shape, size):
    x = RNG.random(shape).astype(np.float32)
    assert np.array_equal(spectral.median_along(x, size, axis=1),
                          scipy.ndimage.median_filter(x, size=(1, size), mode="nearest"))
    assert np.array_equal(spectral.median_along(x, size, axis=0),
                          scipy.ndimage.median_filter(x, size=(size, 1), mode="nearest"))


@pytest.mark.parametrize("shape", [(513, 40), (2, 5), (1, 3)])
def test_max_along_bins_equals_maximum_filter1d(shape):
    x = RNG.random(shape).astype(np.float32)
    for size in (3, 5):
        assert np.array_equal(spectral.max_along_bins(x, size),
                              scipy.ndimage.maximum_filter1d(x, size=size, axis=0))


def test_flatness_matches_its_definition():
    """Geometric over arithmetic mean of the power in each frame's band, by plain loops."""
    mag = RNG.random((513, 30)).astype(np.float32) ** 3
    mag[:, :5] = 0.0
    mag[100, 5:10] = 4.0
    got = spectral.flatness(mag)
    power = mag.astype(np.float64) ** 2 + 1e-12
    for j in range(mag.shape[1]):
        cum = np.cumsum(power[:, j])
        lo = int(np.argmax(cum >= 0.02 * cum[-1]))
        hi = int(np.argmax(cum >= 0.98 * cum[-1])) + 1
        width = max(hi - lo, 24)
        lo = int(np.clip((lo + hi) // 2 - width // 2, 0, 513 - width))
        band = power[lo:lo + width, j]
        want = np.exp(np.mean(np.log(band))) / np.mean(band) / spectral.WHITE_NOISE_FLATNESS
        assert got[j] == pytest.approx(min(want, 1.0), rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("n_fft, hop", [(1024, 512), (2048, 192), (256, 100)])
def test_stft_frames_and_inverse_match_scipy(n_fft, hop):
    y = RNG.standard_normal(20000).astype(np.float32)
    _, _, ref = scipy.signal.stft(y, nperseg=n_fft, noverlap=n_fft - hop, boundary="zeros",
                                  padded=True)
    spec = spectral.stft_frames(y, n_fft=n_fft, hop=hop)
    win_sum = spectral.hann(n_fft).astype(np.float64).sum()
    assert spec.shape == ref.T.shape
    assert np.allclose(spec / win_sum, ref.T, atol=1e-6)
    gain = RNG.random(spec.shape).astype(np.float32)   # a mask, as the separation applies
    _, want = scipy.signal.istft(ref * gain.T, nperseg=n_fft, noverlap=n_fft - hop, boundary=True)
    got = spectral.istft_frames(spec * gain, n_fft=n_fft, hop=hop, length=len(y))
    assert np.allclose(got, want[:len(y)], atol=1e-5)
    back = spectral.istft_frames(spec, n_fft=n_fft, hop=hop, length=len(y))
    assert np.allclose(back, y, atol=1e-5)


def test_suppress_decays_keeps_a_steady_tone_and_cuts_a_ringing_tail():
    sr = 16000
    t = np.arange(2 * sr) / sr
    steady = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    out = pitch.suppress_decays(steady, sr=sr)
    mid = slice(sr // 2, 3 * sr // 2)
    assert np.sqrt(np.mean(out[mid] ** 2)) == pytest.approx(np.sqrt(np.mean(steady[mid] ** 2)),
                                                            rel=0.02)
    ring = (steady * np.exp(-t / 0.2)).astype(np.float32)
    out = pitch.suppress_decays(ring, sr=sr)
    late = slice(sr // 2, sr)   # the tail is ~22 dB down; its partial is cut a further ~4x that
    assert np.sqrt(np.mean(out[late] ** 2)) < 0.1 * np.sqrt(np.mean(ring[late] ** 2))


def test_filterbanks_equal_librosa():
    librosa = pytest.importorskip("librosa")
    for n_mels, fmax in ((64, 11000.0), (16, None), (64, 3000.0)):
        want = librosa.filters.mel(sr=22050, n_fft=1024, n_mels=n_mels, fmin=30.0,
                                   fmax=fmax or 11025.0)
        got = spectral.mel_filterbank(sr=22050, n_fft=1024, n_mels=n_mels, fmax=fmax)
        assert np.allclose(got, want, rtol=1e-5, atol=1e-9)
    for n_fft in (1024, 4096):
        want = librosa.filters.chroma(sr=22050, n_fft=n_fft, n_chroma=12, base_c=True)
        assert np.allclose(tonal.chroma_filters(sr=22050, n_fft=n_fft), want, atol=1e-7)


def test_fast_pesto_encoder_equals_pestos_own():
    torch = pytest.importorskip("torch")
    pytest.importorskip("pesto")
    from graph_runtime.analysis import pesto_fast
    model, encoder = pitch.load_pesto(declared_sr=16000, step_ms=20.0)
    assert isinstance(encoder, pesto_fast.FastEncoder)
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(150, 1, encoder.bins, generator=gen) * 3.0 - 10.0   # > one batch
    with torch.inference_mode():
        want, got = model.encoder(x), encoder(x)
    assert got.shape == want.shape
    assert float((got - want).abs().max()) < 1e-3
    assert torch.equal(got.argmax(-1), want.argmax(-1))


def test_coarse_to_fine_frames_find_every_note_change():
    """Frames are run where neighbours disagree, down to the fine step; a held
    note is not run frame by frame."""
    truth = np.repeat([220.0, 220.0, 247.0, 262.0, 262.0, 262.0, 196.0], 9).astype(np.float32)
    todo = np.arange(len(truth))
    hz = np.full(len(truth), np.nan, np.float32)
    done = np.zeros(len(todo), bool)
    batch = pitch.first_pass(len(todo), 4)
    while len(batch):
        hz[todo[batch]] = truth[todo[batch]]
        done[batch] = True
        batch = pitch.refine_frames(todo, done, hz)
    assert done.sum() < 0.6 * len(todo)
    filled = pitch.fill_gaps(hz)
    assert np.array_equal(filled, truth)


def test_torch_threads_restores_the_thread_count():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    with pitch.torch_threads() as n:
        assert 1 <= n <= max(before, 1)
    assert torch.get_num_threads() == before

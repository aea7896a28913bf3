"""Harmony of the mix: chroma, tonal distance, tension.

- chroma: energy per pitch class (0 = C), each frame scaled so its strongest
  class is 1, lightly smoothed; 0 on silent frames.
- tonal distance: Jensen-Shannon distance (the square root of the base-2
  divergence, so a metric in [0, 1]) between each frame's chroma (smoothed
  over ~0.5 s) and the track's mean chroma: how far the music is from home,
  whatever the key. The square root spreads the small divergences of real
  music (0.01..0.1) over a usable range.
- tension: Sethares' fit of the Plomp-Levelt curve summed over all pairs of
  the frame's strongest spectral peaks, vectorised over frames and pairs,
  on the pitched part of the track (the mix without the drums stem: drums
  are rough but not harmonically tense). Amplitudes are normalised per
  frame, so tension is about the intervals, not the loudness; for a dyad of
  harmonic tones a unison or octave reads ~0, a fifth ~0.07, a tritone
  ~0.22, a minor second ~0.56; full arrangements with many partials read
  higher.
"""
from __future__ import annotations

import functools

import numpy as np
import scipy.ndimage

N_PEAKS = 16                 # spectral peaks per frame for roughness
ROUGHNESS_FULL = 0.15        # pair-sum roughness that reads as tension 1 (see the scale below)
TENSION_N_FFT = 4096         # 186 ms at 22050 Hz: resolves partials ~6 Hz apart
TENSION_STEP = 2             # frames: tension runs at 25 fps and is interpolated


@functools.lru_cache(maxsize=8)
def _chroma_filters(sr: int, n_fft: int) -> np.ndarray:
    n_chroma, centre_oct, oct_width = 12, 5.0, 2.0
    freqs = np.arange(1, n_fft) * (sr / n_fft)
    bins = n_chroma * np.log2(freqs / (440.0 / 16.0))            # semitones above A0 / 16
    bins = np.concatenate([[bins[0] - 1.5 * n_chroma], bins])    # the 0 Hz bin: 1.5 octaves down
    widths = np.concatenate([np.maximum(np.diff(bins), 1.0), [1.0]])
    half = np.round(n_chroma / 2.0)
    dist = np.remainder(bins[None, :] - np.arange(n_chroma)[:, None] + half + 10 * n_chroma,
                        n_chroma) - half                          # to each class, in -6 .. 6
    w = np.exp(-0.5 * (2.0 * dist / widths[None, :]) ** 2)       # a Gaussian bump per class
    norm = np.sqrt((w ** 2).sum(axis=0, keepdims=True))
    w = w / np.where(norm < np.finfo(np.float64).tiny, 1.0, norm)
    w *= np.exp(-0.5 * ((bins / n_chroma - centre_oct) / oct_width) ** 2)[None, :]
    w = np.roll(w, -3, axis=0)                                    # A first -> C first
    out = np.ascontiguousarray(w[:, : n_fft // 2 + 1], dtype=np.float32)
    out.flags.writeable = False
    return out


def chroma_filters(*, sr: int, n_fft: int) -> np.ndarray:
    """(12, n_fft // 2 + 1) chroma filterbank, C first, float32, read-only (cached).

    Ellis' chroma filters (as librosa.filters.chroma with its defaults): a
    Gaussian bump per pitch class over each STFT bin's log frequency, each
    bin's weights of unit L2 norm, weighted by a Gaussian over octaves
    centred on octave 5 (~ 880 Hz) two octaves wide."""
    return _chroma_filters(int(sr), int(n_fft))


def chroma(magnitude: np.ndarray, active: np.ndarray, *, sr: int, n_fft: int) -> np.ndarray:
    """(12, n_frames) in [0, 1]: per-frame max-normalised, 3-frame smoothed, 0 when silent."""
    c = chroma_filters(sr=sr, n_fft=n_fft) @ (magnitude.astype(np.float32) ** 2)
    c = scipy.ndimage.uniform_filter1d(c, size=3, axis=1)
    peak = c.max(axis=0, keepdims=True)
    c = np.where(peak > 1e-12, c / np.maximum(peak, 1e-12), 0.0)
    return (c * active.astype(bool)[None]).astype(np.float32)


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """JS divergence, base 2, between columns of p (k, n) and q (k,) or (k, n): (n,) in [0, 1]."""
    p = p / np.maximum(p.sum(axis=0, keepdims=True), 1e-12)
    q = q.reshape(q.shape[0], -1)
    q = q / np.maximum(q.sum(axis=0, keepdims=True), 1e-12)
    m = 0.5 * (p + q)

    def kl(a, b):
        return np.where(a > 0, a * np.log2(np.maximum(a, 1e-12) / np.maximum(b, 1e-12)), 0.0).sum(axis=0)
    return np.clip(0.5 * kl(p, m) + 0.5 * kl(q, m), 0.0, 1.0)


def tonal_distance(chroma_frames: np.ndarray, active: np.ndarray, *, fps: float) -> np.ndarray:
    """(n_frames,) in [0, 1]; 0 on silent frames or a silent track."""
    on = active.astype(bool)
    if not on.any():
        return np.zeros(chroma_frames.shape[1], np.float32)
    smooth = scipy.ndimage.uniform_filter1d(chroma_frames, size=max(1, int(0.5 * fps)), axis=1)
    home = smooth[:, on].mean(axis=1)
    dist = np.sqrt(jensen_shannon(smooth + 1e-9, home + 1e-9))
    return np.where(on, dist, 0.0).astype(np.float32)


# -- roughness -----------------------------------------------------------------------
def sethares_pairs(f: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Roughness summed over all peak pairs per frame.

    f, a: (n_frames, k) peak frequencies (Hz) and amplitudes. For a pair,
    d = min(a_i, a_j) * (exp(-3.5 s df) - exp(-5.75 s df)),
    s = 0.24 / (0.0207 f_low + 18.96): the curve peaks near a quarter of a
    critical band and vanishes for unisons and wide intervals."""
    fi, fj = f[:, :, None], f[:, None, :]
    ai, aj = a[:, :, None], a[:, None, :]
    lo = np.minimum(fi, fj)
    df = np.abs(fi - fj)
    s = 0.24 / (0.0207 * lo + 18.96)
    d = np.minimum(ai, aj) * (np.exp(-3.5 * s * df) - np.exp(-5.75 * s * df))
    upper = np.triu(np.ones(f.shape[1], bool), k=1)
    return (d * upper).sum(axis=(1, 2))


def spectral_peaks(magnitude: np.ndarray, *, sr: int, n_fft: int, k: int = N_PEAKS,
                   fmin: float = 40.0, fmax: float = 5000.0) -> tuple[np.ndarray, np.ndarray]:
    """(freqs, amps), each (n_frames, k): the k strongest local maxima per frame,
    frequencies refined by parabolic interpolation of the log magnitude;
    amplitudes normalised to sum to 1 per frame (zeros where a frame has fewer)."""
    mag = magnitude.T.astype(np.float32)                 # (n, bins)
    binhz = sr / n_fft
    lo, hi = int(np.ceil(fmin / binhz)), min(int(fmax / binhz), mag.shape[1] - 2)
    band = mag[:, lo - 1:hi + 2]
    centre = band[:, 1:-1]
    is_peak = (centre > band[:, :-2]) & (centre >= band[:, 2:])
    score = np.where(is_peak, centre, 0.0)
    k = min(k, score.shape[1])
    idx = np.argpartition(-score, k - 1, axis=1)[:, :k]  # (n, k), unordered
    amp = np.take_along_axis(score, idx, axis=1)
    left = np.log(np.take_along_axis(band[:, :-2], idx, axis=1) + 1e-12)
    mid = np.log(np.take_along_axis(centre, idx, axis=1) + 1e-12)
    right = np.log(np.take_along_axis(band[:, 2:], idx, axis=1) + 1e-12)
    den = left - 2 * mid + right
    offset = np.where(np.abs(den) > 1e-9, 0.5 * (left - right) / np.where(den == 0, 1, den), 0.0)
    freqs = (lo + idx + np.clip(offset, -0.5, 0.5)) * binhz
    total = amp.sum(axis=1, keepdims=True)
    amp = np.where(total > 1e-12, amp / np.maximum(total, 1e-12), 0.0)
    return freqs.astype(np.float64), amp.astype(np.float64)


def tension(y: np.ndarray, active: np.ndarray, *, sr: int, hop: int, fps: float) -> np.ndarray:
    """Roughness of the mix, (n_frames,) in [0, 1], smoothed over ~0.25 s."""
    from .spectral import stft_magnitude
    n = len(active)
    if not active.any():
        return np.zeros(n, np.float32)
    mag = stft_magnitude(y, n_fft=TENSION_N_FFT, hop=hop * TENSION_STEP)
    freqs, amps = spectral_peaks(mag, sr=sr, n_fft=TENSION_N_FFT)
    rough = np.zeros(len(freqs))
    for start in range(0, len(freqs), 2048):  # bounds the (frames, k, k) temporaries
        rough[start:start + 2048] = sethares_pairs(freqs[start:start + 2048], amps[start:start + 2048])
    coarse_t = np.arange(len(rough)) * TENSION_STEP
    full = np.interp(np.arange(n), coarse_t, rough)
    full = scipy.ndimage.uniform_filter1d(full, size=max(1, int(0.25 * fps)))
    return np.where(active.astype(bool), np.clip(full / ROUGHNESS_FULL, 0.0, 1.0), 0.0).astype(np.float32)

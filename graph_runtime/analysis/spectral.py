"""Short-time spectra and the frame-wise descriptors read from them.

One frame grid for the whole analysis: frame i is centred on sample i * hop,
so at sr 22050 and hop 441 frame i sits at t = i / 50 s. Every function is
pure numpy (scipy for the FFT), keyword-only sr/hop, float32 out.

Shapes: y (n_samples,), magnitude (n_bins, n_frames), channels (n_frames,).
"""
from __future__ import annotations

import functools

import numpy as np
import scipy.fft

ANALYSIS_SR = 22050        # Hz: every stem is analysed at this rate
FPS = 50.0                 # frames per second of every channel
HOP = 441                  # samples: ANALYSIS_SR / FPS
N_FFT = 1024               # samples: 46 ms window
BRIGHT_LO, BRIGHT_HI = 50.0, 16000.0   # Hz: brightness 0 and 1
WHITE_NOISE_FLATNESS = 0.56  # expected flatness of a Hann-windowed white noise frame
_BLOCK = 2048              # frames per FFT block (bounds memory on long tracks)


def n_frames_for(n_samples: int, *, hop: int = HOP) -> int:
    """Frames on the grid for a signal of n_samples (centred frames)."""
    return 1 + int(n_samples) // hop


def hann(n_fft: int) -> np.ndarray:
    """Periodic Hann window, float32 (n_fft,)."""
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)


def stft_magnitude(y: np.ndarray, *, n_fft: int = N_FFT, hop: int = HOP) -> np.ndarray:
    """|STFT| of centred, zero-padded Hann frames: (n_fft // 2 + 1, n_frames) float32."""
    y = np.asarray(y, dtype=np.float32)
    n = n_frames_for(len(y), hop=hop)
    pad_end = (n - 1) * hop + n_fft - n_fft // 2 - len(y)
    yp = np.concatenate([np.zeros(n_fft // 2, np.float32), y, np.zeros(max(pad_end, 0), np.float32)])
    frames = np.lib.stride_tricks.as_strided(
        yp, shape=(n, n_fft), strides=(yp.strides[0] * hop, yp.strides[0]), writeable=False)
    win = hann(n_fft)
    out = np.empty((n_fft // 2 + 1, n), dtype=np.float32)
    for start in range(0, n, _BLOCK):
        block = frames[start:start + _BLOCK] * win
        out[:, start:start + _BLOCK] = np.abs(scipy.fft.rfft(block, axis=1, workers=-1)).T
    return out


def stft_frames(y: np.ndarray, *, n_fft: int, hop: int) -> np.ndarray:
    """Complex STFT, (n_frames, n_fft // 2 + 1) complex64, framed as
    scipy.signal.stft(boundary="zeros", padded=True) frames it: n_fft // 2
    zeros at both ends, zeros at the end to a whole frame, periodic Hann.
    Unscaled (scipy divides by the window's sum; istft_frames undoes exactly
    this one). Computed in blocks, float32 all the way."""
    y = np.asarray(y, dtype=np.float32)
    half = n_fft // 2
    total = len(y) + 2 * half
    extra = (-(total - n_fft) % hop) % n_fft
    yp = np.concatenate([np.zeros(half, np.float32), y, np.zeros(half + extra, np.float32)])
    n = (len(yp) - n_fft) // hop + 1
    frames = np.lib.stride_tricks.as_strided(
        yp, shape=(n, n_fft), strides=(yp.strides[0] * hop, yp.strides[0]), writeable=False)
    win = hann(n_fft)
    out = np.empty((n, n_fft // 2 + 1), dtype=np.complex64)
    for start in range(0, n, _BLOCK):
        out[start:start + _BLOCK] = scipy.fft.rfft(frames[start:start + _BLOCK] * win, axis=1,
                                                   workers=-1)
    return out


def istft_frames(spec: np.ndarray, *, n_fft: int, hop: int, length: int) -> np.ndarray:
    """Inverse of stft_frames by weighted overlap-add (y = sum w x_t / sum w^2),
    as scipy.signal.istft(boundary=True): (length,) float32, zero-padded or cut."""
    half = n_fft // 2
    n = spec.shape[0]
    out_len = (n - 1) * hop + n_fft
    out = np.zeros(out_len, np.float32)
    win = hann(n_fft)
    for start in range(0, n, _BLOCK):
        block = scipy.fft.irfft(spec[start:start + _BLOCK], n=n_fft, axis=1, workers=-1)
        block = (block * win).astype(np.float32, copy=False)
        _overlap_add(out, block, start * hop, hop)
    norm = np.zeros(out_len, np.float32)
    _overlap_add(norm, np.broadcast_to(win * win, (n, n_fft)), 0, hop)
    y = np.where(norm > 1e-10, out / np.maximum(norm, 1e-10), out)[half:half + length]
    return y if len(y) == length else np.pad(y, (0, length - len(y)))


def _overlap_add(out: np.ndarray, frames: np.ndarray, offset: int, hop: int) -> None:
    """out[offset + t * hop : ... + n_fft] += frames[t] for every t, in place.

    One strided add per hop-long slice of the frames (n_fft / hop of them,
    rounded up), not a loop over frames. `out` must reach offset + (n - 1)
    * hop + n_fft samples."""
    n, n_fft = frames.shape
    if n == 0:
        return
    for k in range(0, -(-n_fft // hop)):
        width = min(hop, n_fft - k * hop)
        start = offset + k * hop
        rows = n if start + n * hop <= len(out) else n - 1   # the last row's slice may end the buffer
        if rows:
            seg = out[start:start + rows * hop].reshape(rows, hop)
            seg[:, :width] += frames[:rows, k * hop:k * hop + width]
        if rows < n:
            at = start + rows * hop
            out[at:at + width] += frames[rows, k * hop:k * hop + width]


def bin_frequencies(*, sr: int, n_fft: int = N_FFT) -> np.ndarray:
    """Centre frequency of each STFT bin, Hz (n_fft // 2 + 1,)."""
    return np.arange(n_fft // 2 + 1) * (sr / n_fft)


def rms(magnitude: np.ndarray, *, n_fft: int = N_FFT) -> np.ndarray:
    """RMS of each frame's samples from its spectrum (Parseval), (n_frames,).

    A full-scale sine reads 0.707, as its sample RMS does."""
    power = magnitude.astype(np.float64) ** 2
    total = 2.0 * power.sum(axis=0) - power[0] - power[-1]
    win = hann(n_fft).astype(np.float64)
    return np.sqrt(np.maximum(total, 0.0) / (n_fft * np.sum(win ** 2))).astype(np.float32)


def log_compress(magnitude: np.ndarray, *, n_fft: int = N_FFT, gamma: float = 100.0) -> np.ndarray:
    """log(1 + gamma * |X| / (window sum / 2)): a full-scale sine peaks near log(1 + gamma)."""
    scale = 2.0 / float(np.sum(hann(n_fft)))
    return np.log1p(gamma * scale * magnitude).astype(np.float32)


def spectral_flux(magnitude: np.ndarray, *, n_fft: int = N_FFT, lag: int = 1,
                  max_bins: int = 3) -> np.ndarray:
    """Positive change of the log spectrum, mean over bins, (n_frames,).

    The previous frame is max-filtered over `max_bins` bins first, so vibrato
    and slow glides do not read as onsets (the SuperFlux trick)."""
    logmag = log_compress(magnitude, n_fft=n_fft)
    ref = max_along_bins(logmag, max_bins) if max_bins > 1 else logmag
    diff = np.zeros_like(logmag)
    diff[:, lag:] = logmag[:, lag:] - ref[:, :-lag]
    return np.maximum(diff, 0.0).mean(axis=0).astype(np.float32)


def max_along_bins(x: np.ndarray, size: int = 3) -> np.ndarray:
    """Running maximum over `size` neighbouring rows (bins), edges reflected:
    scipy.ndimage.maximum_filter1d(x, size, axis=0) for odd size, by shifted
    np.maximum (several times faster across the rows of a spectrogram)."""
    if size % 2 == 0 or x.shape[0] < 2:
        import scipy.ndimage
        return scipy.ndimage.maximum_filter1d(x, size=size, axis=0)
    out = x.copy()
    for k in range(1, size // 2 + 1):
        if k >= x.shape[0]:
            break
        np.maximum(out[k:], x[:-k], out=out[k:])
        np.maximum(out[:-k], x[k:], out=out[:-k])
    if size // 2 >= 2:  # reflected edges: the rows beyond each end mirror the first/last ones
        import scipy.ndimage
        h = size // 2
        out[:h] = scipy.ndimage.maximum_filter1d(x[: 2 * h + 1], size=size, axis=0)[:h]
        out[-h:] = scipy.ndimage.maximum_filter1d(x[-2 * h - 1:], size=size, axis=0)[-h:]
    return out


def centroid(magnitude: np.ndarray, *, sr: int, n_fft: int = N_FFT) -> np.ndarray:
    """Spectral centroid in Hz (power-weighted), 0 for an empty frame, (n_frames,)."""
    power = magnitude.astype(np.float32) ** 2
    total = power.sum(axis=0)
    freqs = bin_frequencies(sr=sr, n_fft=n_fft).astype(np.float32)
    num = freqs @ power
    return np.where(total > 0, num / np.maximum(total, 1e-30), 0.0).astype(np.float32)


def brightness(centroid_hz: np.ndarray) -> np.ndarray:
    """Centroid log-mapped BRIGHT_LO..BRIGHT_HI Hz -> 0..1, (n_frames,)."""
    c = np.maximum(centroid_hz, BRIGHT_LO)
    return np.clip(np.log(c / BRIGHT_LO) / np.log(BRIGHT_HI / BRIGHT_LO), 0.0, 1.0).astype(np.float32)


def _cumsum_rows(x: np.ndarray) -> np.ndarray:
    """np.cumsum(x, axis=0, dtype=float64), the same numbers ~8x faster on a
    spectrogram: one vectorised add per row instead of numpy's strided
    column-by-column accumulation."""
    out = np.empty(x.shape, np.float64)
    if len(x):
        out[0] = x[0]
    for i in range(1, len(x)):
        np.add(out[i - 1], x[i], out=out[i])
    return out


def flatness(magnitude: np.ndarray, *, min_bins: int = 24, share: float = 0.02) -> np.ndarray:
    """Spectral flatness (geometric / arithmetic mean of power), 0 tonal .. 1 noise.

    Measured over the band each frame occupies (from the bin below which
    `share` of its power lies to the one above which `share` lies, at least
    min_bins wide), so band-limited noise such as hats after a crossover
    reads as noise, not as the silence around it. Scaled so white noise
    reads ~1; (n_frames,) float32."""
    power = magnitude.astype(np.float32) ** 2 + np.float32(1e-12)
    return band_flatness(power, _cumsum_rows, min_bins=min_bins, share=share).astype(np.float32)


def band_flatness(power: np.ndarray, cumsum, *, min_bins: int = 24,
                  share: float = 0.02) -> np.ndarray:
    """flatness() from power (n_bins, n) > 0, with `cumsum(x)` summing along the
    bins: _cumsum_rows for a whole spectrogram, np.cumsum(axis=0) for the few
    columns of a live block (where a loop over 1025 rows would cost more)."""
    n_bins, n = power.shape
    cum = cumsum(power)
    total = cum[-1]
    # cum rises along the bins: the first bin reaching a level = how many stay below it
    lo = (cum < share * total).sum(axis=0)
    hi = (cum < (1.0 - share) * total).sum(axis=0) + 1
    width = np.maximum(hi - lo, min(min_bins, n_bins))
    mid = (lo + hi) // 2
    lo = np.clip(mid - width // 2, 0, n_bins - width)
    hi = lo + width
    cols = np.arange(n)

    def band_sum(c: np.ndarray) -> np.ndarray:  # sum of rows lo .. hi - 1 from a cumulative sum
        return c[hi - 1, cols] - np.where(lo > 0, c[np.maximum(lo - 1, 0), cols], 0.0)
    ari = band_sum(cum) / width
    del cum
    geo = np.exp(band_sum(cumsum(np.log(power))) / width)
    return np.clip(geo / ari / WHITE_NOISE_FLATNESS, 0.0, 1.0)


def median_along(x: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Median filter of a 2-D array along one axis, edges extended ('nearest').

    Equal to scipy.ndimage.median_filter with a (size, 1) or (1, size)
    window, ~5x faster: each line is edge-padded, the lines are laid end to
    end, and one call takes scipy's fast 1-D path (its n-D rank filter sorts
    every window from scratch)."""
    import scipy.ndimage
    x = np.asarray(x)
    if x.ndim != 2 or size <= 1 or x.size == 0:
        return x.copy()
    lines = np.ascontiguousarray(x if axis in (1, -1) else x.T)
    h = size // 2
    padded = np.pad(lines, ((0, 0), (h, size - 1 - h)), mode="edge")
    out = scipy.ndimage.median_filter(padded.ravel(), size=size, mode="nearest")
    out = out.reshape(padded.shape)[:, h:h + lines.shape[1]]
    return np.ascontiguousarray(out if axis in (1, -1) else out.T)


def harmonic_ratio(magnitude: np.ndarray, *, freq_pool: int = 2, time_pool: int = 2,
                   time_kernel: int = 9, freq_kernel: int = 17, smooth_cells: int = 5) -> np.ndarray:
    """Harmonic share of the energy around each frame, by median-filter HPSS
    (Fitzgerald 2010), in [0, 1], (n_frames,).

    Runs on a pooled spectrogram (freq_pool bins x time_pool frames per cell)
    because the medians dominate the cost; at 22050 Hz and 50 fps the
    kernels span 0.36 s and 730 Hz. The share is energy-weighted over
    smooth_cells cells (0.2 s), so the quiet ring between two drum hits does
    not count as much as the hits."""
    import scipy.ndimage
    n_bins, n = magnitude.shape
    if n == 0:
        return np.zeros(0, np.float32)
    usable = (n_bins - 1) // freq_pool * freq_pool
    m = magnitude[:usable].reshape(usable // freq_pool, freq_pool, n).mean(axis=1)
    m = np.pad(m, ((0, 0), (0, -n % time_pool)), mode="edge")
    m = m.reshape(m.shape[0], -1, time_pool).mean(axis=2)
    harm = median_along(m, time_kernel, axis=1)
    perc = median_along(m, freq_kernel, axis=0)
    h2, p2 = harm.astype(np.float64) ** 2, perc.astype(np.float64) ** 2
    mask = h2 / np.maximum(h2 + p2, 1e-30)
    energy = m.astype(np.float64) ** 2
    num = scipy.ndimage.uniform_filter1d((mask * energy).sum(axis=0), smooth_cells)
    den = scipy.ndimage.uniform_filter1d(energy.sum(axis=0), smooth_cells)
    ratio = np.where(den > 1e-20, num / np.maximum(den, 1e-30), 0.0)
    coarse_t = (np.arange(ratio.shape[0]) + 0.5) * time_pool - 0.5
    return np.clip(np.interp(np.arange(n), coarse_t, ratio), 0.0, 1.0).astype(np.float32)


def hz_to_mel(hz):
    """Slaney's mel scale: linear (200/3 Hz per mel) below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    logstep = np.log(6.4) / 27.0
    return np.where(hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-12) / 1000.0) / logstep,
                    hz * 3.0 / 200.0)


def mel_to_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    logstep = np.log(6.4) / 27.0
    return np.where(mel >= 15.0, 1000.0 * np.exp(logstep * (mel - 15.0)), mel * 200.0 / 3.0)


@functools.lru_cache(maxsize=32)
def _mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    bins = bin_frequencies(sr=sr, n_fft=n_fft)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    width = np.diff(edges)
    ramps = edges[:, None] - bins[None, :]
    rising = -ramps[:-2] / width[:-1, None]
    falling = ramps[2:] / width[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]   # Slaney: equal energy per band
    out = weights.astype(np.float32)
    out.flags.writeable = False
    return out


def mel_filterbank(*, sr: int, n_fft: int = N_FFT, n_mels: int = 64,
                   fmin: float = 30.0, fmax: float | None = None) -> np.ndarray:
    """Slaney-style triangular mel filters (area-normalised, as librosa's
    default), (n_mels, n_fft // 2 + 1) float32, read-only (cached)."""
    return _mel_filterbank(int(sr), int(n_fft), int(n_mels), float(fmin),
                           float(fmax if fmax else sr / 2.0))

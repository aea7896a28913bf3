"""Beats, downbeats and BPM without a neural network: the fallback tracker.

Used when no Beat This! checkpoint is present (beat_this_runner.py). Four steps,
each a pure numpy function on the 50 fps grid:

1. onset_envelope: log-mel spectral flux of the mix (what a listener taps to).
2. tempo_candidates + choose_tempo: periodicity from the autocorrelation of the
   envelope, then the metrical level. The strongest periodicity is often the
   half bar or the eighth note; the beat is chosen as the fastest level, from
   the bar upwards, whose off-beats are still clearly weaker than its
   on-beats. That keeps 174 BPM drum and bass at 174 instead of 87, and does
   not double a 92 BPM groove with eighth-note hats.
3. track_beats: dynamic programming (Ellis 2007) for beat times that follow
   the onsets while keeping the period, refined to sub-frame times.
4. downbeats_from: the meter (3 or 4) and bar phase that put the most
   low-band (kick) energy and harmony change on beat one.

Units: frames at `fps`, seconds for beat times, BPM for tempo.
"""
from __future__ import annotations

import numpy as np
import scipy.ndimage
import scipy.signal

from .spectral import N_FFT, log_compress, mel_filterbank

MIN_BPM, MAX_BPM = 55.0, 215.0     # the beat level is searched in this range
SUBDIVISION_STRONG = 0.36          # off-beat/on-beat accent at or above this: go one level faster
SUBDIVISION_STRONG_FAST = 0.45     # ... when the faster level would be above FAST_BPM
FAST_BPM = 160.0
ACCENT_FMAX = 3000.0               # Hz: accents are judged below the hats' band


def onset_envelope(magnitude: np.ndarray, *, sr: int, n_fft: int = N_FFT,
                   n_mels: int = 64, fmax: float = 11000.0) -> np.ndarray:
    """Log-mel spectral flux, local mean removed, rectified, unit std: (n_frames,)."""
    mel = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmax=min(fmax, sr / 2)) @ magnitude
    logmel = log_compress(mel, n_fft=n_fft)
    ref = scipy.ndimage.maximum_filter1d(logmel, size=3, axis=0)
    flux = np.zeros(logmel.shape[1], np.float32)
    flux[1:] = np.maximum(logmel[:, 1:] - ref[:, :-1], 0.0).mean(axis=0)
    return _normalise_onsets(flux)


def band_onset_envelope(magnitude: np.ndarray, *, sr: int, n_fft: int = N_FFT,
                        lo: float = 0.0, hi: float = 200.0) -> np.ndarray:
    """Flux restricted to lo..hi Hz (default: the kick's band), (n_frames,)."""
    freqs = np.arange(magnitude.shape[0]) * sr / n_fft
    band = magnitude[(freqs >= lo) & (freqs < hi)]
    if band.shape[0] == 0:
        return np.zeros(magnitude.shape[1], np.float32)
    logmag = log_compress(band, n_fft=n_fft)
    flux = np.zeros(logmag.shape[1], np.float32)
    flux[1:] = np.maximum(np.diff(logmag, axis=1), 0.0).sum(axis=0)
    return _normalise_onsets(flux)


def _normalise_onsets(flux: np.ndarray, *, fps: float = 50.0) -> np.ndarray:
    """Remove a 1 s running mean, half-wave rectify, scale to unit std."""
    if flux.size == 0:
        return flux.astype(np.float32)
    local = scipy.ndimage.uniform_filter1d(flux, size=max(1, int(fps)), mode="nearest")
    out = np.maximum(flux - local, 0.0)
    sd = float(out.std())
    return (out / sd if sd > 1e-9 else np.zeros_like(out)).astype(np.float32)


# -- tempo -------------------------------------------------------------------------
def periodicity(onset: np.ndarray, *, fps: float, window_s: float = 8.0,
                hop_s: float = 2.0, max_lag_s: float = 4.0) -> np.ndarray:
    """Mean of windowed, normalised autocorrelations: (n_lags,), lag 0 = 1.

    Averaging short windows (a tempogram's mean) keeps tempo changes from
    smearing and weights every part of the track equally."""
    n = len(onset)
    win = max(8, min(n, int(window_s * fps)))
    max_lag = min(int(max_lag_s * fps), win - 1)
    hop = max(1, int(hop_s * fps))
    taper = np.hanning(win)
    acc = np.zeros(max_lag + 1)
    count = 0
    for start in range(0, max(1, n - win + 1), hop):
        seg = onset[start:start + win]
        if len(seg) < win:
            seg = np.pad(seg, (0, win - len(seg)))
        seg = (seg - seg.mean()) * taper
        spec = np.fft.rfft(seg, 2 * win)
        ac = np.fft.irfft(np.abs(spec) ** 2)[: max_lag + 1]
        if ac[0] > 1e-12:
            acc += ac / ac[0]
            count += 1
    return acc / max(count, 1)


def acf_at(acf: np.ndarray, lag: float) -> float:
    """Autocorrelation at a fractional lag (linear interpolation)."""
    return float(np.interp(lag, np.arange(len(acf)), acf, left=0.0, right=0.0))


def strongest_period(acf: np.ndarray, *, fps: float, lo_bpm: float = 35.0,
                     hi_bpm: float = 320.0) -> float:
    """The lag (frames, fractional) of the highest autocorrelation peak in range."""
    lags = np.arange(len(acf))
    lo = max(2, int(np.floor(60.0 * fps / hi_bpm)))
    hi = min(len(acf) - 2, int(np.ceil(60.0 * fps / lo_bpm)))
    if hi <= lo:
        return 60.0 * fps / 120.0
    peaks, _ = scipy.signal.find_peaks(acf[lo:hi + 1])
    if len(peaks) == 0:
        return 60.0 * fps / 120.0
    k = lo + peaks[np.argmax(acf[lo + peaks])]
    return _parabolic(acf, k) if 0 < k < len(lags) - 1 else float(k)


def _parabolic(y: np.ndarray, k: int) -> float:
    a, b, c = y[k - 1], y[k], y[k + 1]
    den = a - 2 * b + c
    return float(k + (0.5 * (a - c) / den if abs(den) > 1e-12 else 0.0))


def refine_period(acf: np.ndarray, period: float) -> float:
    """Snap a fractional period to the nearest autocorrelation peak (+-8%)."""
    lo, hi = int(np.floor(period * 0.92)), int(np.ceil(period * 1.08))
    lo, hi = max(lo, 1), min(hi, len(acf) - 2)
    if hi <= lo:
        return period
    k = lo + int(np.argmax(acf[lo:hi + 1]))
    return _parabolic(acf, k) if lo < k < hi else period


def pulse_strengths(onset: np.ndarray, period: float, parts: int) -> tuple[float, float]:
    """Best-phase on-beat strength and the mean strength on the `parts`-way
    subdivision points between beats, for a grid of `period` frames."""
    n = len(onset)
    n_phase = max(1, int(round(period)))
    beats = np.arange(0.0, n - 1, period)
    if len(beats) < 2:
        return 0.0, 0.0
    smooth = scipy.ndimage.maximum_filter1d(onset, size=3)
    on = np.array([smooth[np.clip(np.round(beats + ph).astype(int), 0, n - 1)].mean()
                   for ph in range(n_phase)])
    best = int(np.argmax(on))
    offs = [smooth[np.clip(np.round(beats + best + period * j / parts).astype(int), 0, n - 1)].mean()
            for j in range(1, parts)]
    return float(on[best]), float(np.mean(offs))


def choose_tempo(onset: np.ndarray, *, fps: float,
                 accent: np.ndarray | None = None) -> tuple[float, float]:
    """(bpm, confidence). Walks up the metrical levels from the bar to the beat.

    Start at the slowest level related to the strongest periodicity that is
    still >= ~27 BPM. While a faster level (x2 or x3) is inside the beat
    range and the slower level's subdivision points carry a real accent in
    `accent` (an onset envelope below the hats' band: kick, snare, chords),
    the faster level is the beat. Eighth-note hats do not count as accents,
    a backbeat snare does."""
    if len(onset) < 4 or float(onset.max(initial=0.0)) <= 0.0:
        return 0.0, 0.0
    accent = onset if accent is None else accent
    acf = periodicity(onset, fps=fps)
    base = strongest_period(acf, fps=fps)
    period = base
    while 60.0 * fps / (period * 2) >= 27.0 and period * 2 < len(acf) - 2:
        period = refine_period(acf, period * 2)
    while True:
        bpm = 60.0 * fps / period
        options = []
        for parts in (2, 3):
            faster = 60.0 * fps / (period / parts)
            if faster > MAX_BPM:
                continue
            on, off = pulse_strengths(accent, period, parts)
            ratio = off / on if on > 0 else 0.0
            need = SUBDIVISION_STRONG_FAST if faster > FAST_BPM else SUBDIVISION_STRONG
            options.append((ratio, parts, need))
        strong = [o for o in options if o[0] >= o[2]]
        if bpm >= MIN_BPM and not strong:
            break
        if not options:
            break
        ratio, parts, _ = max(strong or options)
        period = refine_period(acf, period / parts)
    confidence = float(np.clip(acf_at(acf, period), 0.0, 1.0))
    return 60.0 * fps / period, confidence


# -- beat times --------------------------------------------------------------------
def track_beats(onset: np.ndarray, *, fps: float, bpm: float,
                tightness: float = 400.0) -> np.ndarray:
    """Beat frames (float, sub-frame) by dynamic programming.

    score[t] = onset[t] + max over previous beats p of
               score[p] - tightness * log((t - p) / period)^2."""
    n = len(onset)
    if n == 0 or bpm <= 0:
        return np.zeros(0)
    period = 60.0 * fps / bpm
    lags = np.arange(int(np.round(period / 2)), int(np.round(2 * period)) + 1)
    penalty = -tightness * np.log(lags / period) ** 2
    score = onset.astype(np.float64).copy()
    back = np.full(n, -1, dtype=np.int64)
    for t in range(lags[0], n):
        prev = t - lags
        ok = prev >= 0
        cand = score[prev[ok]] + penalty[ok]
        j = int(np.argmax(cand))
        if cand[j] > 0:
            score[t] += cand[j]
            back[t] = prev[ok][j]
    # the last beat: the best-scoring local max within one period of the end
    tail = score[max(0, n - int(np.ceil(period))):]
    t = max(0, n - len(tail)) + int(np.argmax(tail))
    path = [t]
    while back[path[-1]] >= 0:
        path.append(int(back[path[-1]]))
    frames = np.array(path[::-1], dtype=np.float64)
    frames = _trim_weak_ends(frames, onset)
    return _refine_subframe(frames, onset)


def _trim_weak_ends(frames: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """Drop leading/trailing beats on near-silent onsets (the DP extrapolates)."""
    if len(frames) < 3:
        return frames
    strength = scipy.ndimage.maximum_filter1d(onset, size=5)[frames.astype(int)]
    floor = 0.1 * float(np.median(strength))
    good = np.flatnonzero(strength > floor)
    return frames[good[0]:good[-1] + 1] if len(good) else frames[:0]


def _refine_subframe(frames: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """Move each beat to the parabolic peak of the onset within +-1 frame."""
    out = frames.copy()
    for i, f in enumerate(frames.astype(int)):
        if 0 < f < len(onset) - 1:
            a, b, c = onset[f - 1], onset[f], onset[f + 1]
            den = a - 2 * b + c
            if b >= a and b >= c and den < 0:
                out[i] = f + 0.5 * (a - c) / den
    return out


# -- bars --------------------------------------------------------------------------
def downbeats_from(beat_frames: np.ndarray, low_onset: np.ndarray,
                   harmony_change: np.ndarray | None = None) -> tuple[int, int]:
    """(beats_per_bar, index of the first downbeat in beat_frames).

    For meters 4 and 3 and each phase, score how much more kick onset (and
    harmony change) falls on the candidate beat ones than on the other
    beats. A kick on 1 and 3 cannot tell beat 1 from beat 3: when both
    outweigh beats 2 and 4, the phase whose first downbeat comes earlier
    wins (tracks mostly start on a bar)."""
    if len(beat_frames) < 6:
        return 4, 0
    idx = np.clip(np.round(beat_frames).astype(int), 0, len(low_onset) - 1)
    strength = scipy.ndimage.maximum_filter1d(low_onset, size=5)[idx]
    strength = strength / (strength.mean() + 1e-9)
    if harmony_change is not None and len(harmony_change) == len(low_onset):
        h = scipy.ndimage.maximum_filter1d(harmony_change, size=5)[idx]
        strength = strength + 0.5 * h / (h.mean() + 1e-9)
    scores: dict[tuple[int, int], float] = {}
    for meter in (4, 3):
        for phase in range(meter):
            ones = strength[phase::meter]
            rest = np.delete(strength, np.arange(phase, len(strength), meter))
            scores[(meter, phase)] = float(ones.mean() - rest.mean())
    meter, phase = max(scores, key=scores.get)
    if meter == 4:
        other = (phase + 2) % 4
        on = [strength[p::4].mean() for p in (phase, other)]
        off = [strength[(p + 1) % 4::4].mean() for p in (phase, other)]
        if min(on) > max(off):  # 1 and 3 both outweigh 2 and 4: a half-bar pattern
            phase = min(phase, other)
    return meter, phase


# -- the whole fallback, and the grid channels --------------------------------------
def bpm_from_beats(beats_s: np.ndarray) -> float:
    """Tempo from the median inter-beat interval; 0 with fewer than two beats."""
    if len(beats_s) < 2:
        return 0.0
    ibi = float(np.median(np.diff(beats_s)))
    return 60.0 / ibi if ibi > 0 else 0.0


def track(magnitude: np.ndarray, *, sr: int, fps: float,
          harmony_change: np.ndarray | None = None
          ) -> tuple[np.ndarray, np.ndarray, float]:
    """(beats s, downbeats s, bpm) of the mix from its magnitude (bins, n_frames)."""
    onset = onset_envelope(magnitude, sr=sr)
    if len(onset) < int(2 * fps) or float(onset.max(initial=0.0)) <= 0.0:
        return np.zeros(0), np.zeros(0), 0.0
    accent = onset_envelope(magnitude, sr=sr, fmax=ACCENT_FMAX)
    bpm, _ = choose_tempo(onset, fps=fps, accent=accent)
    if bpm <= 0:
        return np.zeros(0), np.zeros(0), 0.0
    frames = track_beats(onset, fps=fps, bpm=bpm)
    if len(frames) < 2:
        return np.zeros(0), np.zeros(0), 0.0
    low = band_onset_envelope(magnitude, sr=sr)
    meter, first = downbeats_from(frames, low, harmony_change)
    beats_s = frames / fps
    return beats_s, beats_s[first::meter], bpm_from_beats(beats_s)


def phase_channel(times: np.ndarray, marks: np.ndarray) -> np.ndarray:
    """Position in [0, 1) between consecutive marks (seconds), extrapolated at the ends."""
    if len(marks) < 2:
        return np.zeros(len(times), np.float32)
    i = np.clip(np.searchsorted(marks, times, side="right") - 1, 0, len(marks) - 2)
    start, period = marks[i], marks[i + 1] - marks[i]
    before = times < marks[0]
    after = times >= marks[-1]
    start = np.where(after, marks[-1], start)
    period = np.where(after, marks[-1] - marks[-2], period)
    start = np.where(before, marks[0], start)
    period = np.where(before, marks[1] - marks[0], period)
    phase = np.mod((times - start) / np.maximum(period, 1e-6), 1.0)
    return np.where(phase >= 1.0, 0.0, phase).astype(np.float32)


def pulse_channel(n: int, marks: np.ndarray, *, fps: float) -> np.ndarray:
    """1 on the frame nearest each mark, (n,) float32."""
    out = np.zeros(n, np.float32)
    idx = np.round(np.asarray(marks) * fps).astype(int)
    out[idx[(idx >= 0) & (idx < n)]] = 1.0
    return out


def grid_channels(times: np.ndarray, beats_s: np.ndarray, downbeats_s: np.ndarray,
                  *, fps: float) -> dict[str, np.ndarray]:
    """global/ beat_phase, bar_phase, beat, downbeat."""
    n = len(times)
    return {"beat_phase": phase_channel(times, beats_s),
            "bar_phase": phase_channel(times, downbeats_s),
            "beat": pulse_channel(n, beats_s, fps=fps),
            "downbeat": pulse_channel(n, downbeats_s, fps=fps)}

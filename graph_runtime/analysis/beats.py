"""Beat-level building blocks of the fallback tracker (no neural network).

Used when no Beat This! checkpoint is present (beat_grid.track_grid runs
them in order). Pure numpy functions on the 50 fps grid:

1. onset_envelope / band_onset_envelope: log-mel spectral flux of the mix
   (what a listener taps to), and of a band (the kick's, below 200 Hz).
2. the metrical level lives in tempo_level.py (re-exported here).
3. local_periods: the beat period where the track is, from a tempogram
   (6 s windows every 0.5 s) searched within +-45 % of that tempo and a
   Viterbi path through it that lets the tempo drift slowly and change in
   steps at a cost. A track that goes from 110 to 128 BPM is followed; one
   noisy window is not.
4. track_beats: dynamic programming (Ellis 2007) for beat times that follow
   the onsets while keeping the local period, refined to sub-frame times.
5. bpm_from_beats / bpm_range / local_bpm_channel: the tempo that moves.
   The bar (meter, downbeats) is meter.py's.

Units: frames at `fps`, seconds for beat times, BPM for tempo.
"""
from __future__ import annotations

import numpy as np
import scipy.ndimage

from .beat_order import MIN_BEAT_GAP_S, downbeats_on, strictly_increasing  # noqa: F401
from .spectral import N_FFT, log_compress, max_along_bins, mel_filterbank
from .tempo_level import (  # noqa: F401
    FAST_BPM,
    MAX_BPM,
    MIN_BPM,
    SUBDIVISION_STRONG,
    SUBDIVISION_STRONG_FAST,
    acf_at,
    choose_tempo,
    periodicity,
    pulse_strengths,
    refine_period,
    strongest_period,
)

ACCENT_FMAX = 3000.0               # Hz: accents are judged below the hats' band


def onset_envelope(magnitude: np.ndarray, *, sr: int, n_fft: int = N_FFT,
                   n_mels: int = 64, fmax: float = 11000.0) -> np.ndarray:
    """Log-mel spectral flux, local mean removed, rectified, unit std: (n_frames,)."""
    mel = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmax=min(fmax, sr / 2)) @ magnitude
    logmel = log_compress(mel, n_fft=n_fft)
    ref = max_along_bins(logmel, 3)
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


# -- local tempo -----------------------------------------------------------------
LOCAL_WINDOW_S = 6.0     # tempogram window: ~10 beats, short enough to follow a change
LOCAL_HOP_S = 0.5
LOCAL_SPREAD = 1.45      # local periods are searched within period / spread .. period * spread
LOCAL_STEP = 1.01        # ratio between neighbouring period states (1 %)
DRIFT_COST = 0.004       # per (1 % state)^2 between windows 0.5 s apart: slow drift is cheap
JUMP_COST = 0.35         # a step change (more than DRIFT_STATES states at once)
DRIFT_STATES = 3
PRIOR_WEIGHT = 2.0       # per log(ratio)^2 away from the track's tempo: keeps the metrical level
                         # (a x1.5 step costs 0.33; an 80 -> 160 BPM ramp's ends 0.24 are still followed)


def tempogram(onset: np.ndarray, *, fps: float, max_lag: int, window_s: float = LOCAL_WINDOW_S,
              hop_s: float = LOCAL_HOP_S) -> tuple[np.ndarray, np.ndarray]:
    """(window centres in frames (n_win,), normalised autocorrelations (n_win, max_lag + 1)).

    Hann-tapered windows of the onset envelope, mean removed, one batch of
    FFTs; lag 0 is 1 (0 for a silent window). A track shorter than a window
    is one window."""
    n = len(onset)
    win = max(8, min(n, int(round(window_s * fps))))
    hop = max(1, int(round(hop_s * fps)))
    max_lag = min(max_lag, win - 1)
    starts = np.arange(0, max(1, n - win + 1), hop)
    if starts[-1] + win < n:  # the end of the track gets a window too
        starts = np.append(starts, n - win)
    padded = np.pad(onset.astype(np.float64), (0, max(0, win - n)))
    segs = np.lib.stride_tricks.sliding_window_view(padded, win)[starts]
    segs = (segs - segs.mean(axis=1, keepdims=True)) * np.hanning(win)
    spec = np.fft.rfft(segs, 2 * win, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, : max_lag + 1]
    zero = ac[:, :1]
    ac = np.where(zero > 1e-12, ac / np.maximum(zero, 1e-12), 0.0)
    return starts + (win - 1) / 2.0, ac


def local_periods(onset: np.ndarray, *, fps: float, period: float) -> np.ndarray:
    """Beat period (frames, float) at every frame, (n_frames,), near `period`.

    A tempogram scores each candidate period p in period / LOCAL_SPREAD ..
    period * LOCAL_SPREAD (1 % steps) by a comb over its multiples
    (acf(p) + acf(2p) / 2 + acf(3p) / 3 + acf(4p) / 4, so a bar-long repetition
    does not pass for a beat, and a 4/4 beat's bar keeps the path off the
    level 4/3 or 2/3 as fast), minus a prior that keeps it near the track's tempo
    (the metrical level was chosen on the whole track). A Viterbi path
    through the windows lets the period drift cheaply (up to 3 % per 0.5 s)
    and step at a fixed cost (a tempo change), so one noisy window does not
    move it. The path is interpolated (in log period) to every frame."""
    n = len(onset)
    if n == 0 or period <= 0:
        return np.zeros(n)
    n_states = 2 * int(np.ceil(np.log(LOCAL_SPREAD) / np.log(LOCAL_STEP))) + 1
    ratios = LOCAL_STEP ** (np.arange(n_states) - n_states // 2)
    states = period * ratios
    centres, ac = tempogram(onset, fps=fps, max_lag=int(np.ceil(4 * states[-1])) + 2)
    lags = np.arange(ac.shape[1])

    def at(mult: float) -> np.ndarray:
        x = states * mult
        i = np.clip(np.floor(x).astype(int), 0, ac.shape[1] - 2)
        f = np.clip(x - i, 0.0, 1.0)
        inside = x <= lags[-1]
        return np.where(inside, ac[:, i] * (1 - f) + ac[:, i + 1] * f, 0.0)

    score = at(1.0) + at(2.0) / 2.0 + at(3.0) / 3.0 + at(4.0) / 4.0
    score = score - PRIOR_WEIGHT * np.log(ratios)[None, :] ** 2
    # Viterbi over windows: quadratic drift cost nearby, a flat cost for a jump
    d = np.abs(np.arange(n_states)[:, None] - np.arange(n_states)[None, :])
    trans = np.where(d <= DRIFT_STATES, -DRIFT_COST * d ** 2, -JUMP_COST)
    best = score[0].copy()
    back = np.zeros(score.shape, dtype=np.int64)
    for w in range(1, len(score)):
        cand = best[:, None] + trans            # (from, to)
        back[w] = np.argmax(cand, axis=0)
        best = cand[back[w], np.arange(n_states)] + score[w]
    path = np.zeros(len(score), dtype=np.int64)
    path[-1] = int(np.argmax(best))
    for w in range(len(score) - 1, 0, -1):
        path[w - 1] = back[w, path[w]]
    log_p = np.log(states[path])
    return np.exp(np.interp(np.arange(n), centres, log_p))


# -- beat times --------------------------------------------------------------------
def track_beats(onset: np.ndarray, *, fps: float, bpm: float | None = None,
                periods: np.ndarray | None = None, tightness: float = 400.0) -> np.ndarray:
    """Beat frames (float, sub-frame) by dynamic programming.

    score[t] = onset[t] + max over previous beats p of
               score[p] - tightness * log((t - p) / period[t])^2,
    with period[t] the local beat period (`periods`, frames, one per frame)
    or the constant 60 * fps / bpm."""
    n = len(onset)
    if periods is None:
        if n == 0 or not bpm or bpm <= 0:
            return np.zeros(0)
        periods = np.full(n, 60.0 * fps / bpm)
    periods = np.asarray(periods, dtype=np.float64)
    if n == 0 or not np.all(periods > 0):
        return np.zeros(0)
    lags = np.arange(1, int(np.ceil(2 * periods.max())) + 1)
    score = onset.astype(np.float64).copy()
    back = np.full(n, -1, dtype=np.int64)
    first = max(1, int(np.round(periods.min() / 2)))
    for t in range(first, n):
        period = periods[t]
        lo, hi = max(1, int(np.round(period / 2))), min(int(np.round(2 * period)), t)
        if hi < lo:
            continue
        cand_lags = lags[lo - 1:hi]
        cand = score[t - cand_lags] - tightness * np.log(cand_lags / period) ** 2
        j = int(np.argmax(cand))
        if cand[j] > 0:
            score[t] += cand[j]
            back[t] = t - cand_lags[j]
    # the last beat: the best-scoring local max within one period of the end
    tail = score[max(0, n - int(np.ceil(periods[-1]))):]
    t = max(0, n - len(tail)) + int(np.argmax(tail))
    path = [t]
    while back[path[-1]] >= 0:
        path.append(int(back[path[-1]]))
    frames = np.array(path[::-1], dtype=np.float64)
    frames = _trim_weak_ends(frames, onset)
    return refine_subframe(frames, onset)


def _trim_weak_ends(frames: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """Drop leading/trailing beats on near-silent onsets (the DP extrapolates)."""
    if len(frames) < 3:
        return frames
    strength = scipy.ndimage.maximum_filter1d(onset, size=5)[frames.astype(int)]
    floor = 0.1 * float(np.median(strength))
    good = np.flatnonzero(strength > floor)
    return frames[good[0]:good[-1] + 1] if len(good) else frames[:0]


def refine_subframe(frames: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """Move each beat to the parabolic peak of the onset within +-1 frame."""
    out = frames.copy()
    for i, f in enumerate(frames.astype(int)):
        if 0 < f < len(onset) - 1:
            a, b, c = onset[f - 1], onset[f], onset[f + 1]
            den = a - 2 * b + c
            if b >= a and b >= c and den < 0:
                out[i] = f + 0.5 * (a - c) / den
    return out


ATTACK_LEVEL = 0.5     # a beat sits where the onset rises through half its peak
ATTACK_FRAMES = 4      # ... at most this many frames (80 ms) before the peak


def to_attack(frames: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """Move each beat from its onset peak back to where the onset rises through
    ATTACK_LEVEL of that peak (sub-frame, linear). A kick's flux peaks on its
    first frame and barely moves; a bowed or sung note's peaks 40-80 ms after it
    starts, and a listener hears the beat at the start."""
    out = np.asarray(frames, dtype=np.float64).copy()
    n = len(onset)
    for i, f in enumerate(np.round(out).astype(int)):
        if not 0 < f < n:
            continue
        level = ATTACK_LEVEL * onset[f]
        k = f
        while k > max(0, f - ATTACK_FRAMES) and onset[k - 1] >= level:
            k -= 1
        if k > 0 and onset[k] > onset[k - 1]:    # interpolate the crossing below frame k
            out[i] = min(out[i], k - (onset[k] - level) / (onset[k] - onset[k - 1]))
        if i > 0:   # never back past the middle of the gap to the previous beat
            out[i] = max(out[i], 0.5 * (out[i - 1] + frames[i]))
    return out


# -- tempo from beats ----------------------------------------------------------------
PLATEAU_TOLERANCE = 0.03    # a steady stretch stays within +-3 % of its middle tempo
PLATEAU_SHARE = 0.4         # ... and is "the tempo" when it holds this share of the beats
PLATEAU_FLAT = 0.02         # ... and is flat: its 10th..90th percentile within 2 % (not a ramp)


def local_tempi(beats_s: np.ndarray) -> np.ndarray:
    """Tempo (BPM) per inter-beat interval, (n_beats - 1,) at most; each interval is
    the median of three neighbouring ones (one missed or extra beat does not spike it)."""
    beats_s = np.asarray(beats_s, dtype=np.float64)
    if len(beats_s) < 2:
        return np.zeros(0)
    ibi = np.diff(beats_s)
    if len(ibi) >= 3:
        padded = np.concatenate([ibi[:1], ibi, ibi[-1:]])
        ibi = np.median(np.lib.stride_tricks.sliding_window_view(padded, 3), axis=1)
    return 60.0 / ibi[ibi > 0]


def _longest_plateau(tempo: np.ndarray) -> tuple[int, int]:
    """[i, j) of the longest run of intervals whose tempi span at most
    +-PLATEAU_TOLERANCE (two pointers over the log tempo)."""
    log_t = np.log(tempo)
    width = 2 * np.log1p(PLATEAU_TOLERANCE)
    best, i = (0, 0), 0
    for j in range(1, len(tempo) + 1):
        while log_t[i:j].max() - log_t[i:j].min() > width:
            i += 1
        if j - i > best[1] - best[0]:
            best = (i, j)
    return best


def bpm_from_beats(beats_s: np.ndarray) -> float:
    """The track's tempo: the median local tempo over its beats; 0 with fewer
    than two beats.

    One exception: when a steady stretch (within +-3 %, and flat: 80 % of it
    within 2 %) holds at least 40 % of the beats, the tempo is that stretch's
    median, so a track that changes tempo in a step reports a tempo it plays,
    not one from the transition.
    On a ramp or rubato no stretch is that long and the median is the answer."""
    tempo = local_tempi(beats_s)
    if len(tempo) == 0:
        return 0.0
    i, j = _longest_plateau(tempo)
    if j - i >= PLATEAU_SHARE * len(tempo):
        lo, hi = np.percentile(tempo[i:j], [10.0, 90.0])
        if hi <= lo * (1.0 + PLATEAU_FLAT):
            tempo = tempo[i:j]
    return float(np.median(tempo))


def bpm_range(beats_s: np.ndarray) -> tuple[float, float]:
    """(5th, 95th) percentile of the local tempo over the beats; (0, 0) without beats."""
    tempo = local_tempi(beats_s)
    if len(tempo) == 0:
        return 0.0, 0.0
    lo, hi = np.percentile(tempo, [5.0, 95.0])
    return float(lo), float(hi)


def local_bpm_channel(times: np.ndarray, beats_s: np.ndarray) -> np.ndarray:
    """global/bpm_local: 60 / the inter-beat interval around each frame, (n,) float32.

    The interval is the median of three neighbouring ones (one missed or
    extra beat does not spike it); held before the first and after the last
    beat; 0 without beats."""
    n = len(times)
    beats_s = np.asarray(beats_s, dtype=np.float64)
    if len(beats_s) < 2:
        return np.zeros(n, np.float32)
    ibi = np.diff(beats_s)
    if len(ibi) >= 3:
        padded = np.concatenate([ibi[:1], ibi, ibi[-1:]])
        ibi = np.median(np.lib.stride_tricks.sliding_window_view(padded, 3), axis=1)
    i = np.clip(np.searchsorted(beats_s, times, side="right") - 1, 0, len(ibi) - 1)
    return (60.0 / np.maximum(ibi[i], 1e-3)).astype(np.float32)


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
    """global/ beat_phase, bar_phase, beat, downbeat, bpm_local."""
    n = len(times)
    return {"bpm_local": local_bpm_channel(times, beats_s),
            "beat_phase": phase_channel(times, beats_s),
            "bar_phase": phase_channel(times, downbeats_s),
            "beat": pulse_channel(n, beats_s, fps=fps),
            "downbeat": pulse_channel(n, downbeats_s, fps=fps)}

"""Beats, downbeats and BPM without a neural network: the fallback tracker.

Used when no Beat This! checkpoint is present (beat_this_runner.py). Five steps,
each a pure numpy function on the 50 fps grid:

1. onset_envelope: log-mel spectral flux of the mix (what a listener taps to).
2. tempo_candidates + choose_tempo: periodicity from the autocorrelation of the
   envelope, then the metrical level. The strongest periodicity is often the
   half bar or the eighth note; the beat is chosen as the fastest level, from
   the bar upwards, whose off-beats are still clearly weaker than its
   on-beats. That keeps 174 BPM drum and bass at 174 instead of 87, and does
   not double a 92 BPM groove with eighth-note hats.
3. local_periods: the beat period where the track is, from a tempogram
   (6 s windows every 0.5 s) searched within +-45 % of that tempo and a
   Viterbi path through it that lets the tempo drift slowly and change in
   steps at a cost. A track that goes from 110 to 128 BPM is followed; one
   noisy window is not.
4. track_beats: dynamic programming (Ellis 2007) for beat times that follow
   the onsets while keeping the local period, refined to sub-frame times.
5. downbeats_from: the meter (3 or 4) and bar phase that put the most
   low-band (kick) energy and harmony change on beat one.

The track's `bpm` is its dominant tempo (bpm_from_beats: the tempo it plays
longest); `global/bpm_local` (local_bpm_channel) follows the beats frame by frame.

Units: frames at `fps`, seconds for beat times, BPM for tempo.
"""
from __future__ import annotations

import numpy as np
import scipy.ndimage
import scipy.signal

from .spectral import N_FFT, log_compress, max_along_bins, mel_filterbank

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


# -- local tempo -----------------------------------------------------------------
LOCAL_WINDOW_S = 6.0     # tempogram window: ~10 beats, short enough to follow a change
LOCAL_HOP_S = 0.5
LOCAL_SPREAD = 1.45      # local periods are searched within period / spread .. period * spread
LOCAL_STEP = 1.01        # ratio between neighbouring period states (1 %)
DRIFT_COST = 0.004       # per (1 % state)^2 between windows 0.5 s apart: slow drift is cheap
JUMP_COST = 0.35         # a step change (more than DRIFT_STATES states at once)
DRIFT_STATES = 3
PRIOR_WEIGHT = 0.6       # per log(ratio)^2 away from the track's tempo: keeps the metrical level


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
    (acf(p) + acf(2p) / 2 + acf(3p) / 3, so a bar-long repetition does not
    pass for a beat), minus a prior that keeps it near the track's tempo
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
    centres, ac = tempogram(onset, fps=fps, max_lag=int(np.ceil(3 * states[-1])) + 2)
    lags = np.arange(ac.shape[1])

    def at(mult: float) -> np.ndarray:
        x = states * mult
        i = np.clip(np.floor(x).astype(int), 0, ac.shape[1] - 2)
        f = np.clip(x - i, 0.0, 1.0)
        inside = x <= lags[-1]
        return np.where(inside, ac[:, i] * (1 - f) + ac[:, i + 1] * f, 0.0)

    score = at(1.0) + at(2.0) / 2.0 + at(3.0) / 3.0
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
DOMINANT_TOLERANCE = 0.04   # inter-beat intervals within 4 % count as the same tempo


def bpm_from_beats(beats_s: np.ndarray) -> float:
    """The track's dominant tempo: the one it plays longest; 0 with fewer than two beats.

    Every inter-beat interval votes with its duration for the intervals
    within DOMINANT_TOLERANCE of it; the winner's group gives the tempo by
    its median. With one tempo this is the median interval; after a tempo
    change it is the tempo of the longer part, not a blend of the two."""
    if len(beats_s) < 2:
        return 0.0
    ibi = np.diff(np.asarray(beats_s, dtype=np.float64))
    ibi = ibi[ibi > 0]
    if len(ibi) == 0:
        return 0.0
    near = np.abs(np.log(ibi[:, None] / ibi[None, :])) <= np.log1p(DOMINANT_TOLERANCE)
    votes = near.astype(np.float64) @ ibi          # seconds played near each interval
    group = ibi[near[int(np.argmax(votes))]]
    return 60.0 / float(np.median(group))


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
    periods = local_periods(onset, fps=fps, period=60.0 * fps / bpm)
    frames = track_beats(onset, fps=fps, periods=periods)
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
    """global/ beat_phase, bar_phase, beat, downbeat, bpm_local."""
    n = len(times)
    return {"bpm_local": local_bpm_channel(times, beats_s),
            "beat_phase": phase_channel(times, beats_s),
            "bar_phase": phase_channel(times, downbeats_s),
            "beat": pulse_channel(n, beats_s, fps=fps),
            "downbeat": pulse_channel(n, downbeats_s, fps=fps)}

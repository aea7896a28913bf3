"""The metrical level: which periodicity is the beat, and the alternatives with scores.

The onset envelope repeats at several levels at once (eighth notes, beats,
half bars, bars). choose_tempo walks down from the bar: a faster level (x2
or x3) is the beat while the slower level's subdivision points carry a real
accent (kick, snare, chords: an onset envelope below the hats' band);
eighth-note hats alone do not count. That keeps 174 BPM drum and bass at 174
and does not double a 92 BPM groove with eighth-note hats.

choose_level then applies the prior dancers and DJs count with (roughly
LEVEL_LO..LEVEL_HI BPM): a level slower than LEVEL_LO whose half-beats still
carry onsets (hats, the "and" of a syncopated kick, a half-time snare
pattern's eighths) is doubled, so syncopated and half-time grooves keep the
quarter-note pulse. tempo_candidates scores the related levels (x1/3 .. x3)
so the window can offer x2 and /2 and tap tempo can pick among them.

Units: frames at `fps` for periods, BPM for tempo.
"""
from __future__ import annotations

import numpy as np
import scipy.ndimage
import scipy.signal

MIN_BPM, MAX_BPM = 55.0, 215.0     # the beat level is searched in this range
SUBDIVISION_STRONG = 0.36          # off-beat/on-beat accent at or above this: go one level faster
SUBDIVISION_STRONG_FAST = 0.45     # ... when the faster level would be above FAST_BPM
FAST_BPM = 160.0


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
    subdivision points between beats, for a grid of `period` frames.
    One gather for all phases: (n_phase, n_beats)."""
    n = len(onset)
    n_phase = max(1, int(round(period)))
    beats = np.arange(0.0, n - 1, period)
    if len(beats) < 2:
        return 0.0, 0.0
    smooth = scipy.ndimage.maximum_filter1d(onset, size=3)
    idx = np.clip(np.round(beats[None, :] + np.arange(n_phase)[:, None]).astype(int), 0, n - 1)
    on = smooth[idx].mean(axis=1)
    best = int(np.argmax(on))
    sub = beats[None, :] + best + period * np.arange(1, parts)[:, None] / parts
    offs = smooth[np.clip(np.round(sub).astype(int), 0, n - 1)].mean(axis=1)
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
        # a real accent on the subdivision, and the faster level repeats in the onsets
        strong = [o for o in options if o[0] >= o[2] and acf_at(acf, period / o[1]) > 0.0]
        if bpm >= MIN_BPM and not strong:
            break
        if not options:
            break
        if strong:
            ratio, parts, _ = max(strong)
        else:  # too slow, and no accent says which way: follow the periodicity
            parts = max(options, key=lambda o: acf_at(acf, period / o[1]))[1]
        period = refine_period(acf, period / parts)
    confidence = float(np.clip(acf_at(acf, period), 0.0, 1.0))
    return 60.0 * fps / period, confidence


# -- the prior: the level people count -----------------------------------------------
LEVEL_LO, LEVEL_HI = 72.0, 180.0   # BPM: the range dancers and DJs count most music in
PRESENCE_MIN = 0.25                # onset (unit std) that counts as "something plays here"
PRESENCE_SHARE = 0.6               # share of half-beats that must carry an onset to double,
HALF_BEAT_RATIO = 0.3              # ... or their mean onset relative to the beats'
PRIOR_CENTRE, PRIOR_OCTAVES = 120.0, 0.8   # log-normal prior for candidate scores


def half_beat_presence(onset: np.ndarray, period: float) -> float:
    """Share of the half-beat points (best on-beat phase of a `period`-frame grid)
    where the onset envelope rises above PRESENCE_MIN within +-2 frames."""
    n = len(onset)
    beats = np.arange(0.0, n - 1, period)
    if len(beats) < 4:
        return 0.0
    smooth = scipy.ndimage.maximum_filter1d(onset, size=5)
    phases = np.arange(max(1, int(round(period))))
    idx = np.clip(np.round(beats[None, :] + phases[:, None]).astype(int), 0, n - 1)
    best = int(np.argmax(smooth[idx].mean(axis=1)))
    mids = np.clip(np.round(beats + best + period / 2).astype(int), 0, n - 1)
    return float(np.mean(smooth[mids] > PRESENCE_MIN))


def choose_level(onset: np.ndarray, *, fps: float, accent: np.ndarray | None = None
                 ) -> tuple[float, float]:
    """(bpm, confidence): choose_tempo's level, doubled when slower than LEVEL_LO
    while its half-beats are played (a syncopated or half-time groove): most
    of them carry an onset, or they carry HALF_BEAT_RATIO of the beats' onset
    (dense hats: the envelope's local mean hides single hits). The grid here
    is a fixed period; beat_grid checks again on the tracked beats
    (half_beats_played), which follow the music's own timing."""
    bpm, conf = choose_tempo(onset, fps=fps, accent=accent)
    if 0 < bpm < LEVEL_LO and 2 * bpm <= LEVEL_HI:
        period = 60.0 * fps / bpm
        on, off = pulse_strengths(onset, period, 2)
        if (half_beat_presence(onset, period) >= PRESENCE_SHARE
                or (on > 0 and off / on >= HALF_BEAT_RATIO)):
            return doubled(onset, bpm, fps=fps)
    return bpm, conf


def doubled(onset: np.ndarray, bpm: float, *, fps: float) -> tuple[float, float]:
    """(bpm, confidence) of the level twice as fast, refined on the periodicity."""
    acf = periodicity(onset, fps=fps)
    period = refine_period(acf, 60.0 * fps / (2 * bpm))
    return 60.0 * fps / period, float(np.clip(acf_at(acf, period), 0.0, 1.0))


def half_beats_played(onset: np.ndarray, beat_frames: np.ndarray) -> bool:
    """The doubling test of choose_level on tracked beats (frames): the points
    half way between them carry onsets (PRESENCE_SHARE of them above
    PRESENCE_MIN, or HALF_BEAT_RATIO of the beats' mean onset)."""
    if len(beat_frames) < 4:
        return False
    smooth = scipy.ndimage.maximum_filter1d(onset, size=5)
    n = len(onset)
    mids = (beat_frames[:-1] + beat_frames[1:]) / 2.0
    on = smooth[np.clip(np.round(beat_frames).astype(int), 0, n - 1)]
    off = smooth[np.clip(np.round(mids).astype(int), 0, n - 1)]
    return bool(np.mean(off > PRESENCE_MIN) >= PRESENCE_SHARE
                or (on.mean() > 0 and off.mean() / on.mean() >= HALF_BEAT_RATIO))


HALFTIME_HI = 90.0   # BPM: a level below this whose eighths are all played is a half-time feel


HATS_CONTRAST = 2.0  # hat onsets on the eighths / between them: the hats play a pulse


def hats_in_eighths(hats: np.ndarray | None, beat_frames: np.ndarray) -> bool:
    """The hats (an onset envelope of their band) play the eighths of the level twice as
    fast as the tracked beats (frames): PRESENCE_SHARE of each of the points 1/4, 1/2
    and 3/4 of the way between beats carry a hat above PRESENCE_MIN, and the hats
    there are HATS_CONTRAST times what falls half way between those points (a
    pulse, not the wash of an orchestra's cymbals and strings). The count of a
    150 BPM groove whose snare on 3 makes it read as 75; an 80 BPM groove's hats
    in eighths leave the quarter points empty."""
    if hats is None or len(beat_frames) < 8:
        return False
    smooth = scipy.ndimage.maximum_filter1d(hats, size=3)
    n = len(hats)
    gap = np.diff(beat_frames)
    at = lambda part: smooth[np.clip(np.round(beat_frames[:-1] + part * gap).astype(int),  # noqa: E731
                                     0, n - 1)]
    eighths = [at(part) for part in (0.25, 0.5, 0.75)]
    between = np.concatenate([at(part) for part in (0.125, 0.375, 0.625, 0.875)])
    played = all(float(np.mean(e > PRESENCE_MIN)) >= PRESENCE_SHARE for e in eighths)
    return played and float(np.mean(eighths)) >= HATS_CONTRAST * float(np.mean(between)) + 1e-9


# -- the offline check on real recordings ---------------------------------------------
COMB_BPM_STEP = 0.5                # BPM between the comb's candidate tempi
WEAK_LEVEL = 0.5                   # the walk's level scoring under this share of the best: replaced
                                   # (the live level check's threshold, on its comb of three multiples)
WEAK_LEVEL_BAR = 0.7               # ... settle_level's, on the comb that reaches the bar (COMB_MULTIPLES):
                                   # the fourth multiple lifts an unrelated level's share (a walk's 81 BPM
                                   # under a 143 BPM pulse: 0.49 of the best with three, 0.61 with four)
SESQUI_WEAK = 0.95                 # ... a level 2/3 of the best, under this share (live: 3:2 either way)
OCTAVE_SLACK = 0.03                # |log2 ratio - round| under this: the two are the same pulse
COMB_MULTIPLES = (1, 2, 3, 4)      # the beat period's multiples the comb sums, each weighted 1/k
COMB_MAX_LAG_S = 8.0               # s: the comb's periodicity reaches 4 beats at 30 BPM


def comb_periodicity(onset: np.ndarray, *, fps: float) -> np.ndarray:
    """The periodicity the comb reads: periodicity() out to COMB_MAX_LAG_S (its 8 s
    windows cap the lag at 8 s)."""
    return periodicity(onset, fps=fps, max_lag_s=COMB_MAX_LAG_S)


def comb_score(acf: np.ndarray, bpm: float, *, fps: float) -> float:
    """prior(bpm) x the autocorrelation comb at the beat period and its multiples up to
    the bar of four (COMB_MULTIPLES, floored at 0). The fourth multiple is what tells
    a 4/4 beat from the dotted-quarter level 2/3 as fast: a 3+3+2 figure repeats at
    1.5 beats, but the bar of four beats repeats only on the beat's comb (the
    dotted-quarter comb reaches 6 and 12 eighths, never the bar's 8)."""
    p = 60.0 * fps / bpm
    comb = sum(max(acf_at(acf, p * k), 0.0) / k for k in COMB_MULTIPLES)
    return level_prior(bpm) * comb / sum(1.0 / k for k in COMB_MULTIPLES)


def comb_level(onset: np.ndarray, *, fps: float) -> tuple[float, float]:
    """(bpm, score): the tempo in MIN_BPM..MAX_BPM with the best comb_score."""
    acf = comb_periodicity(onset, fps=fps)
    grid = np.arange(MIN_BPM, MAX_BPM + COMB_BPM_STEP, COMB_BPM_STEP)
    scores = np.array([comb_score(acf, b, fps=fps) for b in grid])
    k = int(np.argmax(scores))
    return float(grid[k]), float(scores[k])


def settle_level(onset: np.ndarray, bpm: float, *, fps: float) -> tuple[float, bool]:
    """(bpm, replaced): the walk's level (choose_level), or the comb's best tempo
    (comb_level) when the periodicity does not back the walk:

    - an unrelated level (not an octave or a 3:2 apart), or a level 3:2 faster than
      the best, scoring under WEAK_LEVEL_BAR of the best: on orchestral and game
      recordings the accents are soft and the walk from the bar down follows noise
      (a x3 step on nothing);
    - a level 2/3 as fast as the best scoring under SESQUI_WEAK of it: a syncopated
      kick 1.5 beats apart won the walk, but the bar repeats at the comb's beat.
      Between a beat and its dotted quarter the faster is the beat unless the comb
      clearly says otherwise: a walk that found the faster one is kept from
      WEAK_LEVEL_BAR (a 4/4 beat at 140 BPM under a 3+3+2 figure: 0.72 of the
      comb's 94 on a real recording), one that found the slower one only from
      SESQUI_WEAK (the synthetic syncopated kick at 133 BPM reads 88 at 0.82);
    - a level above LEVEL_HI whose half is the best: nobody counts that fast.

    An octave apart otherwise (a half-time groove the walk doubled on purpose) the
    walk's level is kept."""
    if bpm <= 0:
        return bpm, False
    acf = comb_periodicity(onset, fps=fps)
    best_bpm, best = comb_level(onset, fps=fps)
    if best <= 0:
        return bpm, False
    share = comb_score(acf, bpm, fps=fps) / best
    octaves = np.log2(bpm / best_bpm)
    if abs(octaves - np.round(octaves)) < OCTAVE_SLACK:
        replace = bpm > LEVEL_HI and round(octaves) == 1 and share < 1.0
    elif abs(octaves + np.log2(1.5)) < OCTAVE_SLACK:     # the walk's level is 2/3 of the best
        replace = share < SESQUI_WEAK
    else:
        replace = share < WEAK_LEVEL_BAR
    return (refine_period_bpm(acf, best_bpm, fps=fps), True) if replace else (bpm, False)


def refine_period_bpm(acf: np.ndarray, bpm: float, *, fps: float) -> float:
    """bpm snapped to the nearest autocorrelation peak (refine_period)."""
    return 60.0 * fps / refine_period(acf, 60.0 * fps / bpm)


LEVEL_RATIOS = (("/3", 1 / 3), ("/2", 0.5), ("x2/3", 2 / 3), ("x1", 1.0), ("x3/2", 1.5),
                ("x2", 2.0), ("x3", 3.0))


def level_prior(bpm: float) -> float:
    """Log-normal prior over tempo, 1 at PRIOR_CENTRE."""
    return float(np.exp(-0.5 * (np.log2(bpm / PRIOR_CENTRE) / PRIOR_OCTAVES) ** 2))


def tempo_candidates(onset: np.ndarray, bpm: float, *, fps: float, lo: float = 30.0,
                     hi: float = 320.0) -> list[dict]:
    """The chosen level and its relatives, each {"bpm", "ratio", "score", "chosen"}.

    score = prior(bpm) x periodicity (the autocorrelation comb at the level's
    period and its first multiples, floored at 0), normalised to sum 1 over
    the candidates. The choice itself also weighs accents (choose_level); a
    candidate can outscore it, which is what the "x2 / /2" offer is for.
    Sorted by score, best first."""
    if bpm <= 0 or len(onset) < 4:
        return []
    acf = periodicity(onset, fps=fps)
    out = []
    for name, r in LEVEL_RATIOS:
        b = bpm * r
        if not lo <= b <= hi:
            continue
        p = 60.0 * fps / b
        comb = sum(max(acf_at(acf, p * k), 0.0) / k for k in (1, 2, 3)) / (1 + 1 / 2 + 1 / 3)
        out.append({"bpm": round(b, 3), "ratio": name, "score": level_prior(b) * comb,
                    "chosen": name == "x1"})
    total = sum(c["score"] for c in out)
    for c in out:
        c["score"] = round(c["score"] / total, 4) if total > 0 else 0.0
    return sorted(out, key=lambda c: -c["score"])

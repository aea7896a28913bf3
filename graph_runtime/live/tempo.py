"""The metrical level on a causal window: the offline choice, plus what a stream needs.

The offline walk (analysis/tempo_level.choose_level: autocorrelation, then
the level whose off-beats are weaker than its on-beats, then the prior that
doubles a slow level whose half-beats are played) runs as it is on the last
TEMPO_WINDOW_S of onsets (~0.5-1 ms on 8 s). Two things differ live:

- normalise: the offline envelopes are normalised over the whole track (1 s
  running mean removed, rectified, unit std); live, the same is done over the
  window, so thresholds such as tempo_level.PRESENCE_MIN mean the same thing
  (raw live flux made a syncopated or half-time groove read at half tempo).
- estimate: a level below LEVEL_LO is also doubled when the half-beats of the
  beats the tracker has emitted (or every other one, when it runs twice as
  fast) carry onsets (tempo_level.half_beats_played): the tracked beats follow
  the music's timing where a fixed grid smears.

The level the clock follows changes only as beat_tracker decides (votes in a
row, and `support`: a new level that is not an octave away must also repeat
in the onsets at least as well as the current one).

Units: frames at `fps` for periods and beat positions, BPM for tempo.
"""
from __future__ import annotations

import numpy as np
import scipy.ndimage

from ..analysis import tempo_level as tl


def normalise(flux: np.ndarray, *, fps: float) -> np.ndarray:
    """(n,) flux -> 1 s centred running mean removed, rectified, unit std (the offline
    onset normalisation, over the window given). Zeros when flat."""
    local = scipy.ndimage.uniform_filter1d(flux, size=max(1, int(fps)), mode="nearest")
    out = np.maximum(flux - local, 0.0)
    sd = float(out.std())
    return out / sd if sd > 1e-9 else np.zeros_like(out)


def _grid_at(beat_frames: np.ndarray, period: float, onset: np.ndarray) -> np.ndarray | None:
    """The tracked beats as a grid of `period` frames: as they are when they run at
    that period, every other one (the parity with more onset) when they run twice
    as fast; None when they follow another level."""
    if len(beat_frames) < 4:
        return None
    step = float(np.median(np.diff(beat_frames)))
    if abs(np.log(step / period)) <= np.log(1.08):
        return beat_frames
    if abs(np.log(2.0 * step / period)) <= np.log(1.08):
        idx = np.clip(np.round(beat_frames).astype(int), 0, len(onset) - 1)
        smooth = scipy.ndimage.maximum_filter1d(onset, size=5)[idx]
        parity = int(smooth[1::2].mean() > smooth[0::2].mean())
        return beat_frames[parity::2]
    return None


def estimate(onset: np.ndarray, accent: np.ndarray, *, fps: float,
             beat_frames: np.ndarray | None = None) -> tuple[float, float, np.ndarray]:
    """(bpm, confidence, periodicity) of normalised onset/accent windows (n,).

    beat_frames: the tracker's recent beats, in frames of the window (float)."""
    bpm, conf = tl.choose_level(onset, fps=fps, accent=accent)
    acf = tl.periodicity(onset, fps=fps)
    bpm, conf = repeating_level(acf, bpm, conf, fps=fps)
    if beat_frames is not None and 0 < bpm < tl.LEVEL_LO and 2 * bpm <= tl.LEVEL_HI:
        grid = _grid_at(beat_frames, 60.0 * fps / bpm, onset)
        if grid is not None and tl.half_beats_played(onset, grid):
            bpm, conf = tl.doubled(onset, bpm, fps=fps)
    elif tl.LEVEL_LO <= bpm < HALFTIME_HI and 2 * bpm <= tl.LEVEL_HI:
        period = 60.0 * fps / bpm
        grid = _grid_at(beat_frames, period, onset) if beat_frames is not None else None
        # the tracked beats, or (before the clock sits on the pulse) the best-phase grid
        if eighths_played(onset, grid if grid is not None else phase_grid(onset, period)) or (
                grid is not None and eighths_played(onset, phase_grid(onset, period))):
            bpm, conf = tl.doubled(onset, bpm, fps=fps)     # a fast half-time feel
    bpm = metrically_consistent(acf, bpm, fps=fps)
    return bpm, conf, acf


NO_REPEAT = 0.05    # periodicity at or below which a level does not repeat in the window at all


def repeating_level(acf: np.ndarray, bpm: float, conf: float, *, fps: float) -> tuple[float, float]:
    """(bpm, confidence): the walk's level, unless neither it nor its half-time repeats
    in the window (periodicity <= NO_REPEAT at both): a syncopated kick pattern whose
    strongest period is 2.5 beats steers the walk from the bar onto no pulse at all
    (126 BPM read as 98-107). Then the period inside the counted range
    (tempo_level.LEVEL_LO..LEVEL_HI) that best explains the window (bar_support: a
    humanised groove's periodicity has broad peaks), snapped to its peak."""
    if bpm <= 0:
        return bpm, conf
    period = 60.0 * fps / bpm
    if tl.acf_at(acf, period) > NO_REPEAT or tl.acf_at(acf, 2 * period) > NO_REPEAT:
        return bpm, conf
    lo = int(np.floor(60.0 * fps / tl.LEVEL_HI))
    hi = min(len(acf) - 2, int(np.ceil(60.0 * fps / tl.LEVEL_LO)))
    if hi <= lo:
        return bpm, conf
    lags = np.arange(lo, hi + 1, dtype=np.float64)
    best = tl.refine_period(acf, max(lags, key=lambda p: bar_support(acf, p)))
    return 60.0 * fps / best, float(np.clip(tl.acf_at(acf, best), 0.0, 1.0))


def phase_grid(onset: np.ndarray, period: float) -> np.ndarray:
    """Frames of a fixed grid of `period` frames at its best on-beat phase (the phase
    whose beats carry the most onset), over the window (n,)."""
    n = len(onset)
    beats = np.arange(0.0, n - 1 - period, period)
    smooth = scipy.ndimage.maximum_filter1d(onset, size=5)
    phases = np.arange(max(1, int(round(period))))
    idx = np.clip(np.round(beats[None, :] + phases[:, None]).astype(int), 0, n - 1)
    return beats + int(np.argmax(smooth[idx].mean(axis=1)))


HALFTIME_HI = 90.0   # BPM: a tracked level below this whose quarters are all played is doubled
QUARTER_SHARE = 0.3  # share of the quarter points that must carry an onset (hats on the "and"s
#                      of the faster level are often soft: a third of them heard is enough)


def eighths_played(onset: np.ndarray, beat_frames: np.ndarray) -> bool:
    """The tracked beats' half AND quarter points carry onsets (tempo_level's presence
    test: PRESENCE_SHARE of them above PRESENCE_MIN): hats in eighths of the level twice as fast, the count of a
    150 BPM groove whose snare on 3 makes it read as 75."""
    if len(beat_frames) < 4:
        return False
    smooth = scipy.ndimage.maximum_filter1d(onset, size=5)
    n = len(onset)
    at = lambda f: smooth[np.clip(np.round(f).astype(int), 0, n - 1)]  # noqa: E731
    gap = np.diff(beat_frames)
    share = [float(np.mean(at(beat_frames[:-1] + part * gap) > tl.PRESENCE_MIN))
             for part in (0.25, 0.5, 0.75)]
    # the half-beats, and the quarters taken together (a hat pattern may skip one)
    return share[1] >= tl.PRESENCE_SHARE and (share[0] + share[2]) / 2 >= QUARTER_SHARE


def every_beat_played(onset: np.ndarray, beat_frames: np.ndarray) -> bool:
    """Every other one of the tracked beats (frames) too carries onsets: of the two
    parities, the one with less onset has QUARTER_SHARE of its beats above
    tempo_level.PRESENCE_MIN. A half-time groove (kick on 1, snare on 3, hats on every
    beat) counted at its quarters plays them; a slow piece counted twice as fast
    leaves every other beat empty."""
    if len(beat_frames) < 4:
        return False
    smooth = scipy.ndimage.maximum_filter1d(onset, size=5)
    at = smooth[np.clip(np.round(beat_frames).astype(int), 0, len(onset) - 1)]
    heard = at > tl.PRESENCE_MIN
    weaker = heard[0::2] if at[0::2].mean() < at[1::2].mean() else heard[1::2]
    return float(weaker.mean()) >= QUARTER_SHARE


BAR_MULTIPLES = (2, 3, 4)   # beats per bar (or half bar) whose repetition a beat level must show
CONSISTENT_MARGIN = 0.05     # periodicity units a x3/2 or x2/3 level must win by
FASTER_MARGIN = 0.0         # ... and the faster of the two (x3/2) by: a dotted-quarter kick (3+3+2)
#                              repeats nearly as well as the beat, so any lead goes to the beat ...
CLEAR_SUPPORT = 0.3          # ... where the window repeats clearly at all (a break, a fill or the
#                              end of a song reads ~0.1 at every level: no lead means anything there)


def bar_support(acf: np.ndarray, period_frames: float) -> float:
    """How well a beat period explains the window: its own repetition plus the best bar
    (2, 3 or 4 of it). A syncopated kick 1.5 beats apart repeats, but no whole number of
    its periods makes the bar that the rest of the groove repeats at."""
    return tl.acf_at(acf, period_frames) + max(tl.acf_at(acf, m * period_frames)
                                               for m in BAR_MULTIPLES)


def metrically_consistent(acf: np.ndarray, bpm: float, *, fps: float) -> float:
    """bpm, or its x3/2 or x2/3 neighbour inside the counted range (tempo_level.LEVEL_LO..
    LEVEL_HI) when that one's bar_support is clearly higher."""
    if bpm <= 0:
        return bpm
    best, best_s = bpm, bar_support(acf, 60.0 * fps / bpm)
    faster = FASTER_MARGIN if best_s >= CLEAR_SUPPORT else CONSISTENT_MARGIN
    bar = bar_lag(acf, fps=fps)
    fits = bar is not None and divides(bar, 60.0 * fps / bpm)
    for r, margin in ((1.5, faster), (2.0 / 3.0, CONSISTENT_MARGIN)):
        alt = bpm * r
        if not tl.LEVEL_LO <= alt <= tl.LEVEL_HI:
            continue
        alt_fits = bar is not None and divides(bar, 60.0 * fps / alt)
        if fits != alt_fits:       # only one of the two counts the bar in whole beats: that one
            margin = -BAR_FIT_MARGIN if alt_fits else np.inf
        s = bar_support(acf, 60.0 * fps / alt)
        if s > best_s + margin:
            best, best_s, fits = alt, s, alt_fits
    return best


BAR_LAGS_S = (1.2, 4.0)   # s: where the window's strongest long repetition (a bar or two) is looked for
BAR_FIT = 0.04            # relative distance from a whole number of beats that still counts the bar
BAR_CLEAR = 0.2           # periodicity the bar must reach to count (a break repeats at nothing)
BAR_FIT_MARGIN = 0.1      # periodicity units by which a level that counts the bar may trail one that does not


def bar_lag(acf: np.ndarray, *, fps: float) -> float | None:
    """Frames of the window's strongest repetition between BAR_LAGS_S (the bar, or two):
    a syncopated kick 1.5 beats apart repeats well, but the groove repeats at the bar,
    a whole number of beats."""
    lo, hi = int(BAR_LAGS_S[0] * fps), min(len(acf) - 2, int(BAR_LAGS_S[1] * fps))
    if hi <= lo:
        return None
    k = lo + int(np.argmax(acf[lo:hi + 1]))
    return float(k) if acf[k] >= BAR_CLEAR else None


def divides(lag: float, period: float) -> bool:
    """lag is a whole number (>= 2) of periods, within BAR_FIT."""
    m = lag / period
    return round(m) >= 2 and abs(m / round(m) - 1.0) <= BAR_FIT


def support(acf: np.ndarray, period_frames: float) -> float:
    """How strongly the onsets repeat at a period: the periodicity there (<= 1)."""
    return tl.acf_at(acf, period_frames)


def octave_apart(a: float, b: float, *, tol: float = 0.06) -> bool:
    """True when two periods are a factor 2 apart (within tol)."""
    return abs(abs(np.log2(a / b)) - 1.0) <= np.log2(1.0 + tol)

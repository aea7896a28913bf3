"""The live level's long memory: the offline comb check on periodicity heard over ~30 s.

On orchestral and game recordings one 8 s window of onsets says little about the
beat: strings, brass swells and soft percussion make the walk from the bar down
(tempo_level.choose_level) land on a different level nearly every window (a
90 s battle theme at 115 BPM read 56, 108, 134, 166, 181 and 214 in turn), and
the level votes, fed those, flipped the clock between unrelated levels. Offline
the same walk is checked against the periodicity of the whole track
(tempo_level.settle_level). Live, this keeps a leaky sum of every window's
autocorrelation (MEMORY per estimate: about the last 30 s at one estimate every
2 s) and applies that check to each window's level before it votes: an
unrelated level the long-term comb does not back is replaced by the comb's best
tempo. Levels an octave apart are left to the walk (a half-time groove doubled
on purpose), as offline. hold_to_level keeps the clock's period near the level
the votes lead with (the comb and the follower, catching notes near the beat,
walked it 15 % off on the same music).

Units: autocorrelation lags in frames at `fps`, tempo in BPM.
"""
from __future__ import annotations

import numpy as np

from ..analysis import tempo_level as tl
from .beat_level import LEVEL_STEP

MEMORY = 0.93              # weight of the older periodicity per estimate (~14 estimates, ~30 s)
NEAR = 0.06               # log-ratio around a tempo in which prefers() takes the comb's best
MIN_WEIGHT = 3.0           # estimates heard before the long-term comb may replace a level
GRID = np.arange(tl.MIN_BPM, tl.MAX_BPM + tl.COMB_BPM_STEP, tl.COMB_BPM_STEP)   # (n,) BPM
_HARMONICS = np.array([1.0, 2.0, 3.0])


def comb_scores(acf: np.ndarray, bpm: np.ndarray, *, fps: float) -> np.ndarray:
    """tempo_level.comb_score for many tempi at once: (n,) BPM -> (n,) scores (one
    interpolation, so a check costs ~0.1 ms)."""
    lags = (60.0 * fps / bpm)[:, None] * _HARMONICS[None, :]
    at = np.maximum(np.interp(lags, np.arange(len(acf)), acf, left=0.0, right=0.0), 0.0)
    comb = (at / _HARMONICS).sum(axis=1) / (1.0 / _HARMONICS).sum()
    prior = np.exp(-0.5 * (np.log2(bpm / tl.PRIOR_CENTRE) / tl.PRIOR_OCTAVES) ** 2)
    return prior * comb


class LevelCheck:
    """The leaky long-term periodicity and the comb check of a window's level."""

    def __init__(self, *, fps: float, n_lags: int) -> None:
        self.fps = float(fps)
        self.acf = np.zeros(n_lags)          # leaky sum of window autocorrelations (lag 0 = weight)
        self.weight = 0.0
        self.music_start = -1.0              # s: when the music heard so far began

    def reset(self) -> None:
        self.acf[:] = 0.0
        self.weight = 0.0

    def add(self, acf: np.ndarray, *, music_start: float = -1.0) -> None:
        """One window's autocorrelation (lag 0 = 1; shorter while the stream is young).
        music_start (s): when the music began; a new start (after silence: the next
        song) forgets the old song's periodicity."""
        if music_start != self.music_start:
            self.reset()
            self.music_start = music_start
        self.acf *= MEMORY
        self.weight = self.weight * MEMORY + 1.0
        m = min(len(acf), len(self.acf))
        self.acf[:m] += acf[:m]

    def prefers(self, bpm: float, than_bpm: float) -> bool:
        """The periodicity of the last ~30 s backs tempo bpm more than than_bpm, each
        scored at its best within NEAR of it (comb_scores peaks are narrow, and a clock's
        period wanders a few per cent off its level's). True while too little has been
        heard to say."""
        if self.weight < MIN_WEIGHT:
            return True
        mean = self.acf / self.weight
        a, b = (float(comb_scores(mean, GRID[np.abs(np.log(GRID / x)) <= NEAR],
                                  fps=self.fps).max(initial=0.0)) for x in (bpm, than_bpm))
        return a > b

    def settle(self, bpm: float) -> float:
        """bpm, or the long-term comb's best tempo where that does not back it (the
        rules of tempo_level.settle_level, on the periodicity of the last ~30 s)."""
        if bpm <= 0 or self.weight < MIN_WEIGHT:
            return bpm
        mean = self.acf / self.weight
        scores = comb_scores(mean, GRID, fps=self.fps)
        k = int(np.argmax(scores))
        best_bpm, best = float(GRID[k]), float(scores[k])
        if best <= 0:
            return bpm
        share = float(comb_scores(mean, np.array([bpm]), fps=self.fps)[0]) / best
        octaves = np.log2(bpm / best_bpm)
        if abs(octaves - np.round(octaves)) < tl.OCTAVE_SLACK:
            replace = bpm > tl.LEVEL_HI and round(octaves) == 1 and share < 1.0
        elif abs(abs(octaves) - np.log2(1.5)) < tl.OCTAVE_SLACK:
            replace = share < tl.SESQUI_WEAK
        else:
            replace = share < tl.WEAK_LEVEL
        return tl.refine_period_bpm(mean, best_bpm, fps=self.fps) if replace else bpm



RUNAWAY = 0.15             # log-ratio the clock's period may stray from the level the votes hold;
                           # 0.1 also caught a +-8 % rubato with the clock's lag (beat F1 0.92 -> 0.64)
RUNAWAY_VOTES = 2.0        # ... once that level has this many (leaky) votes: a few estimates agree


def hold_to_level(period: float, votes: list) -> float:
    """The clock's period (s), held within RUNAWAY of the leading level's (votes: [period s,
    leaky votes] per level, beat_level.MetricalLevel.votes). On dense, soft onsets (strings,
    brass swells) the comb and the per-beat follower catch notes near the beat and walk
    the period away from the pulse while every estimate says where it is (a 143 BPM
    theme's clock ran at 163); nothing else brings it back within a level (estimates
    within beat_level.LEVEL_STEP leave the period to the comb). Held beyond 16 %: a
    rubato's +-8 % swing plus the clock's lag stays free. A rubato or a ramp strays
    less than RUNAWAY from what the last estimates vote for; a period further than
    LEVEL_STEP off is another level, left to the votes."""
    if period <= 0 or not votes:
        return period
    level, weight = max(votes, key=lambda v: v[1])
    off = float(np.log(period / level))
    if weight < RUNAWAY_VOTES or abs(off) <= RUNAWAY or abs(off) > np.log1p(LEVEL_STEP):
        return period
    return float(level * np.exp(np.sign(off) * RUNAWAY))

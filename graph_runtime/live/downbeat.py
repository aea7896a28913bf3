"""The live bar: meter and downbeat phase agreed over consecutive estimates.

Every estimate scores the recent beats with the offline bar logic
(analysis/meter.meter_scores: low-band onsets, chord and bass changes on the
one, fills before it, the rhythm repeating every bar). A score is for a meter
m and a phase inside the window; it is filed under an ANCHOR, the beat index
of a downbeat modulo m, which stays put while beats go by. Scores are
averaged per (m, anchor) with a leaky mean (DECAY per estimate, one a
second: ~7 s of memory; a window of fewer than FULL_BEATS beats weighs
less), so one window where the kick on 1 and 3 cannot tell 1 from 3, or a
fill that looks like a one, does not move the bar; evidence that keeps
coming does. The bar moves when another (m, anchor) leads the current one
by SWITCH_MARGIN (salience units).

The start of the music is a likely bar line, as offline (meter.START_PRIOR,
the same 0.4): the bar counts from the beat the music began on until the
first estimate, and that anchor keeps the bonus for as long as the bar is
heard at this level, so only evidence that clearly contradicts it (a
pickup's chord change and kick on the real one) moves the bar.

Live only:
- a bar-long harmonic change is added to the scores of meters 3 and 4
  (bar_novelty, HARMONY_BAR_WEIGHT): the beat-synchronous chroma of the m
  beats after each beat against the m beats before it. The offline chord
  change (two beats each side) also fires where a melody or a walking bass
  moves inside the bar; a chord held for a bar changes most across its bar
  line, whatever moves on top. Meter 2 does not get it: a two-beat window
  hears the half-bar of a 4/4 bar as well as its one.
- a triple meter must hear its period in the onsets (duple_over_triple,
  DUPLE_WEIGHT off meter 3's scores): a live window of 16 s can find a
  chorale's chords falling in threes by chance, while its backbeat
  (kick, snare, kick, snare) repeats every 2 and 4 beats; a waltz repeats
  every 3 and 6. Offline hears the whole track, where such runs average out.
  Only a penalty: onsets that repeat a little more every 3 beats (a swung
  4/4 can) are no evidence for 3/4.
- the music's first two beats say nothing about the bar (_settle_start):
  their kick, chord and bass change and fill compare with the silence
  before them; the start prior already counts "the music began here" once.

Confidence: the chosen (m, anchor)'s margin over the best other anchor of
its meter and over the best other meter, mapped to [0, 1] as meter.py does
(1 - exp(-margin / CONFIDENCE_SCALE)), times how much evidence there is yet.
"""
from __future__ import annotations

import numpy as np

from ..analysis import meter as meter_logic

DECAY = 0.85               # per estimate (one a second)
SWITCH_MARGIN = 0.05       # salience units another bar must lead by to replace the current one
# salience units for the beat the music started on (after silence): music mostly
# starts on a bar line (meter.START_PRIOR offline, where the track starts)
START_PRIOR = meter_logic.START_PRIOR
FULL_BEATS = 32            # beats of a window that weighs fully in the leaky mean
FULL_EVIDENCE = 6          # estimates after which the confidence is not scaled down
HARMONY_BAR_WEIGHT = 0.25  # salience units per standard deviation of bar_novelty
HARMONY_BAR_METERS = (4, 3)
# the music's first START_SETTLE beats (a window that reaches back to where it began):
# their kick, chord change, bass change and fill (meter.FEATURES columns) are compared
# with the silence before, or with one beat instead of two, and read as a one where
# none is (a swung tune's pickup chord looked like a bar line on its second beat)
START_SETTLE = 2
START_COLS = (0, 1, 2, 4)
DUPLE_WEIGHT = 5.0         # salience units per unit of duple_over_triple (> 0), off meter 3


def beat_means(rows: np.ndarray, beat_frames: np.ndarray) -> np.ndarray:
    """(n_beats, k): each row of rows (k, n_frames) averaged over [beat i, beat i + 1)
    (float frames; the last beat runs to the end of the window)."""
    n = rows.shape[1]
    edges = np.clip(np.round(np.append(beat_frames, n)).astype(np.int64), 0, n)
    csum = np.concatenate([np.zeros((rows.shape[0], 1)), np.cumsum(rows, axis=1)], axis=1)
    width = np.maximum(edges[1:] - edges[:-1], 1)
    return ((csum[:, edges[1:]] - csum[:, edges[:-1]]) / width).T


def duple_over_triple(onset: np.ndarray, tau: float) -> float:
    """How much more the onsets (n_frames,) repeat every 2 and 4 beats than every 3
    and 6 (tau: frames per beat): the autocorrelation at those lags (the best within
    +-2 frames), normalised by the energy. A backbeat (kick, snare, kick, snare) or a
    bar of four repeats at 2 and 4; a waltz at 3 and 6. 0 where too short."""
    x = onset - onset.mean()
    energy = float(x @ x)
    n = len(x)
    if energy <= 1e-12 or n < 6 * tau:
        return 0.0

    def at(beats: int) -> float:
        lag = int(round(beats * tau))
        return max(float(x[lag + d:] @ x[:n - lag - d]) for d in range(-2, 3)) / energy

    if n < 8 * tau:          # a young window: 6-8 beats hear the lags 2 and 3 only
        return at(2) - at(3)
    return 0.5 * (at(2) + at(4)) - 0.5 * (at(3) + at(6))


def bar_novelty(sync: np.ndarray, m: int) -> np.ndarray | None:
    """(m,) per phase p: how much more the beat-synchronous rows (n_beats, k) change
    across a bar line at p (the m beats after vs the m beats before) than across
    the other beats, in standard deviations of that change. A chord held for a bar
    changes at its one; a melody that moves on every beat changes everywhere."""
    n = len(sync)
    if n < 3 * m:
        return None
    csum = np.concatenate([np.zeros((1, sync.shape[1])), np.cumsum(sync, axis=0)])
    k = np.arange(m, n - m + 1)                    # beats with a whole bar each side
    before = csum[k] - csum[k - m]
    after = csum[k + m] - csum[k]
    norm = np.linalg.norm(before, axis=1) * np.linalg.norm(after, axis=1)
    change = 1.0 - (before * after).sum(axis=1) / np.maximum(norm, 1e-12)
    sd = change.std()
    if sd < 1e-9:
        return np.zeros(m)
    z = (change - change.mean()) / sd
    phase = k % m
    out = np.zeros(m)
    for p in range(m):
        on = phase == p
        if on.any() and (~on).any():
            out[p] = z[on].mean() - z[~on].mean()
    return out


class BarTracker:
    def __init__(self) -> None:
        self.keys = [(m, a) for m in meter_logic.METERS for a in range(m)]
        self.score = np.zeros(len(self.keys))
        self.seen = 0                      # estimates since the last reset
        self.mass = 0.0                    # the leaky mean's weight so far
        self.meter = 4
        self.anchor = 0                    # beat index of a downbeat, modulo meter
        self.confidence = 0.0
        self.start_index: int | None = None   # beat index the music started on (a likely one)

    def set_start(self, index: int) -> None:
        """The music began on the beat with this index: a likely one. Until the
        first estimate the bar counts from it (the music starts on a bar line)."""
        self.start_index = int(index)
        if self.seen == 0:
            self.anchor = self.start_index % self.meter

    def reset(self) -> None:
        """The beats changed level: earlier anchors mean nothing any more."""
        self.score[:] = 0.0
        self.seen = 0
        self.mass = 0.0
        self.confidence = 0.0
        self.start_index = None

    def update(self, features: np.ndarray, first_index: int, *,
               chroma: np.ndarray | None = None, duple: float = 0.0) -> None:
        """features (n_beats, len(meter.FEATURES)) of consecutive beats whose first has
        the beat index first_index; chroma (n_beats, 12): the mix chroma averaged over
        each of those beats (the bar-long harmonic change), or None."""
        features = self._settle_start(features, first_index)
        scores = meter_logic.meter_scores(features)
        if not scores:
            return
        if chroma is not None:
            for m in HARMONY_BAR_METERS:
                nov = bar_novelty(chroma, m)
                for p in range(m):
                    if nov is not None and (m, p) in scores:
                        scores[(m, p)] += HARMONY_BAR_WEIGHT * nov[p]
        # a triple meter needs its period; a window that repeats a little more every 3
        # beats is no evidence for it (a swung 4/4 at ~100 BPM reads -0.1): no bonus
        for p in range(3):
            if (3, p) in scores:
                scores[(3, p)] -= DUPLE_WEIGHT * max(duple, 0.0)
        new = np.zeros(len(self.keys))
        have = np.zeros(len(self.keys), bool)
        for j, (m, a) in enumerate(self.keys):
            s = scores.get((m, (a - first_index) % m))
            if s is not None:
                new[j], have[j] = s, True
        if not have.any():
            return
        # a meter missing from this window (too few beats) keeps its old score
        # a window of few beats weighs less (its contrasts are noisier)
        weight = min(1.0, len(features) / FULL_BEATS)
        self.score = np.where(have, DECAY * self.score + (1 - DECAY) * weight * new, self.score)
        self.mass = DECAY * self.mass + (1 - DECAY) * weight
        self.seen += 1
        self._choose()

    def _settle_start(self, features: np.ndarray, first_index: int) -> np.ndarray:
        """features (n_beats, k) with the music's first START_SETTLE beats' START_COLS
        set to the mean of the beats after them, where the window reaches back to the
        beat the music began on: there they say "something started", not "a bar
        starts" (the start prior already counts that once)."""
        k0 = -1 if self.start_index is None else self.start_index - first_index
        if k0 < 0 or k0 + START_SETTLE + 4 > len(features):
            return features
        out = features.copy()
        cols = list(START_COLS)
        out[k0:k0 + START_SETTLE, cols] = features[k0 + START_SETTLE:, cols].mean(axis=0)
        return out

    def _choose(self) -> None:
        # the evidence's mean, shrunk toward nothing while there is little of it (the
        # start prior holds until the evidence clearly contradicts it)
        s = self.score / max(self.mass, 1e-9)
        if self.start_index is not None:
            s = s + self._start_bonus
        best = int(np.argmax(s))
        cur = self.keys.index((self.meter, self.anchor % self.meter))
        if best != cur and s[best] > s[cur] + SWITCH_MARGIN:
            self.meter, self.anchor = self.keys[best]
            cur = best
        m = self.meter
        same = [s[j] for j, (mm, _) in enumerate(self.keys) if mm == m and j != cur]
        other = [s[j] for j, (mm, _) in enumerate(self.keys) if mm != m]
        margin = min(s[cur] - max(same, default=-np.inf), s[cur] - max(other, default=-np.inf))
        sure = 1.0 - np.exp(-max(margin, 0.0) / meter_logic.CONFIDENCE_SCALE)
        self.confidence = float(sure * min(1.0, self.seen / FULL_EVIDENCE))

    @property
    def _start_bonus(self) -> np.ndarray:
        return np.array([START_PRIOR if a == self.start_index % m else 0.0 for m, a in self.keys])

    def bar_pos(self, beat_index: int) -> int:
        """Position of the beat with this index inside the bar (0 = downbeat)."""
        return (beat_index - self.anchor) % self.meter

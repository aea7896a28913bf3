"""The live bar: meter and downbeat phase agreed over consecutive estimates.

Every estimate scores the recent beats with the offline bar logic
(analysis/meter.meter_scores: low-band onsets, chord and bass changes on the
one, fills before it, the rhythm repeating every bar; no "the track starts on
a bar" prior, a live window does not start on one). A score is for a meter m
and a phase inside the window; it is filed under an ANCHOR, the beat index
of a downbeat modulo m, which stays put while beats go by. Scores are
averaged per (m, anchor) with a leaky mean (DECAY per estimate, one every
4 s: ~25 s of memory), so one window where the kick on 1 and 3 cannot tell 1 from 3, or a
fill that looks like a one, does not move the bar; evidence that keeps
coming does. The bar moves when another (m, anchor) leads the current one by
SWITCH_MARGIN (salience units).

Confidence: the chosen (m, anchor)'s margin over the best other anchor of
its meter and over the best other meter, mapped to [0, 1] as meter.py does
(1 - exp(-margin / CONFIDENCE_SCALE)), times how much evidence there is yet.
"""
from __future__ import annotations

import numpy as np

from ..analysis import meter as meter_logic

DECAY = 0.85               # per estimate (one every 4 s): ~25 s of memory
SWITCH_MARGIN = 0.05       # salience units another bar must lead by to replace the current one
# salience units for the beat the music started on (after silence): music mostly
# starts on a bar line (meter.START_PRIOR offline, where the track starts)
START_PRIOR = 0.2
FULL_EVIDENCE = 6          # estimates after which the confidence is not scaled down


class BarTracker:
    def __init__(self) -> None:
        self.keys = [(m, a) for m in meter_logic.METERS for a in range(m)]
        self.score = np.zeros(len(self.keys))
        self.seen = 0                      # estimates since the last reset
        self.meter = 4
        self.anchor = 0                    # beat index of a downbeat, modulo meter
        self.confidence = 0.0
        self.start_index: int | None = None   # beat index the music started on (a likely one)

    def reset(self) -> None:
        """The beats changed level: earlier anchors mean nothing any more."""
        self.score[:] = 0.0
        self.seen = 0
        self.confidence = 0.0
        self.start_index = None

    def update(self, features: np.ndarray, first_index: int) -> None:
        """features (n_beats, len(meter.FEATURES)) of consecutive beats whose first has
        the beat index first_index."""
        scores = meter_logic.meter_scores(features)
        if not scores:
            return
        new = np.zeros(len(self.keys))
        have = np.zeros(len(self.keys), bool)
        for j, (m, a) in enumerate(self.keys):
            s = scores.get((m, (a - first_index) % m))
            if s is not None:
                new[j], have[j] = s, True
        if not have.any():
            return
        # a meter missing from this window (too few beats) keeps its old score
        self.score = np.where(have, DECAY * self.score + (1 - DECAY) * new, self.score)
        self.seen += 1
        self._choose()

    def _choose(self) -> None:
        w = 1.0 - DECAY ** self.seen               # the leaky mean's weight so far
        s = self.score / max(w, 1e-9)
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

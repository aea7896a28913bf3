"""Which motion the beat follows: steady, or moving (rubato), chosen per beat by
which of two predictors would have called the last beats' onsets better.

The follower (live/follower.py) measures, once a beat's onsets are in, where that
beat's own onset started. Two alpha-beta predictors of the next beat (time and
period, s) run on those measurements beside the clock:

- STEADY (small gains): a groove whose hits are humanised or a dense texture
  whose onsets scatter around the beat is called best by a predictor that keeps
  its period and moves little with each onset;
- MOVING (large gains): a rubato whose every beat has its own clear onset is
  called best by one that follows each onset and carries its step into the period
  (the steady one lags a slowing by ~60 ms a beat there).

Each predictor's squared prediction error is averaged over the last few beats
(ERR_A); the clock follows the moving one when its error is clearly the smaller
(ENTER, with a floor ERR_FLOOR_S so that two near-perfect predictors do not
flip), and goes back when it no longer is (LEAVE). This is a two-model selection
in the manner of an interacting-multiple-model tracker, decided once a beat.
A level change, a half-beat move, a tap or a MIDI clock starts both predictors
again from the clock. The steady predictor keeps the period it started with only
while nothing says it is wrong: when a tempo window and the clock agree and it does
not, it takes the clock's (`reseed`; it began on a first guess of the tempo).

Every emitted beat, on the analysis thread's per-frame path: a few float
operations on preallocated state.
"""
from __future__ import annotations

import math

STEADY_GAINS = (0.3, 0.05)     # (phase, period) share of each onset's timing error
MOVING_GAINS = (0.9, 0.5)
GAINS = (STEADY_GAINS, MOVING_GAINS)
ERR_A = 0.2                    # weight of the newest beat in each predictor's mean squared error
ERR_FLOOR_S = 0.012            # s: errors below this rms are noise to both
ENTER = 0.3                    # follow the moving predictor when its error is under this share
LEAVE = 0.6                    # ... and leave it when its error is over this share
MIN_BEATS = 6                  # measured beats since a restart before any choice
FAR = 0.25                     # periods: a predictor this far from the clock restarts
RESEED_AGREE = 0.03            # log-ratio: a tempo window and the clock agree ...
RESEED_OFF = 0.03              # ... and the steady predictor is this far from both
MAX_GAP = 16                   # beats not examined (a long gap caught up) after which both restart


class MotionModels:
    """Two beat predictors fed the follower's onset times; `moving` says which the
    clock follows."""

    def __init__(self) -> None:
        self.t = [0.0, 0.0]        # s: each predictor's time for the beat `index`
        self.p = [0.0, 0.0]        # s: each predictor's period
        self.err = [0.0, 0.0]      # s^2: mean squared prediction error (steady, moving)
        self.index = -1            # beat index the predictors' times are for
        self.measured = 0          # beats measured since the last restart
        self.moving = False
        self._key = None           # (corrections, lead, offbeat) the predictors started at

    def restart(self, beat_s: float, period: float, index: int, key) -> None:
        for m in (0, 1):
            self.t[m], self.p[m], self.err[m] = beat_s, period, 0.0
        self.index, self.measured, self.moving, self._key = index, 0, False, key

    def reset(self) -> None:
        """Another lead takes the clock (a tap, a MIDI clock): steady at once, and both
        predictors start again from the clock's next beat examined."""
        self.moving, self._key = False, None

    def beat(self, beat_s: float, period: float, index: int, onset_s: float | None, key) -> bool:
        """The clock's beat `index` (its pulse at beat_s, s) and where its onset started
        (onset_s, or None when no clear onset was heard): step both predictors, choose.
        Returns `moving`."""
        if key != self._key or index < self.index or index - self.index > MAX_GAP:
            self.restart(beat_s, period, index, key)
        while self.index < index:               # beats not examined: predict through them
            for m in (0, 1):
                self.t[m] += self.p[m]
            self.index += 1
        for m in (0, 1):
            if abs(self.t[m] - beat_s) > FAR * period:
                self.restart(beat_s, period, index, key)
                break
        if onset_s is not None:
            self._measure(onset_s)
        return self.moving

    def reseed(self, read: float, clock: float) -> None:
        """A tempo window's period (read, s) and the clock's agree within RESEED_AGREE while
        the steady predictor's is more than RESEED_OFF from both: it began on a first guess
        of the tempo that the clock has since put right; it takes the clock's period."""
        if self.moving or self.measured == 0 or not (read > 0 and clock > 0):
            return
        if abs(math.log(read / clock)) > RESEED_AGREE:
            return
        p = self.p[0]
        if abs(math.log(p / clock)) > RESEED_OFF and abs(math.log(p / read)) > RESEED_OFF:
            self.p[0] = clock

    def _measure(self, onset_s: float) -> None:
        for m, (g_phase, g_period) in enumerate(GAINS):
            e = onset_s - self.t[m]
            self.err[m] += ERR_A * (e * e - self.err[m])
            self.t[m] += g_phase * e
            self.p[m] += g_period * e
        self.measured += 1
        if self.measured < MIN_BEATS:
            return
        floor = ERR_FLOOR_S * ERR_FLOOR_S
        ratio = (self.err[1] + floor) / (self.err[0] + floor)
        self.moving = ratio < (LEAVE if self.moving else ENTER)

"""The per-beat follower of the live beat clock (a mixin of OnlineBeatTracker).

The comb (live/comb.py) averages the last 8 beats and lags rubato; one clear
onset near a beat the clock just emitted does not. Once the onsets around that
beat are in, the follower moves the clock toward where the beat's own onset
started: FOLLOW_PHASE of the timing error at once, FOLLOW_PERIOD of it into the
period, and the comb defers (COMB_DEFER) for most of a beat. An onset that a
stronger one within FOLLOW_WIDE outdoes is a 16th or an 8th next to a
syncopated accent, not the beat's; nor, while the clock is steady, is one
further from the beat than GATE times the rms of the last onsets' timing errors
(a kick a 16th before the beat once the clock runs a little early). Each beat's
onset (or none) also steps the two predictors of live/motion.py; while the moving
one calls the onsets clearly better (a rubato, a ramp), the clock takes its gains
(MOVING_GAINS) and the comb waits the whole beat.

Every emitted beat, on the analysis thread's per-frame path: the onset windows
are read out of the ring as views, or into buffers sized once where they wrap.
"""
from __future__ import annotations

import math

import numpy as np

from ..analysis.beats import ATTACK_FRAMES, ATTACK_LEVEL
from .motion import MOVING_GAINS, MotionModels

# the per-beat follower: an onset near an emitted beat pulls the clock onto it (rubato)
FOLLOW_WINDOW = 0.15        # periods each side of the emitted beat searched for its onset
FOLLOW_WIDE = 0.25         # periods beyond that window in which no onset may be stronger
FOLLOW_PHASE = 0.6        # share of that onset's timing error corrected at once
FOLLOW_PERIOD = 0.25      # ... and fed into the period
COMB_DEFER = 0.3           # the comb's gain for COMB_DEFER_BEATS after the follower moved the clock
COMB_DEFER_BEATS = 0.8
MOVING_DEFER_BEATS = 1.0   # while the clock follows a moving tempo the comb waits the whole beat
GATE = 2.5                 # an onset further than this many rms timing errors from the beat is not its own
GATE_FLOOR_S = 0.012       # s: the rms never counts as less than this
GATE_A = 0.2               # weight of the newest onset in that rms
GATE_BEATS = 6             # onsets measured before the gate holds
FOLLOW_MIN = 2.0           # the onset must stand this many running means above the floor


class BeatFollower:
    """Needs norm, i, fps, period, next_beat, offbeat, glide, lead_now, mean, emitted,
    emitted_index, n_emitted, corrections, pinned_until (OnlineBeatTracker's)."""

    def _init_follower(self, ring: int) -> None:
        self._defer_until = -1           # frame until which the comb defers to the follower
        self._defer_gain = COMB_DEFER    # the comb's gain meanwhile
        self._followed = -1              # index of the last emitted beat the follower examined
        self._span = np.zeros(ring)      # onset windows where they wrap the ring
        self._span_wide = np.zeros(ring)
        self.motion = MotionModels()
        self._fit_key = None             # (corrections, lead, offbeat) the rms below began at
        self._fit_n = 0                  # onsets measured since
        self._fit_ms = 0.0               # s^2: their mean squared timing error (one-pole)

    def _follow(self) -> None:
        """Once the onsets around the last emitted beat are in (FOLLOW_WINDOW +
        FOLLOW_WIDE periods after it), move the clock toward where that beat's onset
        started: the comb averages 8 beats and lags rubato; one clear onset near the beat
        does not. An onset that a stronger one within FOLLOW_WIDE outdoes is a 16th
        or an 8th next to a syncopated accent (a kick on the "a" of 2), not the beat's."""
        if self.n_emitted == 0 or self._followed == self.n_emitted or self.glide or self.lead_now == 2:
            return                                   # (a MIDI clock leads: its phase is the beat)
        k = (self.n_emitted - 1) % len(self.emitted)
        beat = self.emitted[k] - self.offbeat * self.period     # the pulse the comb follows
        half = FOLLOW_WINDOW * self.period
        if self.now() < beat + half + FOLLOW_WIDE * self.period + 2.0 / self.fps:
            return
        self._followed = self.n_emitted
        at = self._beat_onset(beat, half)
        moving = self.motion.beat(beat, self.period, int(self.emitted_index[k]),
                                  None if at is None else at / self.fps,
                                  (self.corrections, self.lead_now, self.offbeat))
        if at is None:
            return
        err = at / self.fps - beat                   # s: + the onset came later than the beat
        if self._outlier(err) and not moving:
            return
        g_phase = MOVING_GAINS[0] if moving else FOLLOW_PHASE
        g_period = MOVING_GAINS[1] if moving else FOLLOW_PERIOD
        self.next_beat += g_phase * err
        if self.i >= self.pinned_until:              # a tapped tempo is not the follower's to change
            self.period += g_period * err
        beats = MOVING_DEFER_BEATS if moving else COMB_DEFER_BEATS
        self._defer_until = self.i + int(beats * self.period * self.fps)
        self._defer_gain = 0.0 if moving else COMB_DEFER

    def _outlier(self, err: float) -> bool:
        """A beat's onset (err s from the clock's beat) far outside the clock's recent
        timing errors (GATE times their rms, never under GATE_FLOOR_S): a syncopated kick a
        16th before the beat, inside the window once the clock runs a little early, pulled
        the clock a quarter of that 16th into its period and off the beat. Every
        measurement, kept or not, enters the rms (GATE_A per beat), so a real change of
        tempo or phase is taken after a beat or two."""
        key = (self.corrections, self.lead_now, self.offbeat)
        if key != self._fit_key:
            self._fit_key, self._fit_n, self._fit_ms = key, 0, 0.0
        gate = GATE * max(math.sqrt(self._fit_ms), GATE_FLOOR_S)
        far = self._fit_n >= GATE_BEATS and abs(err) > gate
        self._fit_ms += GATE_A * (err * err - self._fit_ms)
        self._fit_n += 1
        return far

    def _beat_onset(self, beat: float, half: float) -> float | None:
        """Frame (fractional) where the onset of the beat at `beat` s started, or None
        when no clear onset of its own was heard within `half` s of it."""
        lo, hi = math.floor((beat - half) * self.fps), math.ceil((beat + half) * self.fps)
        if lo < max(0, self.i - len(self.norm) + 2) or hi > self.i:
            return None
        seg = self._norm_span(lo, hi)
        j = int(np.argmax(seg))
        peak = float(seg[j])
        if peak < FOLLOW_MIN * max(self.mean, 1e-9) or j in (0, len(seg) - 1):
            return None                              # no clear onset near the beat
        wide = math.ceil(FOLLOW_WIDE * self.period * self.fps)
        if hi + wide <= self.i and float(self._norm_span(lo - wide, hi + wide, self._span_wide).max()) > peak:
            return None  # a stronger onset a 16th or 8th away (a syncopated kick): not the beat's own
        level = ATTACK_LEVEL * peak
        a = j
        while a > 0 and seg[a - 1] >= level and j - a < ATTACK_FRAMES:
            a -= 1
        at = lo + a
        if a > 0 and seg[a] > seg[a - 1]:
            at -= (seg[a] - level) / (seg[a] - seg[a - 1])
        return at

    def _norm_span(self, lo: int, hi: int, out: np.ndarray | None = None) -> np.ndarray:
        """(hi - lo + 1,) self.norm at frames lo..hi (fewer than the ring holds): a view of the ring,
        or, where the span wraps its end, a copy into a buffer sized once (`out`, else
        self._span), valid until the next call with that buffer."""
        ring = len(self.norm)
        a, n = lo % ring, hi - lo + 1
        if a + n <= ring:
            return self.norm[a:a + n]
        out = self._span if out is None else out
        head = ring - a
        out[:head] = self.norm[a:]
        out[head:n] = self.norm[:n - head]
        return out[:n]

"""The beats the tracker shows (a mixin of OnlineBeatTracker): its own clock's, and
a provisional phase before that clock has one.

A new clock gets its tempo after TEMPO_START_S of music but its phase only once the
comb spans MIN_COMB_BEATS beats (six periods of input: 3.75 s at 96 BPM); until then
it runs at the arbitrary phase `now + period`. Giving the clock itself an earlier
phase from fewer beats was measured twice and not kept (docs/live-analysis.md,
seventh and eighth passes): early beats on a syncopated kick or a rubato's first
slowing steer everything the clock learns after. So the clock keeps its own way,
and only what is shown changes: from SHOWN_MIN_BEATS beats of history until the
clock takes its phase, the shown beats follow a comb of that many beats; from then
on the clock's own. Every later beat, tempo, bar and check is the clock's, exactly
as without this part.

The hand-over either way shows no double beat: a beat closer than MIN_IBI periods
to the last one shown is not shown, so no gap is longer than a beat and a half; nor
two ones closer than MIN_BAR_GAP beats. The provisional bar counts from where the
music began, as the clock's own bar does before it has heard one.

Everything the window, the bank, the MIDI clock and a file run read is the shown
clock: `shown_beat`, `shown_downbeat`, `shown_next` (s), `shown_bar_pos`,
`shown_phase(t)`, and `log`. Per frame, allocation-free (the comb's own buffers).
"""
from __future__ import annotations

import math

import numpy as np

SHOWN_MIN_BEATS = 3        # beats of history before a provisional phase is shown
SHOWN_MIN_IBI = 0.6        # periods: the shortest interval between two shown beats
SHOWN_MIN_BAR = 2          # beats: the shortest shown bar
SHOWN_LATE = 0.2           # periods: a provisional beat the comb puts this far back is still
#                            shown, now (it is logged at the frame that shows it, not before)


class ShownClock:
    """Needs the tracker's clock (period, next_beat, beat_now, downbeat_now, bar_pos,
    emitted, n_emitted, _snap, holding, lead_now, music_start, meter), its comb
    (_comb_beats, _comb, _observed) and `log`; MIN_COMB_BEATS as `min_comb_beats`."""

    def _init_shown(self) -> None:
        self.shown_beat = False
        self.shown_downbeat = False
        self.shown_next = 0.0            # s: the next beat shown
        self.shown_bar_pos = 0           # position of the next shown beat in the bar (0 = one)
        self.provisional = False         # the shown phase is the short comb's, not the clock's
        self._last_shown = -math.inf     # s: the last beat shown
        self._since_shown_one = 1 << 20  # beats shown since the last one shown
        self._last_by_clock = False      # the last beat shown was the clock's own

    def shown_phase(self, t: float) -> float:
        """Position inside the shown beat at time t (s): [0, 1)."""
        if self.period <= 0:
            return 0.0
        return ((t - self.shown_next) / self.period) % 1.0

    def _show(self) -> None:
        """After the clock's frame: what this frame shows."""
        self.shown_beat = self.shown_downbeat = False
        if self.period <= 0:
            return
        n_k = self._provisional_beats()
        if not n_k or not self.provisional:          # the clock's own (and its beat of the
            self.provisional = False                 # frame the provisional phase starts on)
            if self.beat_now:
                self._put(self.emitted[(self.n_emitted - 1) % len(self.emitted)], self.downbeat_now,
                          clock=True)
            self.shown_next, self.shown_bar_pos = self.next_beat, self.bar_pos
        if n_k:
            beat, down, at = self._provisional_step(n_k)
            if beat:
                self._put(at, down, clock=False)

    def _provisional_beats(self) -> int:
        """Beats the provisional comb spans, or 0 when the clock's own phase is shown."""
        if not self._snap or self.holding or self.lead_now:
            return 0
        n_k = self._comb_beats(self.period * self.fps)
        return n_k if SHOWN_MIN_BEATS <= n_k < self.min_comb_beats else 0

    def _provisional_step(self, n_k: int) -> tuple[bool, bool, float]:
        """The shown clock on a comb of n_k beats: (beat now, downbeat, its time s)."""
        tau = self.period * self.fps
        score = self._comb(tau, n_k)
        best = int(np.argmax(score))
        self.provisional = True                    # shown_next starts from the clock's
        if float(score[best]) > 1e-9:
            err = (self._observed(score, best) - self.shown_next) / self.period
            self.shown_next += ((err + 0.5) % 1.0 - 0.5) * self.period
        start = max(self.music_start, 0.0)
        if self.shown_next > self.now() + 0.5 / self.fps:
            self.shown_bar_pos = round((self.shown_next - start) / self.period) % self.meter
            return False, False, 0.0
        at = self.shown_next
        self.shown_next += self.period
        index = round((at - start) / self.period)
        self.shown_bar_pos = (index + 1) % self.meter
        late = self.now() - at                 # s: the comb heard this beat's onset already
        if late > SHOWN_LATE * self.period:    # too late to show
            return False, False, 0.0
        return True, index % self.meter == 0, at if late <= 0.5 / self.fps else self.now()

    def _put(self, at: float, down: bool, *, clock: bool) -> None:
        """Show a beat at `at` (s) unless it doubles the last one shown. The clock's
        beats after its own keep its spacing rules (MIN_IBI, the bar's MIN_BAR_GAP); a
        hand-over, or the provisional comb's phase moving, is checked here."""
        handed = not (clock and self._last_by_clock)
        if handed and at - self._last_shown < SHOWN_MIN_IBI * self.period:
            return
        if handed:
            down = down and self._since_shown_one + 1 >= SHOWN_MIN_BAR
        self._last_by_clock = clock
        self._since_shown_one = 0 if down else self._since_shown_one + 1
        self._last_shown = at
        self.shown_beat, self.shown_downbeat = True, down
        if self.log is not None:
            self.log.append((at, down))

"""The live on-beat check: is the beat clock on the beat or half a beat off it (a
mixin of the online beat tracker, live/beat_tracker.py).

Accented off-beats (open hats on the "and"s) pull the comb half a beat off. On
its idle task the tracker asks the offline bar test (analysis/beat_grid.
on_beat_margin: bars clearer on the half-beat grid, the kick no weaker there)
about the clock's own last beats, and moves the clock half a beat, gliding,
when the verdict is clear enough. How clear depends on how settled the clock
is: a young clock moves on one clear verdict where the bass line changes on the
half-beats (a groove tracked on its "and"s), else on two in a row; a settled one
leaves the comb's own pulse only on two sure verdicts in a row (on real
recordings most such moves were wrong). The bar test wants 8 beats; before
that, in the first seconds of music, a clock whose half-beats carry the bass
notes and the kick moves on that alone (`_early_on_beat`, on the bar's slot).
"""
from __future__ import annotations

import numpy as np

from ..analysis import beat_grid
from . import tempo as live_tempo
from .beat_level import SETTLED_MUSIC_S, YOUNG_S

OFF_BEAT_SURE = 0.4        # meter-score margin that moves the clock on one on-beat check (a syncopated
#                            groove read 0.4-0.9 on its first check and sat 2 s longer on the off-beat)
OFF_PULSE_SURE = 1.5       # ... and, on two checks in a row, off the comb's pulse once the level has
#                            settled: on orchestral and game recordings the check read the half-beat
#                            grid as clearer at 0.6-1.4 where the comb sat on the beat (most such
#                            moves on the wesnoth tracks took a clock on the beat off it)
EARLY_BEATS = 6            # the clock's beats heard before the early check (the bar test wants 8)
EARLY_S = 8.0              # s of music in which it runs (the bar's idle slot, every half second)
EARLY_BASS = 3.0           # the bass line's changes half way between the clock's beats over on them
EARLY_LOW = 1.0            # ... with the low band (kick) no weaker there. Syncopated_124 variants on
#                            the "and"s after 6 beats: bass 7.3-7.6, low 1.5-2.8; grooves on the
#                            beat: bass 0.3-0.9 (kick_1_3 2.6 at 5 beats with low 0.02; reverb_noise
#                            4.8-5.0 at 5 beats, low 0.86-0.96, 0.4-0.5 from 6)
ON_BEAT_BEATS = 16         # the on-beat check's grid: the clock's beats extended back this far (its
#                            period wanders a few % as it chases single beats: over 32 beats that
#                            drifted most of a beat and the check read a good phase as the off-beat)


class OnBeatCheck:
    """The on-beat half of OnlineBeatTracker: needs its rings (onset, accent, low,
    chroma, low_spec; `len(self.onset)` frames), clock (period, next_beat, offbeat,
    glide, music_start, level_since), `_rows`, `now` and `_level_changed`."""

    def _on_beat(self) -> None:
        """Accented off-beats (open hats on the "and"s) pull the comb half a beat off:
        the offline check (beat_grid.on_beat_phase: bars clearer on the half-beat
        grid and the kick no weaker there) on the clock's grid over the last
        ON_BEAT_BEATS beats (the clock's own beats, so it needs no history of emitted
        beats at this level). A clear win (OFF_BEAT_SURE) moves the clock at once where
        it goes back to the comb's pulse or the half-beats carry the bass line's changes
        (beat_grid.half_beats_lead: on game recordings the first check took a comb on the
        beat off it with the bass no stronger there), any other win on the second vote
        in a row; once the level has settled, or the music
        has played SETTLED_MUSIC_S (a level change later on does not make the clock young
        for this check), leaving the comb's own pulse takes OFF_PULSE_SURE twice in a row
        (going back to it does not).
        The move glides over a few beats."""
        frames = self._clock_grid(len(self.onset), ON_BEAT_BEATS)
        if len(frames) < 8:
            return
        env = self._envelopes()
        _, moved, margin = beat_grid.on_beat_margin(frames, env)
        sure = margin >= OFF_BEAT_SURE and (
            self.offbeat != 0.0 or beat_grid.half_beats_lead(frames, env))
        settled = self.i - self.level_since >= YOUNG_S * self.fps or \
            self.now() - self.music_start >= SETTLED_MUSIC_S
        if self.offbeat == 0.0 and settled:
            moved, sure = moved and margin >= OFF_PULSE_SURE, False
        if moved and (self._pending_offbeat or sure):
            self._half_beat_move()
        else:
            self._pending_offbeat = moved

    def _early_on_beat(self) -> None:
        """Before the bar test has its 8 beats (the first check came 5-6 s in): a young
        clock on a syncopated groove's "and"s has the bass notes and the kick on its
        half-beats. In the first EARLY_S of music, once EARLY_BEATS of the clock's beats
        are heard, a clock whose half-beats carry EARLY_BASS times the bass line's changes
        of its beats, and a kick no weaker, moves half a beat at once (gliding)."""
        if self.offbeat != 0.0 or self.music_start < 0 or self.now() - self.music_start > EARLY_S:
            return
        frames = self._clock_grid(len(self.onset), ON_BEAT_BEATS)
        if not EARLY_BEATS <= len(frames) < 8:
            return
        bass, low = beat_grid.half_beat_ratios(frames, self._envelopes())
        if bass >= EARLY_BASS and low >= EARLY_LOW:
            self._half_beat_move()

    def _envelopes(self) -> beat_grid.Envelopes:
        """The rings' envelopes, oldest first, as the offline bar test reads them."""
        lin = self._rows(len(self.onset))
        return beat_grid.Envelopes(onset=live_tempo.normalise(self.onset[lin], fps=self.fps),
                                   accent=self.accent[lin], low=self.low[lin],
                                   chroma=self.chroma[:, lin], low_spectrum=self.low_spec[:, lin])

    def _half_beat_move(self) -> None:
        """The clock to the other half of the beat, gliding there over the next beats."""
        self.offbeat = 0.5 - self.offbeat
        self.glide -= 0.5          # half a beat earlier, spread over beats: no hole
        self._pending_offbeat = False
        self._level_changed()

    def _clock_grid(self, n_frames: int, most: int) -> np.ndarray:
        """Frames (relative to the last n_frames' start, oldest first) of the clock's beats
        over the last `most` periods, where they fall at least 2 frames inside."""
        start = self.i - n_frames + 1
        k = np.arange(most, 0, -1, dtype=np.float64)
        frames = (self.next_beat - k * self.period) * self.fps - start
        first = max(2.0, (self.music_start * self.fps - start) if self.music_start >= 0 else 2.0)
        return frames[(frames >= first) & (frames < n_frames - 2)]     # only where music played

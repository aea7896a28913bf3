"""A new song cut straight in, no silence between (a mixin of OnlineBeatTracker).

A DJ cuts from one record into the next, a band goes straight into the next
number. The silence restart (live/music_start.py) never fires, and the settled
clock's rules, made to keep a level and a phase through fills and ambiguous
windows, held the old song's clock: the 8 s tempo windows read the new tempo
only 6 s after the cut, the votes took it 10 s after, and then a settled clock
sat on the off-beat for good (no_drums_96 into syncopated_124: beat F1 0.07).

So on each tempo estimate of a settled clock whose 8 s window reads a tempo
more than CUT_STEP (10 %) from the clock's, and not an octave from it (fills and
half-time bars read those), a second estimate reads only the last
CUT_WINDOW_S. The music has changed under the clock when that window agrees,
repeats clearly better at its tempo than at the clock's period (CUT_GAIN), and
the clock's beats there carry little of the onset they carried before (CUT_FIT).
Then the tracker starts anew as if a file began CUT_WINDOW_S ago
(`_restart(keep_s=...)`: the onsets since then kept, the older ones cleared, its
music taken to begin there, but its first beat no one: the cut came mid-bar); the
new clock takes its tempo and phase from what it heard at once; its first beat
comes 0.6-1 of its beats after the last one shown, and the rest of the way to
its phase glides over the next beats (no double, no hole).

On the game and orchestral recordings of docs/live-analysis.md (33 tracks, 90 s
each) it fired 2-3 times in those 50 minutes of single recordings; on songs cut into
each other, 4-6 s after the cut (the fifteenth pass there). From 10 % apart (the
seventeenth pass): 7 restarts on 61 recordings (91.5 min), 6 before.
"""
from __future__ import annotations

import math

import numpy as np

from . import tempo as live_tempo
from .beat_level import LEVEL_JUMP, SETTLED_MUSIC_S, YOUNG_S

CUT_WINDOW_S = 4.0      # s: the short window read beside the tempo window
CUT_STEP = 0.1          # relative: a window reading a tempo this far from the clock's (and not an octave
#                         away) may say a new song; beat_level.DRIFT_MIN, the least a drift counts. At
#                         LEVEL_STEP (0.2) a cut from 110 into 124 BPM was never looked at and its
#                         settled clock sat on the off-beat for the rest of the take
CUT_GAIN = 0.35         # periodicity units by which the short window repeats better at its tempo
#                         than at the clock's (cut-ins 0.37-0.81; within one recording, 0.35 or more
#                         on 12 of the 42 estimates that read another level in both windows)
CUT_FIT = 0.6           # ... and the clock's beats carry at most this share of the onset (over the
#                         window's mean) that they carried in the 8 s before (cut-ins 0.0-0.59;
#                         within one recording 0.28-2.3, over 0.6 on 31 of those 42)

FIRST_GAP = (0.6, 1.0)  # periods from the last beat shown to the new clock's first (MIN_IBI .. a beat)


class SongChange:
    """Needs OnlineBeatTracker's rings, `_rows`, `_tempo`, clock and MusicStart's _restart."""

    songs_cut_in = 0           # new trackers started this way (kept across them)

    def _song_changed(self, long_bpm: float) -> bool:
        """After a tempo window read long_bpm (the window's own reading, before the level
        rules): True when the music changed under a settled clock, and the tracker
        has started anew on the last CUT_WINDOW_S."""
        if not self._cut_due(long_bpm):
            return False
        next_beat = self.next_beat
        self._restart(keep_s=CUT_WINDOW_S)
        self._tempo(int(CUT_WINDOW_S * self.fps))    # the new clock's tempo, on what it kept
        if self.period > 0:
            self.next_beat = next_beat   # from where the old clock's next beat was ...
            self._lock()                 # ... to the phase of what it kept
            self._first_beat_after(self._last_shown)
        self.songs_cut_in += 1
        self.corrections += 1            # the panel's "last correction" says so too
        self.last_correction = self.now()
        return True

    def _first_beat_after(self, last: float) -> None:
        """The new clock's first beat FIRST_GAP (periods) after the last beat shown (s):
        no double, no hole; the rest of the way to its phase glides over the next beats."""
        if not math.isfinite(last):      # nothing shown yet: the clock's own phase
            return
        lo, hi = last + FIRST_GAP[0] * self.period, last + FIRST_GAP[1] * self.period
        move = min(max(self.next_beat, lo), hi) - self.next_beat
        if move:
            self.next_beat += move
            self.glide -= move / self.period

    def _cut_due(self, long_bpm: float) -> bool:
        """The clock is settled, long_bpm another level, and the last CUT_WINDOW_S say a
        new song: its tempo, repeating, where the clock's beats no longer fall on onsets.
        A 4 s estimate (~0.8 ms here), only on settled estimates that read another level."""
        settled = (self.i - self.level_since >= YOUNG_S * self.fps and self.music_start >= 0
                   and self.now() - self.music_start >= SETTLED_MUSIC_S)
        if not settled or self.lead_now or self.period <= 0 or long_bpm <= 0:
            return False
        clock_bpm = 60.0 / self.period
        if not _another_tempo(long_bpm, clock_bpm):
            return False
        n = int(CUT_WINDOW_S * self.fps)
        rows = self._rows(n)
        onset = live_tempo.normalise(self.onset[rows], fps=self.fps)
        accent = live_tempo.normalise(self.accent[rows], fps=self.fps)
        short_bpm, _, acf = live_tempo.estimate(onset, accent, fps=self.fps)
        if not (short_bpm > 0 and abs(math.log(short_bpm / long_bpm)) <= math.log1p(LEVEL_JUMP)):
            return False
        gain = (live_tempo.support(acf, 60.0 * self.fps / short_bpm)
                - live_tempo.support(acf, self.period * self.fps))
        if gain < CUT_GAIN:
            return False
        now = self.now()
        before = self._clock_fit(now - 3 * CUT_WINDOW_S, now - CUT_WINDOW_S)
        return before > 0 and self._clock_fit(now - CUT_WINDOW_S, now) <= CUT_FIT * before

    def _clock_fit(self, lo: float, hi: float) -> float:
        """How much onset the clock's beats between lo and hi (s) carry: the mean of the
        strongest onset within 2 frames of each, over the window's mean onset."""
        ring = len(self.emitted)
        m = min(self.n_emitted, ring)
        k = np.arange(self.n_emitted - m, self.n_emitted) % ring
        beats = self.emitted[k] - self.offbeat * self.period
        beats = beats[(beats >= lo) & (beats < hi - 0.05)]
        f0, f1 = int(lo * self.fps), int(hi * self.fps)
        if len(beats) < 3 or f1 - f0 < 10 or self.i - f0 >= len(self.norm):
            return 0.0
        win = self.norm[np.arange(f0, f1 + 1) % len(self.norm)]
        mean = float(win.mean())
        if mean <= 1e-12:
            return 0.0
        at = np.round(beats * self.fps).astype(int)
        near = self.norm[(at[:, None] + np.arange(-2, 3)[None, :]) % len(self.norm)].max(axis=1)
        return float(near.mean()) / mean


def _another_tempo(bpm: float, clock_bpm: float) -> bool:
    """bpm is more than CUT_STEP from the clock's and not an octave from it."""
    if abs(math.log(bpm / clock_bpm)) <= math.log1p(CUT_STEP):
        return False
    return not live_tempo.octave_apart(60.0 / bpm, 60.0 / clock_bpm)

"""A new tracker when music starts after silence (a mixin of OnlineBeatTracker).

A performer opens the input, then plays; a set has pauses between songs. A tracker
that ran on the silence before (its young-stream rules long past: the first tempo
from under a second of music, the phase from a comb mostly of silence), or on an
input's noise floor (the analyser's BEAT_GATE_DBFS gate makes that silence too), kept
that clock's level and phase for 10 s or more once the music came. So the first
onset after RESTART_S of silence starts the tracker anew, as a file that begins with
the music: its young-stream rules (the first tempo after TEMPO_START_S, the comb's
beats while young, the tempo window) count from `origin`, RESTART_LEAD_S before that
onset, the lead-in the measured cases have (docs/live-analysis.md, fourteenth pass).
A shorter break keeps the clock, which holds through it; a tap or a MIDI clock that
leads is never restarted.
"""
from __future__ import annotations

import numpy as np

RESTART_S = 4.0            # s without an onset after which music starts a new tracker
RESTART_LEAD_S = 0.3       # s of silence the new tracker is taken to have heard before the music
# what a restart keeps: the frame count, a file run's log, a tap's or MIDI clock's hold, the
# corrections so far, and what was shown last (so the new clock's first beat is no double)
KEPT = ("i", "log", "lead", "pinned_until", "corrections", "last_correction", "songs_cut_in",
        "_last_shown", "_since_shown_one", "_last_by_clock")
RINGS = ("onset", "accent", "low", "chroma", "low_spec", "norm", "mean")   # what a cut's restart keeps


class MusicStart:
    """Needs OnlineBeatTracker's __init__, fps, i, quiet_frames, lead_now and `origin`."""

    def _music_after_silence(self, onset: float) -> None:
        """Before the frame with this onset is taken in: restart when it ends RESTART_S
        of silence."""
        if onset > 1e-6 and self.quiet_frames >= RESTART_S * self.fps and not self.lead_now:
            self._restart()

    def _restart(self, *, keep_s: float = 0.0) -> None:
        """A new tracker from the next frame on; with keep_s, one that has heard the last
        keep_s s (a song cut in, live/song_change.py: those onsets are kept, the older
        ones cleared). Once per song, not per frame: it makes the tracker's buffers
        anew (~0.37 MB)."""
        kept = {name: self.__dict__[name] for name in KEPT if name in self.__dict__}
        if keep_s > 0:
            kept.update({name: self.__dict__[name] for name in RINGS})
            self._clear_before(int(keep_s * self.fps))
        fps = self.fps
        self.__dict__.clear()               # the mixins' state set since, too
        self.__init__(fps=fps)
        self.__dict__.update(kept)
        if keep_s > 0:
            # the music it has heard began with what it kept: the young on-beat check's
            # grid and the bar reach back over those seconds (from the restart, the check
            # waited ~5 s for beats of its own); nor is their first beat a one (a cut
            # is found mid-bar, seconds in)
            self.origin = self.i + 1 - int(keep_s * self.fps)
            self.music_start, self._was_quiet = self.origin / self.fps, False
            self.cut_in = True
        else:
            self.origin = self.i + 1 - int(RESTART_LEAD_S * self.fps)

    def _clear_before(self, n: int) -> None:
        """Zero the rings but for their last n frames."""
        old = np.arange(self.i + 1, self.i + 1 + len(self.onset) - n) % len(self.onset)
        for name in ("onset", "accent", "low", "norm"):
            self.__dict__[name][old] = 0.0
        self.chroma[:, old] = 0.0
        self.low_spec[:, old] = 0.0

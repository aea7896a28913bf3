"""The live bar: which emitted beat is a one (a mixin of the online beat tracker).

The tracker (live/beat_tracker.py) keeps the rings of per-frame features, the
beat clock and its emitted beats; this part hears the bar on them. Every
second (BAR_TASK, between frames) it takes the last BAR_BEATS emitted beats of
the current level, carried back on the clock's grid to where the music began
while there are fewer (a young clock or a new level hears the bar at once),
scores the offline bar features on them (analysis/meter.py: kick, chord and
bass change on beat one, a fill before it, the rhythm repeating every bar) with
the bar-long chord change and the onsets' duple or triple period
(live/downbeat.py), and lets live/downbeat.BarTracker agree over consecutive
estimates. At each emitted beat `_bar_line` says whether it is a downbeat,
never two ones closer than MIN_BAR_GAP beats nor a bar longer than the meter
while the bar's phase moves.
"""
from __future__ import annotations

import numpy as np

from ..analysis import meter as meter_logic
from . import tempo as live_tempo
from .downbeat import beat_means, duple_over_triple

START_WINDOW_S = 30.0      # s after the music starts during which its first beat counts as a one
BAR_BEATS = 32             # recent beats the bar is estimated on
MIN_BAR_GAP = 2            # beats: the shortest bar the downbeats may mark while the bar's phase moves
BAR_TASK = 2               # idle task number of the bar: half a second after each other task
BAR_SCORE = 4              # ... and of its second half, on the next frame
BAR_STEP = 0.2             # periods an interval between emitted beats may differ from one
MIN_BAR_BEATS = 8          # beats at the current level before the bar is estimated


class BarLine:
    """The bar half of OnlineBeatTracker: needs its rings (onset, accent, low, chroma,
    low_spec), clock (period, next_beat, beat_index, music_start), `bars`
    (a downbeat.BarTracker), `_recent_beats`, `_rows` and the idle task `_tick`."""

    _bar_heard = None          # (features, first beat index, chroma, duple) awaiting BAR_SCORE

    @property
    def meter(self) -> int:
        return self.bars.meter

    @property
    def meter_confidence(self) -> float:
        """[0, 1]: how sure the bar's phase is (global/downbeat_confidence)."""
        return self.bars.confidence

    def _bar_start(self) -> None:
        """Tell the bar which beat the music began on (the next beat has beat_index); not
        after a song cut in (live/song_change.py), whose music began before what was kept."""
        if (self.bars.start_index is None and self.period > 0 and self.music_start >= 0
                and not self.cut_in
                and self.now() - self.music_start < START_WINDOW_S):
            back = round((self.next_beat - self.music_start) / self.period)
            self.bars.set_start(self.beat_index - int(back))

    def _bar_line(self) -> bool:
        """Is the beat being emitted a downbeat? Where the bar says so, but never two
        bars apart by less than MIN_BAR_GAP beats nor more than the meter: when the
        bar's phase moves (a new anchor), the bar in between is shortened, or split in
        two short ones (a move by one beat in 4/4: 2 + 3 beats), so the visuals see
        neither a double one nor a missing one."""
        self._bar_start()
        if self.bars.seen == 0 and self._tick == 0:
            self._tick = BAR_TASK      # no estimate yet: try at each beat, not once a second
        m = self.bars.meter
        gap = self.since_downbeat + 1                # beats since the last downbeat, this one included
        pos = self.bars.bar_pos(self.beat_index)
        to_next = (m - pos) % m                      # beats from this one to the bar's next one
        if m < 2 * MIN_BAR_GAP - 1 or gap > 1 << 19:
            down = pos == 0                          # no bar to keep (yet)
        elif pos == 0:
            down = gap >= MIN_BAR_GAP
        else:                                        # a one squeezed in when the next is too far
            down = gap >= MIN_BAR_GAP and to_next >= MIN_BAR_GAP and gap + to_next > m
        self.since_downbeat = 0 if down else gap
        return down

    def _bar_window(self) -> tuple[np.ndarray, int]:
        """(frames relative to the ring's start, oldest first; beat index of the first) of
        the beats the bar is heard on: the emitted beats of the current level, after the
        clock's grid carried back to where the music began while there are fewer than
        BAR_BEATS of them, so a young clock or a new level does not wait 8 beats to
        hear the bar (the onsets before it are the same music)."""
        ring = self.onset.shape[0]                   # frames of history kept
        frames, first = self._recent_beats(ring, BAR_BEATS)
        start = self.i - ring + 1
        tau = self.period * self.fps
        # a young clock moves its phase: beats emitted before it last jumped by more
        # than BAR_STEP of a period are off the grid it keeps now; its grid replaces them
        jumps = np.flatnonzero(np.abs(np.diff(frames) / tau - 1.0) > BAR_STEP)
        if len(jumps):
            frames, first = frames[jumps[-1] + 1:], first + int(jumps[-1]) + 1
        top = frames[0] if len(frames) else self.next_beat * self.fps - start
        floor = 2.0
        if self.music_start >= 0:
            floor = max(floor, self.music_start * self.fps - start - 0.5 * tau)
        n_back = min(BAR_BEATS - len(frames), int((top - floor) // tau))
        if n_back > 0:
            frames = np.concatenate([top - tau * np.arange(n_back, 0, -1), frames])
            first -= n_back
        return frames, first

    def _downbeat(self) -> None:
        """The bar's first half (BAR_TASK): the features of the beats heard; the next
        frame's idle call scores them (BAR_SCORE). One task of ~1.3 ms made the block
        that carried it the slowest 1 % of blocks (bench live's p99); two of ~0.6 ms do not."""
        frames, first = self._bar_window()
        if len(frames) < MIN_BAR_BEATS:
            return
        lin = self._rows(self.onset.shape[0])
        onset = live_tempo.normalise(self.onset[lin], fps=self.fps)
        feats = meter_logic.beat_features(frames, low_onset=self.low[lin], accent=self.accent[lin],
                                          chroma=self.chroma[:, lin], low_spectrum=self.low_spec[:, lin],
                                          onset=onset)
        self._bar_start()
        chroma = beat_means(self.chroma[:, lin], frames)     # (n_beats, 12)
        played = onset[max(0, int(frames[0]) - 2):]        # since the bar's first beat
        self._bar_heard = (feats, first, chroma, duple_over_triple(played, self.period * self.fps))
        self._tick = BAR_SCORE

    def _bar_score(self) -> None:
        """The bar's second half (BAR_SCORE, the frame after BAR_TASK): the meter and
        downbeat scores of the beats heard, agreed over consecutive estimates."""
        heard, self._bar_heard = self._bar_heard, None
        if heard is None:
            return
        feats, first, chroma, duple = heard
        self.bars.update(feats, first, chroma=chroma, duple=duple)
        self.bar_pos = self.bars.bar_pos(self.beat_index)

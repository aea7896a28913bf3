"""The tempo level of the online beat tracker: which metrical level the beat
clock runs at, and who set it (the tracker's own estimates, a tap, a MIDI
clock).

Every tempo estimate votes for its level in leaky sums; the clock takes
another level only when that level's votes lead, so one odd window does not
flip the level. A tap or a MIDI clock pins the level for a while; `release`
hands it back. `OnlineBeatTracker` (beat_tracker.py) inherits this: the
methods read and set its clock (`period`, `next_beat`, frame `i`).
"""
from __future__ import annotations

import math

import numpy as np

from ..analysis import tempo_level
from . import tempo as live_tempo

LEVEL_JUMP = 0.06          # relative tempo change that counts as a new metrical level
LEVEL_STEP = 0.2           # another level is at least this far (x4/3 or more) from the clock: a rubato
#                            or a ramp moving the tempo by 6-20 % is left to the comb and the follower
LEVEL_DECAY = 0.7          # per estimate
LEVEL_LEAD = 1.25          # the new level's votes over the current one's, once the clock is settled
YOUNG_S = 6.0              # s after a level is taken in which any lead moves it
#                            (and estimates come every second) ...
SETTLED_MUSIC_S = 12.0     # ... while the music is younger than this: later, a level change does not
#                            make the clock young again. On ambiguous recordings (heroes_rite: windows
#                            read 136, then 180, then 136) every change was undone by the next window
#                            while the clock was young: the level flipped every 2 s. The on-beat
#                            check holds such a clock to its settled rule too (on the game recordings
#                            a young check after an octave change took a clock on the beat off it).
OCTAVE_RETURN_S = 60.0     # s after a settled clock left an octave in which it goes back to that octave
#                            only where the last ~30 s of periodicity (level_check.LevelCheck.prefers)
#                            score it higher: a theme at 80 BPM whose hats play eighths for a few bars
#                            at a time read 160 in those windows, and the votes flipped the clock
#                            between the two octaves every 10-15 s for 90 s (supertux's theme.ogg)
PULSE_SURE = 0.5           # the pulse filter's mass within 6 % of the clock's tempo before it may hold
#                            the clock's level against a non-octave change (on the game tracks where it
#                            held, 0.95-1.00 there and ~0 at the new level; on dense notes that drown
#                            the beat it spreads, 0.0-0.2 at any tempo)

DRIFT_READS = 2           # estimates in a row, of one tempo within LEVEL_STEP of the clock but not
#                            its own, that repeat clearly better (DRIFT_SUPPORT) than the clock's
#                            period, before the clock's period is pulled back to them
DRIFT_SUPPORT = 0.1        # periodicity units
DRIFT_MIN = 0.1            # the least disagreement that counts: a rubato swings the clock up to
#                            ~8 % from an 8 s window's tempo, and pulling it back lost the beat

STEADY_READS = 3           # estimates in a row inside the clock's level that agree within STEADY_SPREAD
STEADY_SPREAD = 0.015      # (log-ratio) say the music holds a steady tempo; when the clock's period is
STEADY_OFF = 0.03          # ... at least this far (log-ratio) from theirs, after SETTLED_MUSIC_S, and
STEADY_COMB = 1.25         # ... the last beats' onsets comb this much better at their period than at
STEADY_GAIN = 0.5          # the clock's, the clock moves this share of the way (log) to it. On dense
#                            orchestral recordings the follower chases notes near the beat: frantic's
#                            every estimate read 90.9 BPM while its clock wandered 85-95 and slipped
#                            through the beat every ~15 beats. A rubato's 8 s windows read a steady
#                            mean tempo too, but its last beats comb better at the clock's own period
FIRST_FOLD_S = 4.0         # s of music in which an estimate slower than the counted range (tempo_level.
#                            LEVEL_LO) is taken twice as fast: 2-3 s of a syncopated or half-time groove
#                            read 62-70 BPM for 124-140 and the clock sat there until the votes turned
FOLD_MEMORY_S = 8.0        # s (one tempo window): after the first seconds, an estimate under the counted
#                            range is taken twice as fast when a window this recent read that faster
#                            level itself. Orchestral and game recordings alternate between 60 and 120
#                            window by window; each alternation flipped the clock's level (knalgan_theme
#                            sat 45 s at 60 BPM where offline, and a trained tracker, count 120)
TEMPO_SMOOTH_S = 1.0       # s: the tempo read out (`bpm`) is the clock's period averaged this long
#                            (one-pole): the follower moves the period by each beat's timing, and a
#                            humanised groove's last period read up to 3 % off its tempo (longer lags a ramp)
PLAYED_BEATS = 8           # while the clock follows a moving tempo (live/motion.py) the read-out is the
#                            median interval of the last 8 beats it played (as bench beats reads the truth's)

LOCKED_S = 2.0             # s a level must have held to count as locked
LOCKED_CONF = 0.25         # ... with at least this confidence


_LOG_JUMP = math.log1p(LEVEL_JUMP)


def tempo_smoothing(fps: float) -> float:
    """The one-pole coefficient a frame of the tempo read-out (TEMPO_SMOOTH_S at fps)."""
    return 1.0 - math.exp(-1.0 / (TEMPO_SMOOTH_S * fps))


def _insert_sorted(buf: np.ndarray, n: int, value: float) -> None:
    """Insert value into the sorted buf[:n] (buf has room for n + 1): a few values, no
    scratch memory."""
    j = n
    while j > 0 and buf[j - 1] > value:
        buf[j] = buf[j - 1]
        j -= 1
    buf[j] = value


def _same_level(p: float, q: float) -> bool:
    """Two periods (s, q may be 0: none yet) within LEVEL_JUMP of each other."""
    return p > 0 and q > 0 and abs(math.log(p / q)) <= _LOG_JUMP


class MetricalLevel:
    """Mixin of OnlineBeatTracker: the level votes, the tempo's lead and its read-out."""

    _drift = 0                 # estimates in a row that say the clock's period drifted
    _drift_period = 0.0        # s: the newest of them
    _steady: tuple = ()        # s: the last STEADY_READS estimates' periods inside the clock's level
    _octave_left = (0.0, -math.inf)   # (period s, stream s): the octave a settled clock last left, when
    _read_bpm = 0.0            # BPM: the last estimate inside the counted range, as read (not folded)
    _read_at = -math.inf       # s (stream clock): when

    def override(self, bpm: float, beat_time: float, *, hold_s: float = 30.0, lead: int = 1) -> None:
        """A tapped tempo (lead 1) or a MIDI clock's (lead 2): period 60 / bpm, a beat at
        beat_time (s, stream clock). The level then holds for hold_s (estimates may only
        fine-tune it); the phase keeps locking to the onsets."""
        if not bpm > 0:
            return
        self.lead = int(lead)
        self.motion.reset()            # the tap's or the clock's period is read out as it is
        self._octave_left = (0.0, -math.inf)   # the lead's level is its own call
        if self.period <= 0 or abs(np.log(60.0 / bpm / self.period)) > np.log1p(LEVEL_JUMP):
            self._level_changed()
        self.period = 60.0 / bpm
        now = self.now()
        self.next_beat = beat_time + np.ceil((now - beat_time) / self.period) * self.period
        self.pinned_until = self.i + int(hold_s * self.fps)
        self.pending_level = 0.0
        self.tempo_conf = 1.0

    def release(self) -> None:
        """The tap or clock lets go (the MIDI clock handed back, or stopped): the
        tracker's own estimates lead again from this frame on."""
        self.pinned_until = self.i
        self.lead = 0

    def _new_tempo(self, period: float, conf: float, acf: np.ndarray | None = None) -> None:
        """An estimate votes for its level (leaky sums per level, LEVEL_DECAY per
        estimate); the clock takes another level when that one's votes lead the
        current level's (by LEVEL_LEAD once the clock has run YOUNG_S at its level),
        so one odd window (a syncopated kick 1.5 beats apart) does not move it, and a
        first guess from two seconds of music is soon put right (not a later change: that
        one holds against the next window). Within a level the
        comb and the follower own the period: an estimate averages 8 s, and nudging
        the clock toward it dragged a rubato beat back toward the mean tempo."""
        jump = abs(np.log(period / self.period)) > np.log1p(LEVEL_JUMP) if self.period > 0 else True
        if self.i < self.pinned_until and jump:
            return                                   # a tapped level holds
        self.tempo_conf = conf
        self._vote(period, conf)
        if self.period <= 0:
            self.period = period
            self.next_beat = self.now() + period
            self.level_since = self.i
            self._snap = True
            return
        self._steady_pull(period)
        if not self._drifted(period, jump, acf):
            self._drift = 0
        elif self._drift >= DRIFT_READS:
            self.period, self._drift = period, 0
            return
        if not jump:
            return
        cur = self._votes_for(self.period, LEVEL_STEP)
        best = max(self.votes, key=lambda v: v[1])
        young = self.i - self.level_since < YOUNG_S * self.fps and (
            self.music_start < 0 or self.now() - self.music_start < SETTLED_MUSIC_S)
        if not young and (self._octave_return_held(best[0]) or self._pulse_holds(best[0])):
            return
        if abs(np.log(best[0] / self.period)) > np.log1p(LEVEL_STEP) and \
                best[1] > cur * (1.0 if young else LEVEL_LEAD) + 1e-9:
            if not young and live_tempo.octave_apart(best[0], self.period):
                self._octave_left = (self.period, self.now())
            self.period = best[0]
            self.level_since = self.i
            self._level_changed()
            self._snap = True

    def _octave_return_held(self, period: float) -> bool:
        """A settled clock that left the octave of `period` (s) less than OCTAVE_RETURN_S ago
        stays where it is unless the last ~30 s of periodicity score that octave higher.
        A first change of octave is the votes' call, and so is going back after a young
        clock's change (a first guess put right)."""
        left, when = self._octave_left
        if self.now() - when >= OCTAVE_RETURN_S or not _same_level(period, left):
            return False
        if not live_tempo.octave_apart(period, self.period):
            return False
        return not self.level_check.prefers(60.0 / period, 60.0 / self.period)

    def _pulse_holds(self, period: float) -> bool:
        """A settled clock keeps its level against another that is not an octave away
        (3:2, 4:3, ...) unless the pulse filter (live/pulse_filter.py) holds more mass
        around the new tempo: 8 s windows of accents 1.5 beats apart read 2/3 of the
        tempo for a few bars while the beats go on (ridealong, 140 -> 94 BPM for the
        rest of the track), and the filter's tempo only moves when beats keep landing on
        the new grid. Only a filter sure of the clock's tempo holds it (PULSE_SURE): on
        dense notes that drown the beat its mass spreads over fast tempi, and then the
        votes decide, as before. Octaves are left to the votes and the octave-return
        rule: the filter's octave is no better than a guess (wesnoth's loyalists, 115 BPM, sat at 230)."""
        if live_tempo.octave_apart(period, self.period):
            return False
        here = self.pulse.mass_near(60.0 / self.period)
        return here >= PULSE_SURE and here > self.pulse.mass_near(60.0 / period)

    def _pulse_keeps(self, read_bpm: float, settled_bpm: float) -> bool:
        """A window's own reading (BPM) stands against the long-term level check's
        rewrite of it (level_check.LevelCheck.settle) to a tempo not an octave away,
        where the pulse filter is sure of the reading (PULSE_SURE within 6 %) and holds
        less at the rewrite. The check's comb sums harmonics 1-3, and at 2/3 of a beat
        they land on every other accent of a groove in 1.5-beat accents: from 10 s on,
        windows that read 158-166 were counted 107 (warzone2100's track20), and a clock
        that had taken 107 from the first window stayed there. Octaves stay the
        check's call."""
        if settled_bpm == read_bpm or read_bpm <= 0 or settled_bpm <= 0:
            return False
        if live_tempo.octave_apart(60.0 / read_bpm, 60.0 / settled_bpm):
            return False
        here = self.pulse.mass_near(read_bpm)
        return here >= PULSE_SURE and here > self.pulse.mass_near(settled_bpm)

    def _steady_pull(self, period: float) -> None:
        """Move the clock's period STEADY_GAIN of the way to the estimates' when the last
        STEADY_READS of them, inside its level, agree (a steady tempo), the clock is
        STEADY_OFF or more away, the music has settled, and the last beats' onsets comb
        STEADY_COMB times better at the estimates' period (the clock chased notes, not a
        rubato). A period in another level starts the count again. A tap or a MIDI clock
        that leads keeps its own period."""
        if self.lead_now:
            return
        if abs(math.log(period / self.period)) > math.log1p(LEVEL_STEP):
            self._steady = ()
            return
        self._steady = (self._steady + (period,))[-STEADY_READS:]
        logs = [math.log(p) for p in self._steady]
        if len(logs) < STEADY_READS or max(logs) - min(logs) > STEADY_SPREAD:
            return
        target = math.exp(sum(logs) / len(logs))
        off = math.log(target / self.period)
        settled = self.music_start >= 0 and self.now() - self.music_start >= SETTLED_MUSIC_S
        if abs(off) < STEADY_OFF or not settled:
            return
        tau_new, tau_now = target * self.fps, self.period * self.fps
        n_k = min(self._comb_beats(tau_new), self._comb_beats(tau_now))
        if n_k < 4:
            return
        if float(self._comb(tau_new, n_k).max()) > STEADY_COMB * float(self._comb(tau_now, n_k).max()):
            self.period *= math.exp(STEADY_GAIN * off)

    def _drifted(self, period: float, jump: bool, acf: np.ndarray | None) -> bool:
        """Count an estimate that says the clock's period drifted within its level: another
        tempo less than LEVEL_STEP away that the window repeats at clearly better than at
        the clock's period, agreeing with the one before. Rubato moves the clock away
        from an 8 s window's tempo too, but the window then repeats at both (the comb and
        the follower keep such a clock on the onsets); a clock chasing half-beat
        corrections does not (126 BPM drifted to 104 while every estimate read 126)."""
        off = abs(np.log(period / self.period))
        if acf is None or not np.log1p(DRIFT_MIN) < off <= np.log1p(LEVEL_STEP):
            return False
        gain = (live_tempo.support(acf, period * self.fps)
                - live_tempo.support(acf, self.period * self.fps))
        if gain < DRIFT_SUPPORT:
            return False
        same = self._drift and abs(np.log(period / self._drift_period)) <= np.log1p(LEVEL_JUMP)
        self._drift = self._drift + 1 if same else 1
        self._drift_period = period
        return True

    def _vote(self, period: float, conf: float) -> None:
        for v in self.votes:
            v[1] *= LEVEL_DECAY
        w = 1.0     # every window's choice counts the same (a doubled level's confidence reads ~0)
        for v in self.votes:
            if abs(np.log(period / v[0])) <= np.log1p(LEVEL_JUMP):
                v[0] += (period - v[0]) * w / (v[1] + w)
                v[1] += w
                break
        else:
            self.votes.append([period, w])
        self.votes = [v for v in self.votes if v[1] > 0.01][-6:]

    def _votes_for(self, period: float, tol: float = LEVEL_JUMP) -> float:
        return sum(v[1] for v in self.votes if abs(np.log(period / v[0])) <= np.log1p(tol))

    def _fold(self, bpm: float, onset: np.ndarray | None = None,
              beat_frames: np.ndarray | None = None) -> float:
        """bpm, or twice it when bpm is under the counted range (tempo_level.LEVEL_LO) and
        either the music is younger than FIRST_FOLD_S (a window of a few beats cannot tell
        a half-time feel from the beat) or a window of the last FOLD_MEMORY_S read that
        faster level itself (the music is ambiguous between the two, and offline's prior
        takes the one inside the range), or the clock still runs at the level such a window
        read and every one of its beats in this window (onset, normalised; beat_frames,
        the clock's recent beats in its frames) still carries onsets: a half-time groove
        (kick on 1, snare on 3, hats on every beat) read half its tempo in every window
        from its 10th s on and dropped to it 8 s later. A slow piece whose windows never
        read the faster level, or leave every other beat of it empty, still wins its own
        level back by its votes; at either level the beats stay on the music's."""
        lo = tempo_level.LEVEL_LO
        if bpm >= lo:
            self._read_bpm, self._read_at = bpm, self.now()
            return bpm
        if bpm <= 0 or 2 * bpm > tempo_level.LEVEL_HI:
            return bpm
        young = self.music_start >= 0 and self.now() - self.music_start < FIRST_FOLD_S
        read = self._read_bpm > 0 and _same_level(60.0 / (2 * bpm), 60.0 / self._read_bpm)
        held = read and (self.now() - self._read_at <= FOLD_MEMORY_S or (
            _same_level(self.period, 60.0 / self._read_bpm) and onset is not None
            and beat_frames is not None and live_tempo.every_beat_played(onset, beat_frames)))
        return 2.0 * bpm if young or held else bpm

    def _smooth_tempo(self) -> None:
        """Per frame: the read-out period follows the clock's over TEMPO_SMOOTH_S
        (`_tempo_a`, set once from the frame rate); it takes another level (a level change,
        a tap, a MIDI clock) at once."""
        played = self._moving_period()
        if played > 0:                 # a median of whole beats: taken as it is
            self.tempo_period = played
            return
        p, q = self.period, self.tempo_period
        self.tempo_period = q + self._tempo_a * (p - q) if _same_level(p, q) else p

    def _moving_period(self) -> float:
        """s: while the clock follows a moving tempo, the median interval of the last
        PLAYED_BEATS beats it played (a rubato: the clock's period swings with each beat),
        when that is within the clock's level; else 0."""
        played = self._played_period() if self.motion.moving else 0.0
        ok = played > 0 and abs(math.log(played / self.period)) <= math.log1p(LEVEL_STEP)
        return played if ok else 0.0

    def _played_period(self) -> float:
        """s: the median interval of the last PLAYED_BEATS emitted beats of this level (a
        gap's interval counts per beat skipped); 0 while fewer than 4 are in. Worked out
        once per emitted beat, into a buffer sized once (kept sorted as it fills: numpy's
        sort took a 2.7 kB scratch buffer)."""
        if self._played_key == self.n_emitted:
            return self._played
        self._played_key = self.n_emitted
        ring, buf = len(self.emitted), self._played_buf
        n, k = 0, self.n_emitted - 1
        while n < len(buf) and k >= 1 and k > self.n_emitted - ring:
            b, a = k % ring, (k - 1) % ring
            if self.emitted_index[a] < self.level_start:
                break
            span = max(int(self.emitted_index[b] - self.emitted_index[a]), 1)
            _insert_sorted(buf, n, float(self.emitted[b] - self.emitted[a]) / span)
            n, k = n + 1, k - 1
        if n < 4:
            self._played = 0.0
            return 0.0
        self._played = float(buf[n // 2] if n % 2 else 0.5 * (buf[n // 2 - 1] + buf[n // 2]))
        return self._played

    @property
    def bpm(self) -> float:
        """The tempo read out (BPM): the clock's period over the last TEMPO_SMOOTH_S, or the
        clock's own when it has just moved to another level; 0 before the first estimate."""
        p, q = self._moving_period() or self.period, self.tempo_period
        if p <= 0:
            return 0.0
        return 60.0 / (q if _same_level(p, q) else p)

    @property
    def lead_now(self) -> int:
        """0 the tracker leads, 1 a tap, 2 a MIDI clock (while its level holds)."""
        return self.lead if self.i < self.pinned_until else 0

    @property
    def locked(self) -> bool:
        """The tempo is locked: a level held LOCKED_S, heard (not holding through silence),
        with a comb that says where the beat is."""
        return (self.period > 0 and not self.holding and self.confidence >= LOCKED_CONF
                and self.i - self.level_since >= LOCKED_S * self.fps)

    @property
    def level_share(self) -> float:
        """[0, 1]: the current level's share of the recent tempo votes (how sure the
        metrical level is; estimates within LEVEL_STEP of the clock are its level, as
        for the level change); 1 while a tap or clock holds it."""
        if self.lead_now:
            return 1.0
        total = sum(v[1] for v in self.votes)
        return self._votes_for(self.period, LEVEL_STEP) / total if total > 0 and self.period > 0 else 0.0

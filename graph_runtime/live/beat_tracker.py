"""An online beat tracker: tempo by autocorrelation, phase by a comb, a
phase-locked beat clock that predicts the next beat, and the bar.

Per analysis frame (50 fps) it takes the mix's onset strength (the offline
SuperFlux-style log-mel flux, analysis/beats.onset_envelope, one frame at a
time), an accent strength (the same below 3 kHz), the low-band flux (kick),
the mix chroma and its bass log-spectrum, and keeps the last ~20 s of each
in rings.

- Tempo, every 2 s (in `idle`, between frames): live/tempo.estimate on the
  last TEMPO_WINDOW_S of onsets normalised as offline (the offline
  tempo_level.choose_level, and a slow level doubled when the tracked beats'
  half-beats are played). An estimate within 20 % of the clock (the same level:
  rubato and a ramp move an 8 s window that much) leaves the period to the comb
  and the follower (an 8 s window lags rubato and pulled the clock back toward
  the mean tempo), unless two in a row agree and repeat clearly better than
  the clock's period (the period drifted: beat_level._drifted); another level
  takes over when its votes lead
  (live/beat_level.py), so one odd window does not flip 174 to 87 BPM nor a
  syncopated 124 to 83; a settled clock goes back to an octave it left only
  where the last ~30 s of periodicity agree (beat_level._octave_return_held),
  nor to a level 3:2 (or any non-octave ratio) away unless the pulse filter
  (live/pulse_filter.py, a beat-position x tempo forward filter stepped every
  frame) holds more mass there (beat_level._pulse_holds); a window's reading
  the filter is sure of is not rewritten by the long-term check to a 3:2
  (beat_level._pulse_keeps).
  A level under the counted range is taken twice as fast
  in the first seconds of music, or when a recent window read that faster level
  itself (beat_level._fold).
- Phase, every frame: for each candidate offset phi (frames) the comb score
  sum_k 0.8^k * onset(now - phi - k * period) over the last 8 beats, onsets
  above their 1 s running mean; the best phi (refined by a parabola) says
  where the last beat fell (once the clock runs, the best phi within
  LOCAL_WINDOW of the clock's own beat, where it scores LOCAL_SHARE of the best:
  notes near the beat do not pull the clock to them and back) (5..COMB_BEATS beats while the stream is young; a
  new clock takes that phase at once), moved back from the comb's peak to
  where it rises through half of it (the attack, as beats.to_attack offline).
- The beat clock holds `next_beat` (s) and `period` (s). The observed grid's
  error against the clock, wrapped to +-half a period, corrects it: phase
  gain PHASE_GAIN and period gain PERIOD_GAIN per frame, scaled by how
  peaked the comb is (a flat comb, e.g. in silence, corrects nothing: the
  clock free-runs at the last tempo and `holding` says so).
- The follower, once a beat's onsets are in: live/follower.py (the
  BeatFollower mixin) moves the clock toward where that beat's own onset
  started (rubato), and the comb defers to it for most of a beat; with larger
  gains, and the comb waiting the whole beat, while the onsets say the tempo
  moves (live/motion.py: a steady and a moving predictor, chosen per beat).
- A beat is emitted on the frame nearest its predicted time; its time is the
  clock's prediction, known before the onset is heard. The channel bank
  extrapolates the clock further ahead (latency compensation).
- The bar, every second (half a second after each other task, so a block
  still carries at most one): live/bar_line.py (the BarLine mixin); its
  confidence is the `global/downbeat_confidence` channel.
- The on-beat check, every few seconds: live/on_beat_check.py (the OnBeatCheck
  mixin) moves the clock half a beat when the offline bar test says the
  accents sit on the off-beat.
- What is shown (the beat and bar channels, the status row, a file run's log):
  live/shown_beats.py (the ShownClock mixin): the clock's own beats, and before a
  new clock has its phase, a comb of three or four beats'.
- Music after a few seconds of silence (the analyser gates an input's noise floor
  to silence) starts a new tracker: live/music_start.py (the MusicStart mixin);
  the young-stream rules count from `origin`.
"""
from __future__ import annotations

import math

import numpy as np

from ..analysis.beats import ATTACK_FRAMES, ATTACK_LEVEL
from . import tempo as live_tempo
from .bar_line import BAR_SCORE, BAR_TASK, BarLine
from .beat_level import PLAYED_BEATS, YOUNG_S, MetricalLevel, tempo_smoothing
from .comb import PhaseComb
from .downbeat import BarTracker
from .follower import BeatFollower
from .level_check import LevelCheck, hold_to_level
from .music_start import MusicStart
from .on_beat_check import OFF_BEAT_SURE, OFF_PULSE_SURE, SETTLED_MUSIC_S, OnBeatCheck  # noqa: F401
from .pulse_filter import PulseFilter
from .shown_beats import ShownClock
from .song_change import SongChange

RING = 1024                # frames of onset history (20.48 s at 50 fps)
LOW_BINS = 12              # log-magnitude bins 25..300 Hz kept for the bass-change feature
TEMPO_WINDOW_S = 8.0
TEMPO_START_S = 2.0        # s of input before the first tempo estimate
COMB_BEATS = 8
COMB_DECAY = 0.8          # weight of each older beat in the comb
MIN_COMB_BEATS = 5         # beats of history before the comb may lock the phase
PHASE_GAIN = 0.1          # share of the phase error corrected per frame
PERIOD_GAIN = 0.01        # share of the phase error fed into the period per frame
LOCAL_WINDOW = 0.15        # periods each side of the clock's beat where the comb's phase is taken
LOCAL_SHARE = 0.5          # ... if it scores at least this share of the comb's best phase: on strings
#                            and brass the comb's best phase jumped between notes near the beat and
#                            the clock followed each jump within a beat (beats 93-158 BPM at 120)
LEVEL_SUPPORT = 1.3       # a new level not an octave away must repeat this much better
SILENT_S = 2.0             # onset-free time after which the tempo is said to hold
N_EMITTED = 64             # ring of emitted beats
MIN_IBI = 0.6              # periods: the shortest interval between two emitted beats
PERIOD_MIN_S = 0.2           # s (300 BPM) and (30 BPM): safety bounds on the clock, never reached by music
PERIOD_MAX_S = 2.0
# the level: every estimate votes for its level (leaky sums); another level takes over when it leads
GLIDE_STEP = 0.4           # periods the clock may move per emitted beat when it changes phase
#                            (the interval then is at least MIN_IBI: a half-beat move takes two beats)
IDLE_TASKS = (1, 2, 1, 3)  # a second each: tempo, bar, tempo, on-beat phase


def _clip(x: float, lo: float, hi: float) -> float:
    """x within [lo, hi], as a Python float (np.clip on a scalar makes arrays: the
    per-frame path calls this several times a frame)."""
    x = float(x)
    return lo if x < lo else hi if x > hi else x


class OnlineBeatTracker(BarLine, MetricalLevel, OnBeatCheck, BeatFollower, ShownClock, MusicStart,
                        SongChange):
    min_comb_beats = MIN_COMB_BEATS

    def __init__(self, *, fps: float) -> None:
        self.fps = float(fps)
        self.onset = np.zeros(RING)
        self.accent = np.zeros(RING)
        self.low = np.zeros(RING)
        self.chroma = np.zeros((12, RING))
        self.low_spec = np.zeros((LOW_BINS, RING))
        self.norm = np.zeros(RING)       # onset minus its running mean, >= 0
        self.i = -1                      # newest frame index
        self.origin = 0                  # frame the tracker started at: the stream's first, or
        #                                  music after silence (live/music_start.py)
        self.mean = 0.0
        self._mean_a = 1.0 - float(np.exp(-1.0 / self.fps))   # the onsets' running mean: ~1 s
        self.period = 0.0                # s; 0 until the first tempo estimate
        self.tempo_period = 0.0          # s: the period read out (beat_level.TEMPO_SMOOTH_S)
        self._tempo_a = tempo_smoothing(self.fps)
        self.next_beat = 0.0             # s, predicted
        self.confidence = 0.0            # [0, 1]
        self.tempo_conf = 0.0
        self.pending_level = 0.0         # a new tempo level waiting for a second vote
        self.quiet_frames = 0
        self._was_quiet = True           # no onset yet, or SILENT_S of none
        self.music_start = -1.0          # s: the first onset after silence
        self.cut_in = False              # started on a song cut in: music_start is where what it
        #                                  kept begins, mid-song (live/song_change.py)
        self.holding = False
        self.beat_now = False
        self.downbeat_now = False
        self.beat_count = 0
        self.bars = BarTracker()
        self.bar_pos = 0                 # position of the NEXT beat inside the bar (0 = downbeat)
        self.since_downbeat = 1 << 20    # beats from the last emitted downbeat to the last beat
        self.pinned_until = -1           # frame until which a tapped tempo level holds
        self.emitted = np.zeros(N_EMITTED)   # ring of emitted beat times (s)
        self.n_emitted = 0
        self.beat_index = 0              # index of the next beat slot (catch-up skips count)
        self.emitted_index = np.zeros(N_EMITTED, np.int64)  # beat index of each emitted beat
        self.level_start = 0             # beat index where the current level began
        self.log: list | None = None      # a file run sets a list: every (beat s, downbeat) emitted
        self._tick = 0                   # idle work: 0 nothing due, else a task of IDLE_TASKS
        self._snap = False               # the next lock sets the phase outright (a new clock)
        self.offbeat = 0.0               # 0, or 0.5: the beat is half a period off the comb's pulse
        self._pending_offbeat = False    # the half-beat grid won once, waiting for a second vote
        self.votes: list[list[float]] = []    # [period s, leaky votes] per level heard
        self.lead = 0                    # what set the tempo last: 0 the tracker, 1 tap, 2 MIDI clock
        self.level_since = 0             # frame the current level was taken
        self.glide = 0.0                 # periods the clock still has to move (a phase change)
        self.corrections = 0             # level changes and half-beat moves so far
        self.last_correction = -1.0      # s (stream time) of the newest one
        self._init_follower(RING)
        self._init_shown()
        self._played_buf = np.zeros(PLAYED_BEATS)   # intervals of the last beats (the read-out's median)
        self._played_key = -1            # n_emitted the played period was worked out at
        self._played = 0.0               # s, 0 until 4 intervals are in
        self.comb = PhaseComb(COMB_BEATS, COMB_DECAY)
        self.level_check = LevelCheck(fps=self.fps, n_lags=int(4 * self.fps) + 1)  # ~30 s of periodicity
        self.pulse = PulseFilter(fps=self.fps)   # the tempi the onsets keep landing on (level changes)

    # -- per frame ----------------------------------------------------------------
    def step(self, onset: float, accent: float, low: float, chroma: np.ndarray,
             low_spectrum: np.ndarray | None = None) -> None:
        """One frame: onset/accent/low-band flux (floats), the mix chroma (12,) and
        its log magnitude 25..300 Hz (LOW_BINS,)."""
        self._music_after_silence(onset)
        self.i += 1
        j = self.i % RING
        self.onset[j], self.accent[j], self.low[j] = onset, accent, low
        self.chroma[:, j] = chroma
        if low_spectrum is not None:
            self.low_spec[:, j] = low_spectrum[:LOW_BINS]
        self.mean += self._mean_a * (onset - self.mean)
        self.norm[j] = max(onset - self.mean, 0.0)
        self.quiet_frames = self.quiet_frames + 1 if onset <= 1e-6 else 0
        if onset > 1e-6 and self._was_quiet:          # music starts (or starts again)
            self.music_start, self._was_quiet = self.now(), False
            self._octave_left = (0.0, -math.inf)      # the next song: no octave left yet
            self.pulse.reset()
        elif self.quiet_frames > SILENT_S * self.fps:
            self._was_quiet = True
        self.pulse.step(self.norm[j])
        self.holding = self.period > 0 and self.quiet_frames > SILENT_S * self.fps
        second, k = int(self.fps), self.i - self.origin
        if k % second == 0 and k >= TEMPO_START_S * self.fps:
            # one task a second, in turn: a block carries at most one; a young level is
            # checked every second (tempo, then the on-beat check once it has beats)
            young = self.i - self.level_since < YOUNG_S * self.fps
            task = IDLE_TASKS[(k // second) % len(IDLE_TASKS)]
            if young:
                task = 3 if (k // second) % 2 and self.n_emitted >= 4 else 1
            self._tick = task if self.period > 0 else 1
        elif k % second == second // 2 and self.period > 0:
            self._tick = BAR_TASK      # the bar every second: it settles within a few bars
        if self.period > 0:
            self._lock()
            self._follow()
            self._emit()
            self._smooth_tempo()
        else:
            self.beat_now = self.downbeat_now = False
        self._show()

    def now(self) -> float:
        return self.i / self.fps

    def _comb_beats(self, tau: float) -> int:
        """Beats of `tau` frames the comb spans: the last COMB_BEATS, fewer while the
        stream is younger than that."""
        return min(COMB_BEATS, int(min(self.i - self.origin, RING - 2) / tau) - 1)

    def _comb(self, tau: float, n_k: int) -> np.ndarray:
        """(ceil(tau),) comb score per phase (frames back from now): the onsets above their
        running mean at the last n_k beats of tau frames, each older beat weighted
        COMB_DECAY less (live/comb.py; a view valid until the next call)."""
        return self.comb.score(self.norm, self.i, tau, n_k)

    def _lock(self) -> None:
        tau = self.period * self.fps                 # frames per beat
        n_k = self._comb_beats(tau)
        if n_k < MIN_COMB_BEATS or self.holding or self.lead_now == 2:
            return
        score = self._comb(tau, n_k)
        best = int(np.argmax(score))
        peak = float(score[best])
        mean = float(score.mean())
        if peak <= 1e-9:
            return
        sharp = (peak - mean) / peak                 # 0 flat .. 1 one clear phase
        if not self._snap and LOCAL_SHARE > 0:
            best = self._near_clock(score, best, peak, tau)
        observed = self._observed(score, best)       # s: the last beat
        # against where the clock will be once a phase change has glided (glide < 0: it moves
        # earlier over the next beats): the comb must neither do the glide's move at once
        # nor feed it into the period (two half-beat glides drifted 126 BPM to 104)
        err = (observed - self.next_beat) / self.period - self.glide
        err = (err + 0.5) % 1.0 - 0.5                # wrapped to +-half a beat
        g = _clip(sharp, 0.0, 1.0)
        if self._snap:                               # a new clock: take the onsets' phase at once
            self.next_beat += err * self.period
            self._snap = False
            return
        if self.i < self._defer_until:               # the beat's own onset was just heard
            g *= self._defer_gain
        self.next_beat += PHASE_GAIN * g * err * self.period
        self.period += PERIOD_GAIN * g * err * self.period
        self.confidence = _clip(0.5 * self.tempo_conf + 0.5 * sharp, 0.0, 1.0)

    def _observed(self, score: np.ndarray, best: int) -> float:
        """s: where the comb's phase `best` (frames back) puts the last beat: its peak
        refined by a parabola, moved back to the attack, plus the half-beat offset."""
        b, peak = float(best), float(score[best])
        if 0 < best < len(score) - 1:
            a, c = score[best - 1], score[best + 1]
            den = a - 2 * peak + c
            if abs(den) > 1e-12:
                b += _clip(0.5 * (a - c) / den, -0.5, 0.5)
        b += self._attack_lead(score, best, peak)
        return (self.i - b) / self.fps + self.offbeat * self.period

    def _near_clock(self, score: np.ndarray, best: int, peak: float, tau: float) -> int:
        """The comb's best phase within LOCAL_WINDOW beats of where the clock puts the last
        beat, where it scores at least LOCAL_SHARE of the comb's best; else the best."""
        clock = ((self.now() + self.offbeat * self.period - self.next_beat) / self.period
                 - self.glide) % 1.0 * tau             # frames back from now to the clock's beat
        n = len(score)
        lo = math.ceil(clock - LOCAL_WINDOW * tau - ATTACK_FRAMES)   # the comb peaks after
        hi = math.floor(clock + LOCAL_WINDOW * tau)                  # the attack: fewer frames back
        k, top = best, -1.0
        for j in range(lo, hi + 1):
            v = float(score[j % n])
            if v > top:
                k, top = j % n, v
        return k if top >= LOCAL_SHARE * peak else best

    @staticmethod
    def _attack_lead(score: np.ndarray, best: int, peak: float) -> float:
        """Frames from the comb's peak back to where it rises through ATTACK_LEVEL of it
        (the comb over phases is the beat-synchronous onset profile): a bowed or sung
        note's flux peaks 40-80 ms after the note starts, and the beat is heard at the
        start (offline: beats.to_attack)."""
        n, level = len(score), ATTACK_LEVEL * peak
        d = 0
        while d < ATTACK_FRAMES and score[(best + d + 1) % n] >= level:
            d += 1
        below = score[(best + d + 1) % n]
        at = score[(best + d) % n]
        if d < ATTACK_FRAMES and at > below:     # interpolate the crossing beyond frame d
            return d + (at - level) / (at - below)
        return float(d)

    def _emit(self) -> None:
        t = self.now()
        half = 0.5 / self.fps
        self.beat_now = self.downbeat_now = False
        self.period = min(max(self.period, PERIOD_MIN_S), PERIOD_MAX_S)  # never 0: no endless catch-up
        if self.next_beat < t - self.period:         # after a long gap: catch up, no burst
            missed = int((t - self.period - self.next_beat) // self.period) + 1
            self.next_beat += missed * self.period
            self.beat_index += missed
        if self.n_emitted:   # never a double beat: the clock moved back onto the last one
            last = self.emitted[(self.n_emitted - 1) % N_EMITTED]
            self.next_beat = max(self.next_beat, last + MIN_IBI * self.period)
        if self.next_beat <= t + half:
            self.beat_now = True
            self.downbeat_now = self._bar_line()
            k = self.n_emitted % N_EMITTED
            self.emitted[k] = self.next_beat
            self.emitted_index[k] = self.beat_index
            self.n_emitted += 1
            self.beat_count += 1
            self.beat_index += 1
            self.next_beat += self.period
            if self.glide:          # a phase change, spread over beats: no double, no hole
                step = _clip(self.glide, -GLIDE_STEP, GLIDE_STEP)
                self.next_beat += step * self.period
                self.glide -= step
        self.bar_pos = self.bars.bar_pos(self.beat_index)

    # -- between frames -------------------------------------------------------------
    def idle(self) -> bool:
        """The slow task due (tempo, bar or on-beat check: one a second, in turn, so a
        block carries at most one); True if it did work."""
        task, self._tick = self._tick, 0
        if task == 0:
            return False
        n = min(self.i - self.origin + 1, int(TEMPO_WINDOW_S * self.fps))
        if float(self.onset[self._rows(n)].max(initial=0.0)) <= 1e-6:
            return True
        if task == 1:
            self._tempo(n)
        elif task == BAR_TASK:
            self._early_on_beat()      # the first seconds only (on_beat_check.EARLY_S)
            self._downbeat()
        elif task == BAR_SCORE:
            self._bar_score()
        else:
            self._on_beat()
        return True

    def _rows(self, n: int) -> np.ndarray:
        """Ring rows of the last n frames, oldest first."""
        return np.arange(self.i - n + 1, self.i + 1) % RING

    def _recent_beats(self, n_frames: int, most: int) -> tuple[np.ndarray, int]:
        """(frames of the last `most` emitted beats of the current level inside the last
        n_frames, oldest first, relative to that window's start; beat index of the first)."""
        m = min(self.n_emitted, most, N_EMITTED)
        k = np.arange(self.n_emitted - m, self.n_emitted) % N_EMITTED
        frames = self.emitted[k] * self.fps - (self.i - n_frames + 1)
        keep = (frames >= 2) & (self.emitted_index[k] >= self.level_start)
        first = int(self.emitted_index[k][keep][0]) if keep.any() else self.beat_index
        return frames[keep], first

    def _tempo(self, n: int) -> None:
        rows = self._rows(n)
        onset = live_tempo.normalise(self.onset[rows], fps=self.fps)
        accent = live_tempo.normalise(self.accent[rows], fps=self.fps)
        beats, _ = self._recent_beats(n, N_EMITTED)
        bpm, conf, acf = live_tempo.estimate(onset, accent, fps=self.fps,
                                             beat_frames=beats if len(beats) >= 4 else None)
        if self._song_changed(bpm):           # a new tracker, and its first estimate
            return
        self.level_check.add(acf, music_start=self.music_start)
        settled = self.level_check.settle(bpm)   # the window's level, checked on the last ~30 s
        bpm = bpm if self._pulse_keeps(bpm, settled) else settled
        bpm = self._fold(bpm, onset, beats)
        if bpm > 0:
            self._new_tempo(60.0 / bpm, conf, acf)
            self.motion.reseed(60.0 / bpm, self.period)
        if self.lead_now == 0:                   # the period, kept near the level voted for
            self.period = hold_to_level(self.period, self.votes)

    def _level_changed(self) -> None:
        """Beats at a new level: the bar starts again from what comes next (a bar heard
        on the old level's beats and not yet scored is dropped: a tap or a MIDI clock can
        change the level between the bar's two halves)."""
        self.level_start = self.beat_index
        self.bars.reset()
        self._bar_heard = None
        self.corrections += 1
        self.last_correction = self.now()

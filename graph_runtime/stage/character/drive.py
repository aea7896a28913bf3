"""What the music does to hambajuba's face, heart and orbs, frame by frame.

CharacterDrive reads an Analysis once (beats, per-stem energy, novelty) and
then, per frame, `step(t, dt)` sets a handful of scalars the compositor draws:

    blink    bool: the eyes are closed (a blink starts on the beat frame, the
             frame nearest a beat of the grid, and lasts BLINK_S)
    wide     0..1: eyes widened on drops and section changes (novelty_long
             rising through WIDEN_ON), decaying over WIDEN_S
    glance   -1 / 0 / +1: toward the loudest stem's orbs (bass, drums on his
             left of the screen; vocals, other on the right), held HOLD_S
    pulse    0..1: the heart's glow, 1 on a beat, decaying through the beat
    orbs     (4,) 0..1 per stem: energy_smooth through attack/release physics
    mouth    bool: open when the mix is loud

Per frame: scalar reads of preallocated arrays and math on floats; nothing
allocates. A `SyncLog` (optional) records blink and widen start times and
the orb curves for the render sidecar. Imports numpy only.
"""
from __future__ import annotations

import math

import numpy as np

STEMS = ("bass", "drums", "vocals", "other")
GLANCE = (-1, -1, 1, 1)  # where each stem's orb sits, seen from the screen
BLINK_S = 0.08
WIDEN_ON, WIDEN_REARM, WIDEN_S = 0.5, 0.3, 0.6
HOLD_S = 0.25
QUIET = 0.05
MOUTH_OPEN = 0.55


class SyncLog:
    """Blink and widen start times (track seconds) and per-frame orb values, in
    arrays sized for the render up front."""

    def __init__(self, frames: int) -> None:
        n = max(1, int(frames))
        self.blinks = np.zeros(n, np.float64)
        self.widen = np.zeros(n, np.float64)
        self.orbs = np.zeros((len(STEMS), n), np.float32)
        self.n_blinks = self.n_widen = self.frames = 0

    def sidecar(self) -> dict:
        return {"blinks": [round(float(t), 4) for t in self.blinks[:self.n_blinks]],
                "widen": [round(float(t), 4) for t in self.widen[:self.n_widen]],
                "orbs": {s: [round(float(v), 4) for v in self.orbs[k, :self.frames]]
                         for k, s in enumerate(STEMS)}}


class CharacterDrive:
    def __init__(self, analysis=None, *, attack_ms: float = 30.0, release_ms: float = 160.0
                 ) -> None:
        self.attack, self.release = attack_ms / 1000.0, release_ms / 1000.0
        self.orbs = np.zeros(len(STEMS), np.float64)
        self.log: SyncLog | None = None
        self.blink = False
        self.wide = self.pulse = 0.0
        self.glance = 0
        self.mouth = False
        self.approximate = False
        self.bind(analysis)

    def bind(self, analysis) -> None:
        """Read what the drawing needs from an analysis (prepare time). A live
        source (live input: it makes its own channel bank) drives him through
        its bank instead: the live beat grid's beat trigger and beat phase."""
        self.analysis = analysis
        self.bank = None
        if hasattr(analysis, "make_bank"):
            self._bind_live(analysis)
            return
        self.step = self._step_grid
        meta = getattr(analysis, "meta", None) or {}
        self.approximate = meta.get("separator") == "approx"
        self.fps = float(getattr(analysis, "fps", 50.0) or 50.0)
        if analysis is None:
            self.beats = np.zeros(0)
            self.energy = np.zeros((len(STEMS), 1), np.float32)
            self.novelty = self.mix = np.zeros(1, np.float32)
        else:
            self.beats = np.asarray(getattr(analysis, "beats", np.zeros(0)), np.float64)
            self.energy = np.stack([analysis.channel_or_zeros(f"{s}/energy_smooth")
                                    for s in STEMS]).astype(np.float32)
            self.novelty = analysis.channel_or_zeros("mix/novelty_long").astype(np.float32)
            self.mix = analysis.channel_or_zeros("mix/energy_smooth").astype(np.float32)
        self.n = int(self.energy.shape[1])
        self.seek()

    def _bind_live(self, source) -> None:
        bank = self.bank = source.make_bank()
        self.approximate = True  # live stems are band splits, not a separation
        self._w_energy = [bank.signal(f"{s}/energy_smooth") for s in STEMS]
        self._w_novelty = bank.signal("mix/novelty_long")
        self._w_mix = bank.signal("mix/energy_smooth")
        self._w_phase = bank.signal("global/beat_phase")
        self._w_beat = bank.trigger("global/beat")
        bank.freeze()
        self.beats = np.zeros(0)
        self.energy = np.zeros((len(STEMS), 1), np.float32)
        self.n = 1
        self.step = self._step_live
        self.seek()

    def seek(self) -> None:
        """Forget the past (a jump): the next step finds its place in the grid.
        (`step(t, dt)` is bound in bind(): the offline grid or the live bank.)"""
        self._next_beat = -1
        self._last_t = -1e9
        self._blink_at = self._widen_at = self._glance_at = -1e9
        self._armed = False  # novelty must fall below WIDEN_REARM first: no widening at a seek
        if getattr(self, "bank", None) is not None:
            self.bank.seek()

    def _frame(self, t: float) -> int:
        i = int(t * self.fps + 0.5)
        return 0 if i < 0 else (self.n - 1 if i >= self.n else i)

    def _step_live(self, t: float, dt: float) -> None:
        """Live input: the bank's values at t (the plan's own time for this frame)."""
        self.bank.update(t)
        if self._w_beat.v:
            self._started_blink(t)
        self._last_t = t
        self.blink = t - self._blink_at < BLINK_S - 1e-9
        self.pulse = math.exp(-4.0 * self._w_phase.v)
        self._widen(t, self._w_novelty.v)
        for k, w in enumerate(self._w_energy):
            self.energy[k, 0] = w.v
        self._orbs(0, dt)
        self.mouth = self._w_mix.v > MOUTH_OPEN
        self._log_orbs()

    def _started_blink(self, t: float) -> None:
        self._blink_at = t
        if self.log is not None and self.log.n_blinks < len(self.log.blinks):
            self.log.blinks[self.log.n_blinks] = t
            self.log.n_blinks += 1

    def _log_orbs(self) -> None:
        if self.log is not None and self.log.frames < self.log.orbs.shape[1]:
            self.log.orbs[:, self.log.frames] = self.orbs
            self.log.frames += 1

    def _step_grid(self, t: float, dt: float) -> None:
        if self._next_beat < 0 or t < self._last_t or t - self._last_t > 1.0:
            self._next_beat = int(np.searchsorted(self.beats, t - dt / 2.0))  # only after a seek
        self._last_t = t
        beats, j, half = self.beats, self._next_beat, dt / 2.0
        started = False
        while j < len(beats) and beats[j] < t + half:  # the beat frame: the one nearest the beat
            started = True
            j += 1
        self._next_beat = j
        if started:
            self._started_blink(t)
        self.blink = t - self._blink_at < BLINK_S - 1e-9
        self._beat_pulse(t, j)
        i = self._frame(t)
        self._widen(t, float(self.novelty[i]))
        self._orbs(i, dt)
        self.mouth = float(self.mix[i]) > MOUTH_OPEN
        self._log_orbs()

    def _beat_pulse(self, t: float, j: int) -> None:
        if j == 0 or len(self.beats) < 2:
            self.pulse = 0.0
            return
        last = self.beats[j - 1]
        period = (self.beats[j] - last) if j < len(self.beats) else (last - self.beats[j - 2])
        phase = (t - last) / period if period > 0 else 1.0
        self.pulse = math.exp(-4.0 * phase) if phase >= 0 else 0.0

    def _widen(self, t: float, novelty: float) -> None:
        if self._armed and novelty >= WIDEN_ON:
            self._armed = False
            self._widen_at = t
            if self.log is not None and self.log.n_widen < len(self.log.widen):
                self.log.widen[self.log.n_widen] = t
                self.log.n_widen += 1
        elif novelty < WIDEN_REARM:
            self._armed = True
        age = t - self._widen_at
        self.wide = math.exp(-age / WIDEN_S) if 0 <= age < 3 * WIDEN_S else 0.0

    def _orbs(self, i: int, dt: float) -> None:
        loudest, level = -1, QUIET
        for k in range(len(STEMS)):
            target = float(self.energy[k, i])
            v = self.orbs[k]
            tau = self.attack if target > v else self.release
            self.orbs[k] = v + (target - v) * (1.0 - math.exp(-dt / tau)) if dt > 0 else v
            if target > level:
                loudest, level = k, target
        if self._last_t - self._glance_at >= HOLD_S:  # a glance is held, never jittered
            glance = 0 if loudest < 0 else GLANCE[loudest]
            if glance != self.glance:
                self.glance = glance
                self._glance_at = self._last_t

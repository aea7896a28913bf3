"""Per-stem channels of one frame, for all ten stems at once.

The offline functions (analysis/features.py) see a whole track; here each
call sees one frame, columns = stems (ALL_STEMS order), and keeps the state
that makes the channels causal:

- envelope: RMS by Parseval as offline, divided by the stem's loudest level
  SO FAR (every frame's for the first 2.56 s; after that a louder frame
  raises it by PEAK_RISE of its excess, tau 0.2 s: a louder passage sets
  the new scale within ~0.5 s, while one stray frame, a leak of the causal
  split or a lone hit, no longer rescales the stem for the rest of the
  track the moment it comes; frames above the scale read 1 meanwhile),
  but never by less than ENVELOPE_FLOOR_DB (-26 dB) re the mix's
  loudest frame so far (offline: the -40 dB gate re the track's loudest
  frame): the first loud hit sets the scale, so the opening seconds read
  louder than offline, later frames match it. The floor is for the stems
  that stay far below the mix (other_high, sometimes drums_high): their
  loudest frame so far can be a third of the track's (a tom fill comes
  later), so scaling by it would read them up to 3x louder until then,
  and the mix's loudest frame is known within the first bars. Such a stem
  reads its level re -26 dB of the mix (at most ~0.5-0.8 where offline
  reaches 1), the same shape at a stable scale. Nor by less than
  LEVEL_HEADROOM (1.4) x the 95th percentile of the stem's active frames in
  the last 10 s (refreshed with the flux scale): a stem whose loudest
  passage is still to come (a high note, a louder chorus) reads up to ~30 %
  lower until it comes, instead of reading full scale now and dropping then;
  a stem whose loudest frames stand out (peak > 1.4 x p95) is unaffected.
- energy_smooth, flash, sustain: the offline followers, one step per frame
  (exact: they are causal already).
- flux: the SuperFlux step of spectral.spectral_flux (exact per frame),
  divided by the 99th percentile of the last 10 s of active frames (offline:
  of the whole track), refreshed every half second. The bass's previous
  frame is bounded below by the previous mix under this frame's bass share,
  so it rises in a bin by at most what the mix rose (_bound_by_mix).
- transient: a rising crossing of (median of the last 0.5 s + 0.1) and the
  0.15 floor, >= 50 ms apart; offline picks the peak frame with +-40 ms of
  look-ahead, so live marks the rise, up to a frame earlier.
- brightness, flatness: exact per frame. harmonic_ratio: the energy share
  of the mix's causal HPSS harmonic mask in the stem, smoothed by a 0.1 s
  one-pole (offline: its own HPSS of the stem, 0.2 s centred).
- novelty_*: the distance between the mean features of the last half window
  and the half window before it (offline: the next half window and the last,
  so live novelty peaks half a window later: 0.25 beat, 4 beats, 16 beats).
- activity: above -40 dB of the mix's loudest frame so far; offline closes
  gaps < 0.1 s both ways, live holds 0.1 s after the level falls.
- layer_entry: active after >= 1 s of silence, or novelty_medium crossing 0.5
  while the last second is louder than the one before (debounced 0.5 s).
"""
from __future__ import annotations

import numpy as np

from ..analysis import envelope as env
from ..analysis import spectral
from ..analysis.features import ACTIVITY_DB, ACTIVITY_HOLD_S, N_NOVELTY_MELS, SILENCE_DBFS
from ..analysis.novelty import ENTRY_DEBOUNCE_S, ENTRY_NOVELTY, ENTRY_SILENCE_S, NOVELTY_BEATS
from ..analysis.store import ALL_STEMS

HISTORY = 512            # frames of flux / novelty kept for the percentile scale (~10 s)
NOVELTY_RING = 2048      # frames of novelty features (the 32-beat window at >= 60 BPM fits)
GATE = 10.0 ** (ACTIVITY_DB / 20.0)
ENVELOPE_FLOOR_DB = -26.0   # re the mix's loudest frame so far: the least an envelope is scaled by
ENVELOPE_FLOOR = 10.0 ** (ENVELOPE_FLOOR_DB / 20.0)
LEVEL_HEADROOM = 1.4        # x the 95th percentile of recent active levels: the least scale
LEVEL_PERCENTILE = 95.0
PEAK_RISE = 0.1             # per frame after the opening: the share of a new peak's excess taken
SILENCE = 10.0 ** (SILENCE_DBFS / 20.0)
# stems whose flux may rise in a bin by at most what the mix rose there (_bound_by_mix)
BOUND_BY_MIX = ("bass",)


class StemFeatures:
    def __init__(self, *, sr: int, n_fft: int, fps: float) -> None:
        k = len(ALL_STEMS)
        self.k, self.fps, self.n_fft, self.sr = k, fps, n_fft, sr
        n_bins = n_fft // 2 + 1
        win = spectral.hann(n_fft).astype(np.float64)
        self._parseval = 1.0 / (n_fft * np.sum(win ** 2))
        self._log_scale = 100.0 * 2.0 / float(np.sum(spectral.hann(n_fft)))
        self.freqs = spectral.bin_frequencies(sr=sr, n_fft=n_fft).astype(np.float32)
        self.mel = spectral.mel_filterbank(sr=sr, n_fft=n_fft, n_mels=N_NOVELTY_MELS)
        presets = [env.preset_for(s) for s in ALL_STEMS]
        self.e_att = np.array([env.coefficient(a, fps=fps) for a, _ in presets])
        self.e_rel = np.array([env.coefficient(r, fps=fps) for _, r in presets])
        self.f_att, self.f_rel = (env.coefficient(x, fps=fps) for x in env.FLASH)
        self.s_att, self.s_rel = (env.coefficient(x, fps=fps) for x in env.SUSTAIN)
        self.hr_coef = env.coefficient(100.0, fps=fps)
        self.hold = max(1, int(ACTIVITY_HOLD_S * fps))
        self.gap = max(1, int(round(0.05 * fps)))
        self.med_n = max(3, int(0.5 * fps) | 1)
        self.silence_frames = int(ENTRY_SILENCE_S * fps)
        self.debounce = int(ENTRY_DEBOUNCE_S * fps)
        self._bound_cols = [ALL_STEMS.index(s) for s in BOUND_BY_MIX]
        self._share = np.zeros(n_bins, np.float32)
        self._bound_prev = np.zeros(n_bins, np.float32)
        self.reset()
        self.n_bins = n_bins

    def reset(self) -> None:
        k = self.k
        self.i = 0
        self.mix_peak = 0.0
        self.mix_rms = 0.0
        self.stem_peak = np.zeros(k)
        self.off_for = np.full(k, 10 ** 9)      # frames since the stem was last above the gate
        self.env_hist = np.zeros((2, k))         # envelope 1 and 2 frames ago
        self.energy = np.zeros(k)
        self.flash = np.zeros(k)
        self.sustain = np.zeros(k)
        self.hr = np.zeros(k)
        self.prev_log = None
        self.prev_mag = None                     # (n_bins, k) last frame's magnitudes, mix last
        self.flux_hist = np.zeros((HISTORY, k))
        self.act_hist = np.zeros((HISTORY, k), bool)
        self.flux_ref = np.zeros(k)
        self.level_hist = np.zeros((HISTORY, k))  # frame RMS of the last ~10 s
        self.level_ref = np.zeros(k)              # LEVEL_HEADROOM x their active p95
        self.prev_flux = np.zeros(k)
        self.prev_cond = np.zeros(k, bool)
        self.last_hit = np.full(k, -10 ** 9)
        d = N_NOVELTY_MELS + 1
        self.feat_recent = np.zeros((3, d, k))
        self.cum = np.zeros((NOVELTY_RING, d, k))       # cumulative sums of smoothed features
        self.sus_cum = np.zeros((NOVELTY_RING, k))      # cumulative sums of sustain
        self.nov_hist = np.zeros((HISTORY, 3, k))
        self.nov_ref = np.zeros((3, k))
        self.prev_nov_med = np.zeros(k)
        self.last_entry = np.full(k, -10 ** 9)
        self.was_active = np.zeros(k, bool)
        self.silent_run = np.full(k, 10 ** 9)   # frames inactive (long before the start)
        self.out = {name: np.zeros(k) for name in (
            "envelope", "energy_smooth", "flash", "sustain", "flux", "transient", "brightness",
            "flatness", "harmonic_ratio", "novelty_short", "novelty_medium", "novelty_long",
            "layer_entry", "activity")}

    # -- the frame ----------------------------------------------------------------
    def step(self, mag: np.ndarray, h_mask: np.ndarray, bpm: float) -> dict[str, np.ndarray]:
        """mag (n_bins, k) float32 stem magnitudes; h_mask (n_bins,) harmonic share."""
        o = self.out
        power = mag.astype(np.float64) ** 2
        psum = power.sum(axis=0)
        rms = np.sqrt(np.maximum(2.0 * psum - power[0] - power[-1], 0.0) * self._parseval)
        self.mix_rms = float(rms[-1])         # the mix's RMS this frame (the beat tracker's gate)
        self.mix_peak = max(self.mix_peak, self.mix_rms)
        self._peaks(rms)
        above = (rms > self.mix_peak * GATE) & (rms > SILENCE)
        self.off_for = np.where(above, 0, self.off_for + 1)
        active = self.off_for <= self.hold
        o["activity"][:] = active
        self.level_hist[self.i % HISTORY] = rms
        ref = np.maximum(np.maximum(self.stem_peak, self.mix_peak * ENVELOPE_FLOOR), self.level_ref)
        envl = np.where(ref > 0, np.clip(rms / np.maximum(ref, 1e-30), 0.0, 1.0), 0.0)
        o["envelope"][:] = envl
        self._followers(envl)
        self._flux(mag, active)
        on = active
        tot = np.maximum(psum, 1e-30)
        centroid = (self.freqs @ power) / tot
        o["brightness"][:] = np.where(on & (psum > 0), spectral.brightness(centroid), 0.0)
        o["flatness"][:] = np.where(on, _flatness(power), 0.0)
        hr_now = np.where(psum > 1e-20, (h_mask @ power) / tot, 0.0)
        self.hr += self.hr_coef * (hr_now - self.hr)
        o["harmonic_ratio"][:] = np.where(on, np.clip(self.hr, 0.0, 1.0), 0.0)
        self._novelty(mag, active, bpm)
        self._entries(active)
        self.i += 1
        return o

    def _peaks(self, rms: np.ndarray) -> None:
        """The stem's loudest level so far: every frame's during the opening, then
        PEAK_RISE of each louder frame's excess (tau 0.2 s), so one stray loud frame
        (a leak of the causal split, a single hit) nudges the scale and a louder
        passage moves it within ~0.5 s, not at its first frame."""
        if self.i < HISTORY // 4:
            np.maximum(self.stem_peak, rms, out=self.stem_peak)
            return
        rise = rms - self.stem_peak
        np.maximum(rise, 0.0, out=rise)
        rise *= PEAK_RISE
        self.stem_peak += rise

    def _followers(self, envl: np.ndarray) -> None:
        o = self.out
        self.energy += np.where(envl > self.energy, self.e_att, self.e_rel) * (envl - self.energy)
        o["energy_smooth"][:] = self.energy
        rise = np.clip(envl - (self.env_hist[1] if self.i >= 2 else self.env_hist[0]), 0.0, 1.0)
        if self.i == 0:
            rise[:] = 0.0
        self.env_hist[1] = self.env_hist[0]
        self.env_hist[0] = envl
        self.flash += np.where(rise > self.flash, self.f_att, self.f_rel) * (rise - self.flash)
        self.sustain += np.where(envl > self.sustain, self.s_att, self.s_rel) * (envl - self.sustain)
        o["flash"][:] = np.clip(self.flash, 0, 1)
        o["sustain"][:] = np.clip(self.sustain, 0, 1)

    def _flux(self, mag: np.ndarray, active: np.ndarray) -> None:
        o = self.out
        logmag = np.log1p(self._log_scale * mag)
        if self.prev_log is None:
            raw = np.zeros(self.k)
            self.prev_log = logmag.copy()
            self.prev_mag = mag.copy()
        else:
            self._bound_by_mix(mag)
            ref = spectral.max_along_bins(self.prev_log, 3)
            raw = np.maximum(logmag - ref, 0.0).mean(axis=0)
            self.prev_log[:] = logmag
            self.prev_mag[:] = mag
        slot = self.i % HISTORY
        self.flux_hist[slot] = raw
        self.act_hist[slot] = active
        if self.i < HISTORY // 4:   # the opening: the scale follows every frame (cheap, short)
            np.maximum(self.flux_ref, np.where(active, raw, 0.0), out=self.flux_ref)
        flux = np.where(active & (self.flux_ref > 1e-9),
                        np.clip(raw / np.maximum(self.flux_ref, 1e-9), 0.0, 1.0), 0.0)
        o["flux"][:] = flux
        n = min(self.i + 1, self.med_n)
        rows = (np.arange(self.i - n + 1, self.i + 1)) % HISTORY
        recent = self.flux_hist[rows] / np.maximum(self.flux_ref, 1e-9)
        med = np.partition(recent, n // 2, axis=0)[n // 2] if n % 2 else np.median(recent, axis=0)
        cond = (flux >= 0.15) & (flux >= np.minimum(med, 1.0) + 0.1) & (flux > self.prev_flux)
        hit = cond & ~self.prev_cond & (self.i - self.last_hit >= self.gap) & active
        self.last_hit = np.where(hit, self.i, self.last_hit)
        self.prev_cond, self.prev_flux = cond, flux
        o["transient"][:] = hit
        self._log_mel = logmag  # reuse below

    def _bound_by_mix(self, mag: np.ndarray) -> None:
        """The bass's flux reference: the last frame's bass magnitude per bin, but
        never less than the last frame's mix under this frame's bass share
        (mix_prev x S_now), so the bass rises in a bin by at most what the mix rose.

        A rise beyond the mix's is the causal mask recovering, not a note: after a
        kick the past-only harmonic median still holds the loud frames while the
        percussive median has dropped, and the bass share jumps from ~0.05 to ~0.4
        as the sound decays; live read those frames at full flux (1.0 where offline,
        whose centred median never sees it, reads 0.0-0.2). Only the bass: on the
        eval chorales it lifts bass flux against offline (worst case 0.805 -> 0.88)
        and against the true stems (mean 0.54 -> 0.62). Not vocals and other: the
        offline flux of those follows the changes of its own split's mask, so the
        bound moves live away from offline there (other 0.80 -> 0.61) and
        other_high from the true stems (docs/live-analysis.md, fourth pass)."""
        share, prev = self._share, self._bound_prev          # (n_bins,) float32 each
        for c in self._bound_cols:
            np.maximum(mag[:, -1], 1e-12, out=share)
            np.divide(mag[:, c], share, out=share)               # this frame's bass share
            np.multiply(self.prev_mag[:, -1], share, out=prev)   # the last mix under it
            np.maximum(prev, self.prev_mag[:, c], out=prev)
            prev *= self._log_scale
            np.log1p(prev, out=prev)
            self.prev_log[:, c] = prev

    def refresh(self, task: int) -> None:
        """One of the slow rescales (0: flux, 1-3: novelty), run between frames."""
        if self.i < HISTORY // 4:
            return
        if task == 0:
            self.refresh_flux_ref()
            self.refresh_level_ref()
        else:
            self.refresh_novelty_ref(task - 1)

    def refresh_flux_ref(self) -> None:
        n = min(self.i + 1, HISTORY)
        active_percentile(self.flux_hist[:n], self.act_hist[:n], out=self.flux_ref)

    def refresh_level_ref(self) -> None:
        n = min(self.i + 1, HISTORY)
        active_percentile(self.level_hist[:n], self.act_hist[:n], out=self.level_ref,
                          q=LEVEL_PERCENTILE)
        self.level_ref *= LEVEL_HEADROOM

    def _novelty(self, mag: np.ndarray, active: np.ndarray, bpm: float) -> None:
        o = self.out
        mel = np.log1p(self._log_scale * (self.mel @ mag))          # (16, k)
        self.feat_recent[self.i % 3, :-1] = mel
        self.feat_recent[self.i % 3, -1] = o["flux"]
        feat = self.feat_recent.mean(axis=0) if self.i >= 2 else self.feat_recent[self.i % 3]
        i, L = self.i, NOVELTY_RING
        self.cum[i % L] = (self.cum[(i - 1) % L] if i else 0.0) + feat
        self.sus_cum[i % L] = (self.sus_cum[(i - 1) % L] if i else 0.0) + self.sustain
        beat_frames = 60.0 / (bpm if bpm > 0 else 120.0) * self.fps
        slot = i % HISTORY
        for j, (name, beats) in enumerate(NOVELTY_BEATS.items()):
            h = max(1, min(int(round(beats * beat_frames)) // 2, (L - 1) // 2))
            if i < 2 * h:
                curve = np.zeros(self.k)
            else:
                now, mid, old = self.cum[i % L], self.cum[(i - h) % L], self.cum[(i - 2 * h) % L]
                curve = np.sqrt((((now - mid) - (mid - old)) ** 2).sum(axis=0)) / h
            self.nov_hist[slot, j] = curve
            if i < HISTORY // 4:
                np.maximum(self.nov_ref[j], np.where(active, curve, 0.0), out=self.nov_ref[j])
            r = self.nov_ref[j]
            o[name][:] = np.where(active & (r > 1e-9), np.clip(curve / np.maximum(r, 1e-9), 0, 1), 0.0)

    def refresh_novelty_ref(self, j: int) -> None:
        n = min(self.i + 1, HISTORY)
        active_percentile(self.nov_hist[:n, j], self.act_hist[:n], out=self.nov_ref[j])

    def _entries(self, active: np.ndarray) -> None:
        o, i = self.out, self.i
        fresh = active & ~self.was_active
        silent_long = fresh & (self.silent_run >= self.silence_frames)
        self.silent_run = np.where(active, 0, self.silent_run + 1)
        nov = o["novelty_medium"]
        h, L = int(self.fps), NOVELTY_RING
        louder = np.zeros(self.k, bool)
        if i >= 2 * h:
            last = self.sus_cum[i % L] - self.sus_cum[(i - h) % L]
            before = self.sus_cum[(i - h) % L] - self.sus_cum[(i - 2 * h) % L]
            louder = last > 1.25 * before + 1e-3 * h
        crossing = (nov >= ENTRY_NOVELTY) & (self.prev_nov_med < ENTRY_NOVELTY) & active & louder
        entry = (silent_long | crossing) & (i - self.last_entry >= self.debounce)
        self.last_entry = np.where(entry, i, self.last_entry)
        self.prev_nov_med = nov.copy()
        self.was_active = active
        o["layer_entry"][:] = entry


def active_percentile(values: np.ndarray, active: np.ndarray, *, out: np.ndarray,
                      q: float = 99.0) -> None:
    """Per column of values (n, k): the q-th percentile over the rows where active
    (n, k) is True (np.percentile's linear rule), 0 for a column with none. One
    sort for all columns instead of a percentile call per stem."""
    n = values.shape[0]
    ranked = np.sort(np.where(active, values, -np.inf), axis=0)   # inactive rows first
    count = active.sum(axis=0)
    pos = (n - count) + (q / 100.0) * np.maximum(count - 1, 0)
    lo = np.minimum(np.floor(pos).astype(np.int64), n - 1)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    cols = np.arange(values.shape[1])
    a, b = ranked[lo, cols], ranked[hi, cols]
    a = np.where(np.isfinite(a), a, 0.0)    # a column with no active rows: 0, not -inf
    b = np.where(np.isfinite(b), b, a)
    val = a + (b - a) * np.where(hi > lo, frac, 0.0)
    np.copyto(out, np.where(count > 0, val, 0.0))


def _flatness(power: np.ndarray) -> np.ndarray:
    """spectral.flatness for a few columns at once: (k,)."""
    return spectral.band_flatness(power + 1e-12, lambda x: np.cumsum(x, axis=0))

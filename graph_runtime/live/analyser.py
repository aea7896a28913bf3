"""The causal analyser: 10 ms input blocks in, one channel row per 20 ms out.

push(block) takes a block of input samples (n, channels) at the input rate,
resamples it to 22050 Hz (resample.py) into a short history, and whenever a
whole analysis frame is there (frame i ends at sample i * 441 + 511, the
offline frame grid: centred frames, 1024 samples, 50 fps) computes it:

    STFT of the frame -> split.py (ten stem magnitudes) -> stem_features.py
    -> pitch.py (bass, vocals, other) -> harmony.py (chroma, tonal distance,
    tension) -> beat_tracker.py -> one row of the channel ring (layout.py)

A frame comes every second block, and its work is split over two blocks:
the block that completes it computes the spectra, the stems and the
per-stem channels and publishes them at once (with the previous frame's
pitch and global values); the next one computes the pitch, harmony and
beat tracking, runs one slow housekeeping task (tempo, downbeats,
percentile rescales) and publishes the complete row. So each 10 ms block
carries about half a frame; the stem channels are readable as soon as the
frame's last sample is in, pitch and global ones one block later (and the
beat grid is predicted ahead anyway). Everything is sized at construction; a block creates only
numpy temporaries that are freed within it (memory stays flat, see the
10-minute test).
"""
from __future__ import annotations

import time

import numpy as np
import scipy.fft

from ..analysis import spectral
from ..analysis.beats import ACCENT_FMAX
from ..analysis.pitch import RANGES
from ..analysis.store import ALL_STEMS, FPS, STEMS
from . import layout
from .beat_tracker import OnlineBeatTracker
from .classify import LiveClassify
from .coupling import LiveCoupling
from .harmony import Harmony
from .pitch import PITCHED, WINDOW, CausalPitch, gate, normalized
from .resample import ANALYSIS_SR, CausalResampler
from .ring import ChannelRing
from .split import CausalSplit
from .stem_features import StemFeatures

SR = ANALYSIS_SR
HOP = spectral.HOP
N_FFT = spectral.N_FFT
HISTORY = 4096 + 1024          # analysis-rate samples kept (the tension window + slack)
SUPPORTED_RATES = (22050, 32000, 44100, 48000, 88200, 96000)
_MIX = -2                      # the mix's pitch: the vocals' when voiced, else the other stem's
BEAT_GATE_DBFS = -55.0         # a frame whose mix is quieter (RMS, dB re full scale) is silence
#                                to the beat tracker: an input's noise floor (a line input's hiss,
#                                a quiet room) made it track noise before the music and keep that
#                                clock for 10 s or more once the music came


def block_size(sr: int) -> int:
    """Input samples per 10 ms block."""
    return int(round(sr / 100.0))


class CausalAnalyser:
    def __init__(self, *, sr: int, channels: int, ring: ChannelRing | None = None) -> None:
        if int(sr) not in SUPPORTED_RATES:
            raise ValueError(f"sample rate {sr} Hz is not supported "
                             f"(use one of {', '.join(str(r) for r in SUPPORTED_RATES)})")
        if channels not in (1, 2):
            raise ValueError(f"{channels} input channels: the analyser takes mono or stereo")
        self.sr, self.channels = int(sr), int(channels)
        self.ring = ring or ChannelRing(layout.WIDTH)
        self.block = block_size(self.sr)
        self.resampler = CausalResampler(self.sr, self.channels, 4 * self.block)
        self.hist = np.zeros((HISTORY, self.channels), np.float32)
        self.received = 0                      # analysis-rate samples ever received
        self.frame = 0                         # next frame index
        self.split = CausalSplit(sr=SR, n_fft=N_FFT)
        self.features = StemFeatures(sr=SR, n_fft=N_FFT, fps=FPS)
        self.pitch = CausalPitch(sr=SR, split_bins=N_FFT // 2 + 1)
        self.harmony = Harmony(sr=SR, n_fft=N_FFT, fps=FPS)
        self.tracker = OnlineBeatTracker(fps=FPS)
        self.coupling = LiveCoupling(fps=FPS)
        self.classes = LiveClassify(fps=FPS)
        self._n_coupled = len(STEMS)           # coupling pairs the nine stems, not the mix
        self.win = spectral.hann(N_FFT)
        self.onset_mel = spectral.mel_filterbank(sr=SR, n_fft=N_FFT, n_mels=64, fmax=11000.0)
        self.accent_mel = spectral.mel_filterbank(sr=SR, n_fft=N_FFT, n_mels=64, fmax=ACCENT_FMAX)
        freqs = spectral.bin_frequencies(sr=SR, n_fft=N_FFT)
        self.low_bins = np.flatnonzero(freqs < 200.0)
        self.bass_bins = np.flatnonzero((freqs > 25.0) & (freqs < 300.0))     # the bass-change feature
        self._log_scale = 100.0 * 2.0 / float(np.sum(self.win))
        self._beat_gate = 10.0 ** (BEAT_GATE_DBFS / 20.0)   # RMS, full scale 1
        self._gated = 0                        # frames in a row under the gate
        self._prev_on = self._prev_acc = self._prev_low = None
        self.col = {c: np.array(layout.stem_columns(c)) for c in self.features.out}
        self.counts = np.zeros(len(layout.COUNT_NAMES))
        self._count_cols = np.array([layout.COUNT_INDEX[n] for n in layout.COUNT_NAMES])
        self._trig_rows = [(i, layout.TRIGGERS.index(n.split("/")[1]), ALL_STEMS.index(n.split("/")[0]))
                           for i, n in enumerate(layout.COUNT_NAMES) if not n.startswith("global/")]
        self._pitch_norm = [0.0] * len(ALL_STEMS)
        self._pitched_cols = [ALL_STEMS.index(st) for st in PITCHED]
        self._pitched_at = {st: j for j, st in enumerate(PITCHED)}
        self._vocals_col = ALL_STEMS.index("vocals")
        # per stem: (column, pitch source (index into PITCHED, _MIX, or -1), its three
        # output columns, its range); resolved once so a frame does no name lookups
        source = dict(self._pitched_at, other_mid=self._pitched_at["other"], mix=_MIX)
        self._pitch_rows = [(k, source.get(st, -1),
                             tuple(layout.INDEX[f"{st}/{c}"] for c in
                                   ("pitch_hz", "pitch_confidence", "pitch_normalized")),
                             RANGES.get(st, (60.0, 2000.0))) for k, st in enumerate(ALL_STEMS)]
        self._idle_task = 0
        self.peak = 0.0                        # input peak since the last frame (linear)
        self.clipped = 0                       # input samples at or above full scale
        self.status = {n: 0.0 for n in layout.STATUS}
        self._long = np.zeros((4096, self.channels), np.float32)
        self._pending = False                  # a frame whose second half is still to run
        self._carry = np.zeros(layout.WIDTH)   # the row being built (published twice a frame)
        self.frames_out = 0                    # frames whose first row is published
        self._mags = self._feats = None

    # -- input ----------------------------------------------------------------------
    def push(self, block: np.ndarray) -> int:
        """Analyse one input block (n, channels) float32; returns frames written."""
        if not np.isfinite(block).all():   # a glitching driver: never let NaN into the state
            np.nan_to_num(block, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        peak = float(np.abs(block).max(initial=0.0))
        self.peak = max(self.peak, peak)
        if peak >= 0.999:
            self.clipped += int((np.abs(block) >= 0.999).sum())
        out = self.resampler.push(block)
        m = out.shape[0]
        if m:
            self.hist[:-m] = self.hist[m:]
            self.hist[-m:] = out
            self.received += m
        made = 0
        if self._pending:                       # the second half of the last frame
            self._finish_frame()
            made += 1
            self.idle()
        while (self.frame + self._pending) * HOP + N_FFT // 2 <= self.received:
            if self._pending:                   # behind: finish frames in one go
                self._finish_frame()
                made += 1
            self._start_frame()
        return made

    def flush(self) -> int:
        """Finish a half-analysed frame (end of a file)."""
        if not self._pending:
            return 0
        self._finish_frame()
        return 1

    def idle(self) -> None:
        """Slow housekeeping, one task per call, between frames."""
        if self.frame % int(FPS) == int(FPS) // 2:   # once a second (~0.05 ms; ~0.2 with a retune)
            self.classes.update(self._carry)
            self.coupling.retune(self.tracker.bpm)
        if self.tracker.idle():
            return
        self.features.refresh(self._idle_task % 4)
        self._idle_task += 1

    # -- one frame ------------------------------------------------------------------
    def _window(self, length: int) -> np.ndarray:
        """(length, channels): the samples ending at the current frame's last sample."""
        end = self.frame * HOP + N_FFT // 2              # exclusive, absolute
        stop = HISTORY - (self.received - end)
        return self.hist[stop - length:stop]

    def _start_frame(self) -> None:
        """First half (the block that completes the frame): spectra, stems, per-stem
        channels; published at once in a row that still carries the previous
        frame's pitch and global values."""
        frame = self._window(N_FFT)
        specs = scipy.fft.rfft(frame * self.win[:, None], axis=0)
        left = specs[:, 0]
        right = specs[:, 1] if self.channels == 2 else None
        self._mags = self.split.split(left, right)
        self._feats = self.features.step(self._mags, self.split.h_mask, self.tracker.bpm)
        self._long[:] = self._window(4096)     # the pitch and tension windows, kept for half two
        carry = self._carry
        for name, cols in self.col.items():
            carry[cols] = self._feats[name]
        self._counters(carry, self._feats, stems=True)
        self._status(carry)
        self._publish()
        self.frames_out += 1
        self._pending = True

    def _finish_frame(self) -> None:
        """Second half (the next block): pitch, harmony, beats; the row is published
        again, complete."""
        mags, feats, carry = self._mags, self._feats, self._carry
        active = feats["activity"]
        if self.frame % 2 == 1:   # pitch at 25 fps, on the frames tension skips (held between)
            self._pitch(carry, mags, mags[:, -1], active)
        self._global(carry, mags[:, -1], bool(active[-1]))
        k = self._n_coupled
        self.coupling.step(feats["energy_smooth"][:k], active[:k], feats["transient"][:k], carry,
                           publish=self.frame % 2 == 0)     # 25 fps, on the frames pitch skips
        self.classes.step(feats, carry)
        self._counters(carry, feats, stems=False)
        self._status(carry)
        self._publish()
        self.frame += 1
        self._pending = False

    def _publish(self) -> None:
        np.copyto(self.ring.next_row(), self._carry)
        self.ring.publish()

    def _pitch(self, row: np.ndarray, mags: np.ndarray, mix_mag: np.ndarray, active: np.ndarray) -> None:
        long = self._long[-WINDOW:]
        mid = long[:, 0] if self.channels == 1 else 0.5 * (long[:, 0] + long[:, 1])
        masks = mags[:, self._pitched_cols] / np.maximum(mix_mag, 1e-12)[:, None]
        hz, conf = self.pitch.step(mid.astype(np.float64), masks)
        vocals, other = self._pitched_at["vocals"], self._pitched_at["other"]
        v_on = gate(hz[vocals], conf[vocals], bool(active[self._vocals_col])) > 0
        for k, src, (c_hz, c_conf, c_norm), (lo, hi) in self._pitch_rows:
            if src == _MIX:
                src = vocals if v_on else other
            elif src < 0:                    # a stem without pitch (drums, air bands)
                continue
            on = bool(active[k])
            g = gate(hz[src], conf[src], on)
            self._pitch_norm[k] = normalized(g, lo, hi, self._pitch_norm[k])
            row[c_hz] = g
            row[c_conf] = conf[src] if on else 0.0
            row[c_norm] = self._pitch_norm[k]

    def _onsets(self, mix_mag: np.ndarray) -> tuple[float, float, float]:
        """The offline beat tracker's onset, accent and low-band flux, one frame."""
        on = np.log1p(self._log_scale * (self.onset_mel @ mix_mag))
        acc = np.log1p(self._log_scale * (self.accent_mel @ mix_mag))
        low = np.log1p(self._log_scale * mix_mag[self.low_bins])
        if self._prev_on is None:
            self._prev_on, self._prev_acc, self._prev_low = on, acc, low
            return 0.0, 0.0, 0.0
        o = float(np.maximum(on - spectral.max_along_bins(self._prev_on[:, None], 3)[:, 0], 0).mean())
        a = float(np.maximum(acc - spectral.max_along_bins(self._prev_acc[:, None], 3)[:, 0], 0).mean())
        lo = float(np.maximum(low - self._prev_low, 0).sum())
        self._prev_on, self._prev_acc, self._prev_low = on, acc, low
        return o, a, lo

    def _global(self, row: np.ndarray, mix_mag: np.ndarray, active: bool) -> None:
        mid_long = self._long
        mid = mid_long[:, 0] if self.channels == 1 else 0.5 * (mid_long[:, 0] + mid_long[:, 1])
        chroma, dist, tension, change = self.harmony.step(mix_mag, active, mid, 1.0 - self.split.p_mask)
        onset, accent, low = self._onsets(mix_mag)
        gated = self.features.mix_rms < self._beat_gate   # this frame's mix RMS (Parseval)
        self._gated = self._gated + 1 if gated else 0
        if gated:                        # under the gate: silence to the beat tracker
            onset = accent = low = 0.0
        tr = self.tracker
        tr.step(onset, accent, low, chroma, np.log1p(self._log_scale * mix_mag[self.bass_bins]))
        g = layout.INDEX
        for i in range(12):
            row[g[f"global/chroma_{i}"]] = chroma[i]
        row[g["global/tonal_distance"]] = dist
        row[g["global/tension"]] = tension
        t = self.frame / FPS
        row[g["global/beat_phase"]] = tr.shown_phase(t)
        bar = ((tr.shown_bar_pos - 1) % tr.meter + tr.shown_phase(t)) / tr.meter if tr.period > 0 else 0.0
        row[g["global/bar_phase"]] = bar % 1.0
        row[g["global/beat"]] = float(tr.shown_beat)
        row[g["global/downbeat"]] = float(tr.shown_downbeat)
        row[g["global/bpm_local"]] = tr.bpm
        row[g["global/downbeat_confidence"]] = tr.meter_confidence

    def _counters(self, row: np.ndarray, feats: dict, *, stems: bool) -> None:
        if stems:
            for i, trig, stem in self._trig_rows:
                self.counts[i] += feats[layout.TRIGGERS[trig]][stem]
        else:
            self.counts[-2] += self.tracker.shown_beat
            self.counts[-1] += self.tracker.shown_downbeat
        row[self._count_cols] = self.counts

    def _status(self, row: np.ndarray) -> None:
        tr, s = self.tracker, layout.STATUS_INDEX
        row[s["frame_time"]] = self.frame / FPS
        row[s["half"]] = float(self._pending)   # 0: stems only so far, 1: complete
        row[s["bpm"]] = tr.bpm
        row[s["tempo_confidence"]] = tr.confidence
        row[s["tempo_holding"]] = float(tr.holding)
        row[s["next_beat"]] = tr.shown_next
        row[s["period"]] = tr.period
        row[s["bar_pos"]] = tr.shown_bar_pos
        row[s["meter"]] = tr.meter
        row[s["level_db"]] = 20.0 * np.log10(max(self.peak, 1e-6))
        row[s["tempo_locked"]] = float(tr.locked)
        row[s["tempo_lead"]] = tr.lead_now
        row[s["level_share"]] = tr.level_share
        row[s["last_correction"]] = tr.last_correction
        row[s["tempo_moving"]] = float(tr.motion.moving)
        row[s["under_gate_s"]] = self._gated / FPS
        row[s["published_at"]] = time.monotonic()
        self.peak = 0.0

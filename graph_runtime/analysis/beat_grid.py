"""The beat grid of a mix: beats, bars, tempo that moves, and how sure each is.

track_grid is the tracker that runs without a Beat This! checkpoint:

1. onset envelopes (beats.py): full band (what a listener taps to), below
   3 kHz (accents), below 200 Hz (kick, bass notes);
2. the metrical level (tempo_level.choose_level; tempo_level.settle_level
   puts the periodicity comb's tempo in place of a walk level it does not
   back; a level below the prior's range is checked again on its tracked
   beats and doubled when its half-beats are played, one under HALFTIME_HI
   when the hats play its double's eighths) and the related levels with
   scores (tempo_candidates);
3. local beat periods (a tempogram Viterbi path) and beat times by dynamic
   programming (beats.local_periods, beats.track_beats);
4. the beat phase: if bars are clearly clearer on the grid shifted by half a
   beat, the tracker followed accented off-beats and the grid is moved;
5. each beat moved back from its onset peak to the attack (beats.to_attack);
6. the bar (meter.estimate_meter) and a per-beat downbeat confidence; where
   no kit plays (drums_absent: the hats' band is quiet and has no hits) the bar
   is read from chord changes, bass onsets and held notes
   (meter.DRUMLESS_WEIGHTS), without the start-of-track prior.

check_grid takes Beat This!'s beats and downbeats, keeps them, and scores
them with the same bar logic (meta "downbeat_check").

Times in seconds, frames at `fps`, tempo in BPM.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import beats, meter, tempo_level
from .spectral import N_FFT, log_compress

LOW_SPECTRUM_HZ = 300.0     # bass notes live below this
OFF_BEAT_MARGIN = 0.3       # meter-score units the half-beat grid must win by to move the grid
HATS_HZ = (5000.0, 11000.0)  # the hats' band
DP_TIGHTNESS = 150.0        # beats.track_beats: how hard the DP keeps the local period (soft
                            # orchestral attacks drift around it; 400 lost the beat there)
OFF_BEAT_LOW = 0.8          # ... and its low-band onsets must be this strong relative to the beats'
# drums_weak: a kit puts hats, snare and cymbals in HATS_HZ: measured share of the
# power above 25 Hz -24..-6 dB with drums, -40..-84 dB for choir, strings, piano
# and chorales without their drum stem (-32..-20 dB on orchestral game music with
# percussion); the band's loud frames (95th percentile) stand 12..74 dB over its
# median with a kit (7..19 dB on that orchestral music), under 4 dB without.
DRUMLESS_SHARE_DB = -32.0
DRUMLESS_HITS_DB = 8.0


@dataclass
class GridEstimate:
    """The tracker's beat grid of the mix with how sure it is; it becomes
    Analysis.beats/downbeats/bpm and meta (the show's scene timing reads those
    through control/beat_times.BeatGrid)."""
    beats: np.ndarray                       # (n_beats,) s
    downbeats: np.ndarray                   # (n_bars,) s
    bpm: float                              # median local tempo (plateau rule: beats.bpm_from_beats)
    bpm_range: tuple[float, float] = (0.0, 0.0)   # 5th..95th percentile of the local tempo
    tempo_candidates: list = field(default_factory=list)
    beats_per_bar: int = 4
    downbeat_confidence: float = 0.0        # [0, 1], the whole track
    beat_confidence: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (n_beats,) local
    checks: dict = field(default_factory=dict)

    @classmethod
    def empty(cls) -> "GridEstimate":
        return cls(np.zeros(0), np.zeros(0), 0.0)

    def meta(self) -> dict:
        """The JSON-able part for Analysis.meta."""
        return {"tempo_candidates": self.tempo_candidates,
                "bpm_range": [round(float(x), 3) for x in self.bpm_range],
                "beats_per_bar": int(self.beats_per_bar),
                "downbeat_confidence": round(float(self.downbeat_confidence), 4),
                **self.checks}

    def confidence_channel(self, times: np.ndarray) -> np.ndarray:
        """global/downbeat_confidence: per-beat confidence held over each beat, (n,) float32."""
        if len(self.beats) == 0 or len(self.beat_confidence) != len(self.beats):
            return np.zeros(len(times), np.float32)
        i = np.clip(np.searchsorted(self.beats, times, side="right") - 1, 0, len(self.beats) - 1)
        return self.beat_confidence[i].astype(np.float32)


@dataclass
class Envelopes:
    """Frame-level inputs of the grid, each (n_frames,) unless noted."""
    onset: np.ndarray           # full band
    accent: np.ndarray          # below beats.ACCENT_FMAX
    low: np.ndarray             # below 200 Hz
    chroma: np.ndarray | None   # (12, n_frames)
    low_spectrum: np.ndarray    # (bins, n_frames) log magnitude below LOW_SPECTRUM_HZ
    high: np.ndarray | None = None   # HATS_HZ band: hats, shakers, ride (offline only)
    drums_weak: bool = False    # no kit marks the bar: the bar comes from harmony (offline only)

    @classmethod
    def of(cls, magnitude: np.ndarray, *, sr: int, chroma: np.ndarray | None) -> "Envelopes":
        freqs = np.arange(magnitude.shape[0]) * sr / N_FFT
        low_bins = magnitude[(freqs > 25.0) & (freqs < LOW_SPECTRUM_HZ)]
        return cls(onset=beats.onset_envelope(magnitude, sr=sr),
                   accent=beats.onset_envelope(magnitude, sr=sr, fmax=beats.ACCENT_FMAX),
                   low=beats.band_onset_envelope(magnitude, sr=sr),
                   chroma=chroma, low_spectrum=log_compress(low_bins),
                   high=beats.band_onset_envelope(magnitude, sr=sr, lo=HATS_HZ[0], hi=HATS_HZ[1]),
                   drums_weak=drums_absent(magnitude, sr=sr))

    @property
    def bar_weights(self) -> np.ndarray:
        return meter.DRUMLESS_WEIGHTS if self.drums_weak else meter.WEIGHTS

    @property
    def start_prior(self) -> float:
        return meter.DRUMLESS_START_PRIOR if self.drums_weak else meter.START_PRIOR

    def features(self, beat_frames: np.ndarray) -> np.ndarray:
        return meter.beat_features(beat_frames, low_onset=self.low, accent=self.accent,
                                   chroma=self.chroma, low_spectrum=self.low_spectrum,
                                   onset=self.onset)


def drums_absent(magnitude: np.ndarray, *, sr: int) -> bool:
    """Whether no drum kit plays in a mix (bins, n_frames): the hats' band holds under
    DRUMLESS_SHARE_DB of the power and its loud frames stand under DRUMLESS_HITS_DB
    over its median (no hits). Both must hold; a mix with cymbals or a shaker reads
    as drums and keeps the drums' bar logic."""
    if magnitude.size == 0:
        return False
    freqs = np.arange(magnitude.shape[0]) * sr / N_FFT
    power = np.square(magnitude, dtype=np.float64)
    band = power[(freqs >= HATS_HZ[0]) & (freqs < HATS_HZ[1])].sum(axis=0)   # (n_frames,)
    total = power[freqs > 25.0].sum(axis=0)
    sounding = total > 1e-4 * max(float(np.percentile(total, 95)), 1e-20)    # within 40 dB
    if sounding.sum() < 10:
        return False
    band, total = band[sounding], total[sounding]
    share_db = 10.0 * np.log10(max(float(band.sum()), 1e-30) / max(float(total.sum()), 1e-30))
    hits_db = 10.0 * np.log10(max(float(np.percentile(band, 95)), 1e-30)
                              / max(float(np.median(band)), 1e-30))
    return bool(share_db < DRUMLESS_SHARE_DB and hits_db < DRUMLESS_HITS_DB)


# -- the fallback tracker ----------------------------------------------------------------
def track_grid(magnitude: np.ndarray, *, sr: int, fps: float,
               chroma: np.ndarray | None = None) -> GridEstimate:
    """The grid of a mix from its magnitude spectrogram (bins, n_frames)."""
    env = Envelopes.of(magnitude, sr=sr, chroma=chroma)
    onset = env.onset
    if len(onset) < int(2 * fps) or float(onset.max(initial=0.0)) <= 0.0:
        return GridEstimate.empty()
    bpm, _ = tempo_level.choose_level(onset, fps=fps, accent=env.accent)
    if bpm <= 0:
        return GridEstimate.empty()
    bpm, settled = tempo_level.settle_level(onset, bpm, fps=fps)
    frames = _track_at(onset, bpm, fps=fps)
    if (0 < bpm < tempo_level.LEVEL_LO and 2 * bpm <= tempo_level.LEVEL_HI
            and tempo_level.half_beats_played(onset, frames)):   # a half-time reading: double it
        bpm, _ = tempo_level.doubled(onset, bpm, fps=fps)
        frames = _track_at(onset, bpm, fps=fps)
    elif (tempo_level.LEVEL_LO <= bpm < tempo_level.HALFTIME_HI and 2 * bpm <= tempo_level.LEVEL_HI
          and tempo_level.hats_in_eighths(env.high, frames)):  # a fast half-time feel (snare on 3)
        bpm, _ = tempo_level.doubled(onset, bpm, fps=fps)
        frames = _track_at(onset, bpm, fps=fps)
    if len(frames) < 2:
        return GridEstimate.empty()
    frames, moved = on_beat_phase(frames, env)
    frames = beats.to_attack(frames, onset)
    grid = grid_from_beats(beats.strictly_increasing(frames / fps), env, fps=fps)
    grid.tempo_candidates = tempo_level.tempo_candidates(onset, grid.bpm, fps=fps)
    grid.checks["beat_phase_moved"] = moved
    grid.checks["level_from_comb"] = settled
    return grid


def _track_at(onset: np.ndarray, bpm: float, *, fps: float) -> np.ndarray:
    """Beat frames following the local tempo around `bpm`."""
    periods = beats.local_periods(onset, fps=fps, period=60.0 * fps / bpm)
    return beats.track_beats(onset, fps=fps, periods=periods, tightness=DP_TIGHTNESS)


def _half_beats(frames: np.ndarray, env: Envelopes) -> np.ndarray:
    """Frames half way between the beat frames, on the onset's sub-frame peak."""
    return beats.refine_subframe(np.round((frames[:-1] + frames[1:]) / 2.0), env.onset)


def on_beat_margin(frames: np.ndarray, env: Envelopes) -> tuple[np.ndarray, bool, float]:
    """on_beat_phase with the margin (meter-score units) by which the half-beat grid won
    (0 when it did not)."""
    if len(frames) < 8:
        return frames, False, 0.0
    mids = _half_beats(frames, env)
    on_feats, off_feats = env.features(frames), env.features(mids)
    low = meter.FEATURES.index("low")
    if off_feats[:, low].mean() < OFF_BEAT_LOW * on_feats[:, low].mean():
        return frames, False, 0.0
    on = max(meter.meter_scores(on_feats, start_prior=0.0).values(), default=0.0)
    off = max(meter.meter_scores(off_feats, start_prior=0.0).values(), default=0.0)
    if off <= on + OFF_BEAT_MARGIN:
        return frames, False, 0.0
    return mids, True, float(off - on)


HALF_BASS_LEAD = 2.0        # the bass line's changes on the half-beats over those on the beats


def half_beats_lead(frames: np.ndarray, env: Envelopes) -> bool:
    """The bass line changes HALF_BASS_LEAD times as much half way between the beat
    frames as on them, on average: a groove whose beats were tracked on the "and"s
    (open hats there) has its bass notes on the half-beats."""
    return half_beat_ratios(frames, env)[0] >= HALF_BASS_LEAD


def half_beat_ratios(frames: np.ndarray, env: Envelopes) -> tuple[float, float]:
    """(bass, low): the bass line's changes and the low band's onsets half way between
    the beat frames over those on them (means over the beats; inf where only the
    half-beats carry any, 0 where neither does or with fewer than two beats)."""
    if len(frames) < 2:
        return 0.0, 0.0
    on, off = env.features(frames), env.features(_half_beats(frames, env))
    out = []
    for name in ("bass", "low"):
        k = meter.FEATURES.index(name)
        a, b = float(on[:, k].mean()), float(off[:, k].mean())
        out.append(b / a if a > 0 else (math.inf if b > 0 else 0.0))
    return out[0], out[1]


def on_beat_phase(frames: np.ndarray, env: Envelopes) -> tuple[np.ndarray, bool]:
    """(beat frames, moved): the grid, or its half-beat shift when bars are clearly
    clearer on the shifted grid (the best meter score, meter.meter_scores, is
    higher by OFF_BEAT_MARGIN) and the low band (kick, bass) is at least
    OFF_BEAT_LOW as strong on the half-beats as on the beats. Accented
    off-beat hats pull the tracker onto the "and"s; the kick on one and the
    chord changes sit on the beats."""
    if len(frames) < 16:
        return frames, False
    mids = _half_beats(frames, env)
    on_feats, off_feats = env.features(frames), env.features(mids)
    low = meter.FEATURES.index("low")
    if off_feats[:, low].mean() < OFF_BEAT_LOW * on_feats[:, low].mean():
        return frames, False     # the kick and bass sit on the beats: keep them
    on = max(meter.meter_scores(on_feats, start_prior=0.0).values(), default=0.0)
    off = max(meter.meter_scores(off_feats, start_prior=0.0).values(), default=0.0)
    if off <= on + OFF_BEAT_MARGIN:
        return frames, False
    return mids, True


def grid_from_beats(beats_s: np.ndarray, env: Envelopes, *, fps: float) -> GridEstimate:
    """Tempo, bar and confidences for beat times (s)."""
    feats = env.features(beats_s * fps)
    weights = env.bar_weights
    m = meter.estimate_meter(feats, start_prior=env.start_prior, weights=weights)
    grid = GridEstimate(beats=beats_s, downbeats=beats_s[m.first_downbeat::m.beats_per_bar],
                        bpm=beats.bpm_from_beats(beats_s), bpm_range=beats.bpm_range(beats_s),
                        beats_per_bar=m.beats_per_bar, downbeat_confidence=m.confidence,
                        beat_confidence=meter.local_confidence(feats, m, weights=weights))
    grid.checks["bar_from"] = "harmony" if env.drums_weak else "drums"
    return grid


# -- Beat This! --------------------------------------------------------------------------
def check_grid(beats_s: np.ndarray, downbeats_s: np.ndarray, magnitude: np.ndarray, *,
               sr: int, fps: float, chroma: np.ndarray | None = None) -> GridEstimate:
    """Beat This!'s beats and downbeats, kept as given, checked by the bar logic.

    meta gains downbeat_check: {"confidence" of the given phase against the
    other phases, "agrees": whether the bar logic's own choice is the same}."""
    beats_s = beats.strictly_increasing(beats_s)
    downbeats_s = beats.downbeats_on(beats_s, downbeats_s)
    env = Envelopes.of(magnitude, sr=sr, chroma=chroma)
    if len(beats_s) < 2:
        return GridEstimate(beats_s, downbeats_s, beats.bpm_from_beats(beats_s))
    bpb, first = given_meter(beats_s, downbeats_s)
    feats = env.features(beats_s * fps)
    weights = env.bar_weights
    conf = meter.check_downbeats(feats, bpb, first, weights=weights)
    own = meter.estimate_meter(feats, start_prior=env.start_prior, weights=weights)
    given = meter.Meter(bpb, first, conf)
    grid = GridEstimate(beats=beats_s, downbeats=downbeats_s, bpm=beats.bpm_from_beats(beats_s),
                    bpm_range=beats.bpm_range(beats_s), beats_per_bar=bpb, downbeat_confidence=conf,
                    beat_confidence=meter.local_confidence(feats, given, weights=weights))
    grid.tempo_candidates = tempo_level.tempo_candidates(env.onset, grid.bpm, fps=fps)
    grid.checks["downbeat_check"] = {
        "confidence": round(conf, 4),
        "agrees": bool(own.beats_per_bar == bpb and own.first_downbeat % bpb == first % bpb)}
    return grid


def given_meter(beats_s: np.ndarray, downbeats_s: np.ndarray) -> tuple[int, int]:
    """(beats per bar, index of the first downbeat) implied by downbeat times."""
    if len(downbeats_s) == 0 or len(beats_s) == 0:
        return 4, 0
    right = np.clip(np.searchsorted(beats_s, downbeats_s), 1, len(beats_s) - 1)
    left = right - 1       # nearest beat to each downbeat, without an (n_down, n_beats) table
    nearer_left = np.abs(downbeats_s - beats_s[left]) <= np.abs(beats_s[right] - downbeats_s)
    idx = np.unique(np.where(nearer_left, left, right)) if len(beats_s) > 1 else np.zeros(1, int)
    bpb = int(np.clip(np.round(np.median(np.diff(idx))), 1, 16)) if len(idx) > 1 else 4
    return bpb, int(idx[0] % bpb)


def track(magnitude: np.ndarray, *, sr: int, fps: float, chroma: np.ndarray | None = None
          ) -> tuple[np.ndarray, np.ndarray, float]:
    """(beats s, downbeats s, bpm) of the mix: track_grid without the extras."""
    grid = track_grid(magnitude, sr=sr, fps=fps, chroma=chroma)
    return grid.beats, grid.downbeats, grid.bpm

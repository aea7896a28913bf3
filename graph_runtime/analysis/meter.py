"""Meter and bar phase from what marks a bar: beats per bar, where the one is, how sure.

Works on beats, not frames, so the offline tracker and the live tracker
(graph_runtime/live, on a causal window of recent beats) share it:

1. beat_salience: per beat, how strongly it sounds like a bar's first beat,
   from features sampled at the beats (n_beats, N_FEATURES):
   - low:     low-band onset (kick, bass notes) at the beat,
   - harmony: chord change into the beat (1 - cosine of the beat-synchronous
              chroma of the two beats after it and the two before),
   - bass:    change of the low-band spectrum (a new bass note),
   - accent:  onset strength below the hats' band (loud beats: rhythm only),
   - fill:    onsets inside the beat before (a drum fill leads into the one).
   Each feature is standardised over the beats it is given, then weighted.
2. meter_scores: for every meter m in METERS and phase p (the first
   downbeat's index), contrast = mean salience on the candidate ones minus
   the mean on the other beats, plus how well the rhythm repeats every m
   beats, plus small priors (4 > 3 > 2: most music is in four; a bar
   starting on the first beat heard: ties between 1 and 3 go to the start).
3. estimate_meter: the best (m, p), and a confidence in [0, 1] from its
   margin over the runner-up phase and the runner-up meter.
4. local_confidence: the same margin over a sliding window of bars, per
   beat (the downbeat-confidence channel).

No "earliest phase wins" rule: a kick on 1 and 3 is told apart by the chord
and bass changes, which come on the one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.ndimage

METERS = (4, 3, 2)
METER_PRIOR = {4: 0.0, 3: -0.08, 2: -0.35}   # salience units: 2/4 needs clear evidence over 4/4
FEATURES = ("low", "harmony", "bass", "accent", "fill", "held")
# chord changes mark bars best, then kick and bass; a loud beat is as often the
# backbeat snare as the one, so accent only shapes the rhythm's repetition.
# "held" says nothing under drums (the kit fills every beat): weight 0 there.
WEIGHTS = np.array([1.0, 1.4, 0.8, 0.0, 0.5, 0.0])
# without drums (a chorale, strings, a choir): chords change on most beats and
# the bass moves on every beat, so a bass-spectrum change marks nothing; the
# long notes of a phrase (a cadence, a fermata) land on the one. Measured on
# four Bach chorales without their drum stem and the synthetic drum-less cases
# (docs/beat-grid.md).
DRUMLESS_WEIGHTS = np.array([1.0, 1.4, 0.0, 0.0, 0.5, 0.75])
# a hymn, a chorale or a song often starts on a pickup: without a kit to say
# where the bar starts, the start of the track is no evidence of a bar line
DRUMLESS_START_PRIOR = 0.0
# salience units: a track mostly starts on a bar line. This settles a kick on 1
# and 3 with nothing else to tell them apart; chord changes on the one outweigh it.
START_PRIOR = 0.4
REPEAT_WEIGHT = 0.5                          # rhythm repeating every m beats
CONFIDENCE_SCALE = 0.35                      # margin (salience units) that reads as ~63 % sure
LOCAL_BARS = 4                               # bars each side for the per-beat confidence


@dataclass
class Meter:
    beats_per_bar: int
    first_downbeat: int                 # index into the beats given
    confidence: float                   # [0, 1]: 0 a guess, 1 sure
    scores: dict = field(default_factory=dict)   # (m, phase) -> score

    def downbeat_indices(self, n_beats: int) -> np.ndarray:
        return np.arange(self.first_downbeat, n_beats, self.beats_per_bar)


# -- features at the beats -----------------------------------------------------------------
def _at_beats(env: np.ndarray, beat_frames: np.ndarray, radius: int = 2) -> np.ndarray:
    """Max of a frame envelope within +-radius frames of each beat, (n_beats,)."""
    if len(env) == 0:
        return np.zeros(len(beat_frames))
    peak = scipy.ndimage.maximum_filter1d(env, size=2 * radius + 1)
    return peak[np.clip(np.round(beat_frames).astype(int), 0, len(env) - 1)].astype(np.float64)


def _between_beats(frames_x: np.ndarray, beat_frames: np.ndarray) -> np.ndarray:
    """Mean of each row of (k, n_frames) over [beat i, beat i+1): (n_beats, k).
    The last beat takes the median beat length."""
    n = frames_x.shape[1]
    b = np.round(beat_frames).astype(int)
    step = int(np.median(np.diff(b))) if len(b) > 1 else 25
    edges = np.clip(np.append(b, b[-1] + step), 0, n)
    csum = np.concatenate([np.zeros((frames_x.shape[0], 1)), np.cumsum(frames_x, axis=1)], axis=1)
    width = np.maximum(edges[1:] - edges[:-1], 1)
    return ((csum[:, edges[1:]] - csum[:, edges[:-1]]) / width).T


def _change(rows: np.ndarray, span: int = 2) -> np.ndarray:
    """Change into each beat: 1 - cosine similarity of the `span` beats after it
    with the `span` beats before it, (n_beats,). Two beats each side hear the
    chord, not the melody note that moves on every beat. The first beat gets
    the mean."""
    n = len(rows)
    out = np.zeros(n)
    if n < 2:
        return out
    csum = np.concatenate([np.zeros((1, rows.shape[1])), np.cumsum(rows, axis=0)])
    k = np.arange(1, n)
    before = csum[k] - csum[np.maximum(k - span, 0)]
    after = csum[np.minimum(k + span, n)] - csum[k]
    norm = np.linalg.norm(before, axis=1) * np.linalg.norm(after, axis=1)
    out[1:] = 1.0 - (before * after).sum(axis=1) / np.maximum(norm, 1e-12)
    out[0] = out[1:].mean()
    return out


def _fill(onset: np.ndarray, beat_frames: np.ndarray) -> np.ndarray:
    """Mean onset strictly inside the beat before each beat (its middle 70 %), (n_beats,):
    high after a fill, which leads into a bar's first beat."""
    out = np.zeros(len(beat_frames))
    if len(onset) < 3 or len(beat_frames) < 2:
        return out
    csum = np.concatenate([[0.0], np.cumsum(onset, dtype=np.float64)])
    lo, hi = beat_frames[:-1], beat_frames[1:]
    a = np.clip(np.ceil(lo + 0.15 * (hi - lo)).astype(int), 0, len(onset))
    b = np.clip(np.floor(hi - 0.15 * (hi - lo)).astype(int), 0, len(onset))
    out[1:] = (csum[np.maximum(b, a)] - csum[a]) / np.maximum(b - a, 1)
    out[0] = np.median(out[1:])
    return out


def _held(onset: np.ndarray, beat_frames: np.ndarray) -> np.ndarray:
    """Minus the onset strength at the next beat and inside the beat after each beat,
    (n_beats,): high where what starts on the beat is held (a long note, a cadence)."""
    n = len(beat_frames)
    if n < 2 or len(onset) < 3:
        return np.zeros(n)
    at = _at_beats(onset, beat_frames)
    inside = _fill(onset, beat_frames)          # inside the beat before each beat
    after = at[1:] + inside[1:]                 # next beat's attack + what sounds before it
    return -np.append(after, after.mean())


def beat_features(beat_frames: np.ndarray, *, low_onset: np.ndarray, accent: np.ndarray,
                  chroma: np.ndarray | None = None, low_spectrum: np.ndarray | None = None,
                  onset: np.ndarray | None = None) -> np.ndarray:
    """(n_beats, len(FEATURES)) raw features at beat_frames (float frames).

    low_onset, accent: (n_frames,) onset envelopes; chroma: (12, n_frames);
    low_spectrum: (bins, n_frames) log magnitude below ~300 Hz; onset: the
    full-band onset envelope (n_frames,), unit std, for fills. Missing
    inputs give a zero column (that feature then says nothing)."""
    beat_frames = np.asarray(beat_frames, dtype=np.float64)
    n = len(beat_frames)
    out = np.zeros((n, len(FEATURES)))
    if n == 0:
        return out
    out[:, 0] = _at_beats(low_onset, beat_frames)
    out[:, 3] = _at_beats(accent, beat_frames)
    if chroma is not None and chroma.size:
        out[:, 1] = _change(_between_beats(chroma, beat_frames))
    if low_spectrum is not None and low_spectrum.size:
        out[:, 2] = _change(_between_beats(low_spectrum, beat_frames))
    if onset is not None:
        out[:, 4] = _fill(onset, beat_frames)
        out[:, 5] = _held(onset, beat_frames)
    return out


def salience(features: np.ndarray, weights: np.ndarray = WEIGHTS) -> tuple[np.ndarray, np.ndarray]:
    """(per-beat downbeat salience (n_beats,), standardised features (n_beats, k)).

    Standardised over the beats given (a causal window standardises over itself);
    weights: WEIGHTS, or DRUMLESS_WEIGHTS where drums do not mark the bar."""
    if len(features) == 0:
        return np.zeros(0), features
    sd = features.std(axis=0)
    z = np.where(sd > 1e-9, (features - features.mean(axis=0)) / np.maximum(sd, 1e-9), 0.0)
    w = weights[: features.shape[1]]     # features without the trailing columns (an older
    return z @ w / w.sum() * 2.0, z      # caller's five) leave those out of the sum


# -- meter and phase -------------------------------------------------------------------------
def _repeat(z: np.ndarray, m: int) -> float:
    """How alike beats m apart are (rhythm features only): 0 = as alike as any two."""
    rhythm = z[:, [0, 3]]
    if len(rhythm) <= 2 * m:
        return 0.0
    same = np.abs(rhythm[m:] - rhythm[:-m]).mean()
    base = np.mean([np.abs(rhythm[k:] - rhythm[:-k]).mean() for k in METERS if len(rhythm) > k])
    return float(base - same)


def meter_scores(features: np.ndarray, meters=METERS, *, start_prior: float = 0.0,
                 weights: np.ndarray = WEIGHTS) -> dict[tuple[int, int], float]:
    """(beats_per_bar, first downbeat index) -> score, for every meter and phase.
    start_prior: bonus for phase 0; START_PRIOR when the beats start the track
    (offline), 0 on a window that does not (the live tracker's)."""
    sal, z = salience(features, weights)
    n = len(sal)
    scores: dict[tuple[int, int], float] = {}
    for m in meters:
        if n < 2 * m:
            continue
        rep = REPEAT_WEIGHT * _repeat(z, m)
        for phase in range(m):
            ones = np.zeros(n, bool)
            ones[phase::m] = True
            scores[(m, phase)] = (float(sal[ones].mean() - sal[~ones].mean()) + rep
                                  + METER_PRIOR.get(m, 0.0) + (start_prior if phase == 0 else 0.0))
    return scores


def _sureness(margin: float) -> float:
    return float(1.0 - np.exp(-max(margin, 0.0) / CONFIDENCE_SCALE))


def estimate_meter(features: np.ndarray, meters=METERS, *, beats_per_bar: int | None = None,
                   start_prior: float = 0.0, weights: np.ndarray = WEIGHTS) -> Meter:
    """The bar: beats per bar (or the given one), phase and confidence.

    Confidence is the smaller of: the best phase's margin over the next
    phase of the same meter, and (when the meter was estimated) the best
    meter's margin over the best of the others."""
    if beats_per_bar is not None:
        meters = (int(beats_per_bar),)
    scores = meter_scores(features, meters, start_prior=start_prior, weights=weights)
    if not scores:
        return Meter(beats_per_bar or 4, 0, 0.0, {})
    m, phase = max(scores, key=scores.get)
    best = scores[(m, phase)]
    same = [s for (mm, p), s in scores.items() if mm == m and p != phase]
    conf = _sureness(best - max(same)) if same else 0.0
    others = [max(s for (mm, _), s in scores.items() if mm == o) for o in meters
              if o != m and any(mm == o for mm, _ in scores)]
    if others:
        conf = min(conf, _sureness(best - max(others)))
    return Meter(m, phase, conf, scores)


def check_downbeats(features: np.ndarray, beats_per_bar: int, first_downbeat: int, *,
                    weights: np.ndarray = WEIGHTS) -> float:
    """How well given downbeats (e.g. Beat This!'s) agree with the bar logic: the
    given phase's margin over the best other phase of that meter, as confidence
    in [0, 1] (0 when another phase scores at least as well)."""
    scores = meter_scores(features, (beats_per_bar,), weights=weights)
    given = scores.get((beats_per_bar, first_downbeat % max(beats_per_bar, 1)))
    if given is None:
        return 0.0
    others = [s for (m, p), s in scores.items() if p != first_downbeat % beats_per_bar]
    return _sureness(given - max(others)) if others else 0.0


def local_confidence(features: np.ndarray, meter: Meter, *, bars: int = LOCAL_BARS,
                     weights: np.ndarray = WEIGHTS) -> np.ndarray:
    """Per beat (n_beats,), [0, 1]: the chosen phase's margin over the best other
    phase within +-`bars` bars. Low where the bar is unclear (a break, a fill)."""
    sal, _ = salience(features, weights)
    n, m = len(sal), meter.beats_per_bar
    if n == 0 or m < 2:
        return np.zeros(n)
    size = 2 * bars * m + 1
    contrast = []
    for phase in range(m):
        ones = np.zeros(n)
        ones[phase::m] = 1.0
        on_sum = scipy.ndimage.uniform_filter1d(sal * ones, size, mode="constant")
        on_n = scipy.ndimage.uniform_filter1d(ones, size, mode="constant")
        off_sum = scipy.ndimage.uniform_filter1d(sal * (1 - ones), size, mode="constant")
        off_n = scipy.ndimage.uniform_filter1d(1 - ones, size, mode="constant")
        contrast.append(on_sum / np.maximum(on_n, 1e-9) - off_sum / np.maximum(off_n, 1e-9))
    contrast = np.array(contrast)
    chosen = contrast[meter.first_downbeat % m]
    rest = np.delete(contrast, meter.first_downbeat % m, axis=0).max(axis=0)
    return 1.0 - np.exp(-np.maximum(chosen - rest, 0.0) / CONFIDENCE_SCALE)

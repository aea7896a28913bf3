"""Tap tempo and nudge.

Taps (a key, a MIDI pad, `/hambajuba/tap`, the web surface) at track
times t_i set a tempo and a phase from a robust line fit over the last
taps (Theil-Sen: the median of the slopes between every pair of taps), so
one late tap, or taps a key delivers only once per window frame (the
window at 9 fps moves each by up to 111 ms), average out instead of
deciding the tempo as the last interval would. MIDI, OSC and web taps are
stamped when they arrive, on their input threads (the inbox's stamp; see
`post_tap`), so the window's frame rate never enters their timing.
Without a track that steady grid is what scenes quantise to. With a track,
the tapped grid is compared with the analysed one and becomes a correction
of it: the nearest tempo scale (x0.5, x1, x2) and the phase offset between
the taps and the analysed beats. Nudge shifts the phase by
NUDGE_S a press. The correction is saved beside the track's analysis cache
through graph_runtime/analysis/beat_grid_correction.py and applied on
reopen by the analysis loader (control/tap_correction.py drives it).
"""
from __future__ import annotations

import math
import statistics

MAX_GAP_S = 2.0  # a pause longer than this starts a new tapping
KEEP = 16  # taps used for the tempo
NUDGE_S = 0.01  # one nudge press, seconds
MIN_BPM, MAX_BPM = 30.0, 300.0


class TapTempo:
    def __init__(self) -> None:
        self.taps: list[float] = []
        self.bpm: float | None = None
        self.phase_s = 0.0  # track time of a beat of the tapped grid

    def tap(self, t: float) -> float | None:
        """Record a tap at track time t (s); returns the tempo once two taps agree."""
        if self.taps and (t - self.taps[-1] > MAX_GAP_S or t <= self.taps[-1]):
            self.taps.clear()
        self.taps.append(t)
        del self.taps[:-KEEP]
        if len(self.taps) < 2:
            return None
        period, phase = fit_taps(self.taps)
        bpm = 60.0 / period if period > 0 else 0.0
        if not MIN_BPM <= bpm <= MAX_BPM:
            return None
        self.bpm = bpm
        self.phase_s = phase
        return bpm

    @property
    def tapping(self) -> bool:
        """Taps are coming (the last one is less than MAX_GAP_S of track time old is
        judged by the caller's clock: see TapCorrector.tick)."""
        return len(self.taps) >= 2

    def nudge(self, direction: int) -> None:
        """direction -1: the beat lands earlier; +1: later."""
        self.phase_s += NUDGE_S * (1 if direction > 0 else -1)


def fit_taps(taps: list[float]) -> tuple[float, float]:
    """(period s, track time of the beat the last tap marks) of the grid through
    the taps: Theil-Sen slope over tap index (robust to one stray tap), intercept
    the median residual. Taps 0..n-1 are taken as consecutive beats."""
    n = len(taps)
    slopes = [(taps[j] - taps[i]) / (j - i) for i in range(n) for j in range(i + 1, n)]
    period = statistics.median(slopes)
    start = statistics.median(t - period * i for i, t in enumerate(taps))
    return period, start + period * (n - 1)


def post_tap(inbox, source: str = "web", stamp: float | None = None) -> bool:
    """A tap from any input thread (the web surface's handler, a test): stamped now
    (time.perf_counter) or at `stamp`, taken by the window at its next frame."""
    return inbox.post(("tap", str(source)[:40]), 1, stamp=stamp)


def correction_from_taps(taps: list[float], beats: list[float], analysed_bpm: float,
                         phase_s: float = 0.0) -> tuple[float, float]:
    """(tempo_scale in {0.5, 1, 2}, phase_s) that make the analysed grid follow the taps.

    phase_s is the mean signed distance of each tap to its nearest analysed
    beat, added to what was there already: positive = the taps come later."""
    if len(taps) < 2 or analysed_bpm <= 0:
        return 1.0, phase_s
    tapped = 60.0 / fit_taps(taps)[0]
    scale = min((0.5, 1.0, 2.0), key=lambda s: abs(math.log(tapped / (analysed_bpm * s))))
    if not beats:
        return scale, phase_s
    import bisect

    offsets = []
    for t in taps:
        i = bisect.bisect_left(beats, t)
        near = min((beats[j] for j in (i - 1, i) if 0 <= j < len(beats)), key=lambda b: abs(b - t))
        offsets.append(t - near)
    return scale, phase_s + statistics.fmean(offsets)

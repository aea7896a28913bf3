"""Tap tempo and nudge on a track: a correction of its beat grid, saved per track.

The correction is the GridCorrection (graph_runtime/analysis/beat_grid_correction.py):
tempo_scale (x0.5, x1, x2), phase_s and the downbeat shift,
saved as JSON beside the track's analysis cache and applied by the
analysis loader when the track is opened again. Here:
  * after TAPS_FOR_GRID taps on a track, the tapped grid is compared with
    the grid playing now (tempo.correction_from_taps) and the difference is
    folded into the correction, applied at once; it is saved ONCE, when no
    tap came for tempo.MAX_GAP_S (`tick`, every frame), not on every tap;
  * a nudge moves phase_s by tempo.NUDGE_S;
  * the whole new correction is applied to the analysis playing now
    (apply_correction starts from the analysis's own grid, so corrections
    replace each other rather than stack) and handed to `on_analysis(new)`,
    so the show follows at once.
Without a track and its analysis, taps still steer the control's own beat
grid (scene quantisation); there is nothing to correct or save.
"""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Callable

from ..analysis import beat_grid_correction as corrections
from .tempo import MAX_GAP_S, NUDGE_S, correction_from_taps

TAPS_FOR_GRID = 4


class TapCorrector:
    """Taps, nudges and one-click fixes on the open track -> its saved GridCorrection."""

    def __init__(self, session, *, status: Callable[[str, str], None] | None = None,
                 on_analysis: Callable[[Any], None] | None = None) -> None:
        self.session = session
        self.status = status or (lambda level, text: None)
        self.on_analysis = on_analysis
        self.path: str | None = None
        self.analysis: Any = None
        self.correction: Any = None
        self._unsaved: Any = None  # a tapped correction applied but not yet saved
        self._tapped_at = 0.0  # time.monotonic() of the last tap

    def track(self, path: str | None, analysis) -> None:
        self.path, self.analysis = path, analysis
        self.correction = None
        if path:
            try:
                self.correction = corrections.load_correction(path)
            except Exception as e:  # a damaged file (AnalysisError), an unreadable track
                self.status("warn", f"beat grid correction: {e}")

    def _available(self) -> bool:
        return bool(self.path) and self.analysis is not None

    def tapped(self, t: float) -> None:
        taps = list(self.session.tempo.taps)
        if len(taps) < TAPS_FOR_GRID or not self._available():
            return
        if self._unsaved is None:  # a new tapping: measured against the grid before it
            self._before = (self.correction, self.analysis)
        corr0, before = self._before
        beats = [float(b) for b in getattr(before, "beats", ())]
        scale, phase = correction_from_taps(taps, beats, float(getattr(before, "bpm", 0)))
        self._tapped_at = time.monotonic()
        self._unsaved = self._folded(corr0, scale, phase)
        self._save_and_apply(self._unsaved, save=False)  # the show follows each tap at once

    def tick(self) -> None:
        """Once a frame: save a tapped correction when tapping has ended."""
        if self._unsaved is not None and time.monotonic() - self._tapped_at > MAX_GAP_S:
            new, self._unsaved = self._unsaved, None
            self._save_and_apply(new)

    def nudged(self, direction: int) -> None:
        if self._available():
            self._change(1.0, NUDGE_S * (1 if direction > 0 else -1))

    def scaled(self, factor: float) -> None:
        """x2 or /2 in one click: the tracker counted the wrong metrical level."""
        if self._available():
            self._change(factor, 0.0)

    def bar_shifted(self, beats: int) -> None:
        """The one is `beats` beats later (negative: earlier)."""
        if self._available():
            old = self.correction or corrections.GridCorrection()
            self._save_and_apply(replace(old, downbeat_shift=old.downbeat_shift + int(beats)))

    def _change(self, scale: float, phase: float) -> None:
        """Fold (scale, phase) into the saved correction; save it and apply it now."""
        self._save_and_apply(self._folded(self.correction, scale, phase))

    def _folded(self, old, scale: float, phase: float):
        old = old or corrections.GridCorrection()
        total = old.tempo_scale * scale
        if total not in (0.5, 1.0, 2.0):
            total = old.tempo_scale  # beyond x0.5..x2 of the analysis: keep the tempo
        return replace(old, tempo_scale=total, phase_s=old.phase_s + phase)

    def _save_and_apply(self, new, *, save: bool = True) -> None:
        try:
            if save:
                corrections.save_correction(self.path, new)
                self._unsaved = None  # whatever was tapped is in this one
        except Exception as e:  # out of bounds (ValueError), disk (OSError), track gone
            self.status("error", f"beat grid correction not saved: {e}")
            return
        self.correction = new
        self.analysis = corrections.apply_correction(self.analysis, new)
        self.session.set_analysis(self.analysis)
        if self.on_analysis is not None:
            self.on_analysis(self.analysis)
        if save:
            self.status("info", f"beat grid: tempo x{new.tempo_scale:g}, phase "
                        f"{new.phase_s * 1000:+.0f} ms, downbeat {new.downbeat_shift:+d} beats "
                        "(saved for this track; playing now)")

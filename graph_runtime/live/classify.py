"""What kind of part each stem plays, live: the offline classifier
(analysis/classify.py) on running statistics.

Offline the four statistics are averages over the whole track's active
frames: h = harmonic_ratio weighted by envelope^2, d = transients per active
second, p = mean pitch confidence, f = mean flatness. Live each is a ratio of
two leaky sums over the active frames (time constant MEMORY_S = 30 s, so a
set that moves to another song moves the classes within about a minute),
added to every frame (~10 numpy operations on (10,) vectors). The five
confidences are computed from them by the offline formulas once a second
(update(), between frames) and held in between; a stem heard for less than
MIN_ACTIVE_S so far reads 0, as offline a silent stem does.
"""
from __future__ import annotations

import numpy as np

from ..analysis.classify import DENSE_ONSETS_PER_S, PERCUSSIVE_ONLY
from ..analysis.store import ALL_STEMS, CLASS_NAMES
from . import layout

MEMORY_S = 30.0
MIN_ACTIVE_S = 0.5
_ON, _W, _HW, _D, _P, _F = range(6)     # rows of the sums


class LiveClassify:
    def __init__(self, *, fps: float) -> None:
        self.fps = float(fps)
        k = len(ALL_STEMS)
        self.keep = float(np.exp(-1.0 / (MEMORY_S * self.fps)))
        self.sums = np.zeros((6, k))
        self.frame = np.zeros((6, k))
        self.values = np.zeros((k, len(CLASS_NAMES)))     # ALL_STEMS x CLASS_NAMES
        self.cols = np.array([[layout.INDEX[f"class/{s}/{n}"] for n in CLASS_NAMES] for s in ALL_STEMS])
        self._pitch_cols = np.array(layout.stem_columns("pitch_confidence"))

    def step(self, feats: dict, row: np.ndarray) -> None:
        """Add one frame: feats = the per-stem channels (k,), row = the row being
        built (its pitch_confidence columns)."""
        f = self.frame
        np.greater(feats["activity"], 0.5, out=f[_ON], casting="unsafe")
        np.multiply(feats["envelope"], feats["envelope"], out=f[_W])
        f[_W] += 1e-12                                      # loud frames count more
        f[_W] *= f[_ON]
        np.multiply(feats["harmonic_ratio"], f[_W], out=f[_HW])
        np.multiply(feats["transient"], f[_ON], out=f[_D])
        np.take(row, self._pitch_cols, out=f[_P])
        f[_P] *= f[_ON]
        np.multiply(feats["flatness"], f[_ON], out=f[_F])
        self.sums *= self.keep
        self.sums += f

    def update(self, row: np.ndarray) -> None:
        """The five confidences from the statistics so far (once a second); written
        into `row` and held there until the next update."""
        s = self.sums
        on = s[_ON]
        heard = on >= MIN_ACTIVE_S * self.fps               # active frames, leaky
        n = np.maximum(on, 1e-9)
        h = s[_HW] / np.maximum(s[_W], 1e-30)
        dense = np.minimum(s[_D] / (n / self.fps) / DENSE_ONSETS_PER_S, 1.0)
        p, flat = s[_P] / n, s[_F] / n
        percussive = np.minimum(1.0, 1.25 * (1.0 - h)) * (0.7 + 0.3 * dense)
        only = percussive > PERCUSSIVE_ONLY
        melodic = np.where(only, 0.0, h * p * (1.0 - flat))
        harmony = np.where(only, 0.0, h * (1.0 - p) * (1.0 - dense))
        values = {"percussive": percussive, "harmonic": h, "melodic": melodic,
                  "harmony": harmony, "texture": flat * (1.0 - percussive)}
        for j, name in enumerate(CLASS_NAMES):
            self.values[:, j] = np.where(heard, values[name], 0.0)
        np.clip(self.values, 0.0, 1.0, out=self.values)
        row[self.cols] = self.values

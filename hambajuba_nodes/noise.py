"""Noise walk: the starting noise travels a circle between two seeds.

    noise(theta) = cos(theta) * noise_a + sin(theta) * noise_b

keeps unit variance at every angle, so every point of the walk is a valid
starting noise. The angle is computed once per track from two motions:

    beat angle   each beat turns energy_at_beat * 2 pi, eased in and out
                 (cubic) across the beat: loud beats a full turn, quiet ones less
    drift angle  tonal distance * pi/2: home key = no displacement, the
                 farthest harmonic departure a quarter turn
    beat weight  transients per beat over energy, 0..1: percussive passages
                 follow the beats, sustained ones the harmony

Modes: auto (blend by beat weight), pulse (beats only), continuous (the beat
steps replaced by a smooth turn at energy * 2 pi per beat, blended with the
drift as in auto). The two motions are blended by their per-frame
increments, so a changing weight never makes the angle jump. `distance`
scales the walk (0 = still, 1 = a full turn per loud beat) and is applied to
increments too, so moving it live is smooth.
"""
from __future__ import annotations

import math

import numpy as np

from graph_runtime.analysis.store import ALL_STEMS
from graph_runtime.graph.frame import NOISE_THETA
from graph_runtime.graph.node import Node, Param, signal

TAU = 2.0 * math.pi
MODES = ("auto", "pulse", "continuous")
WEIGHT_WINDOW_S = 2.0


def ease_in_out_cubic(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return np.where(u < 0.5, 4.0 * u ** 3, 1.0 - (2.0 - 2.0 * u) ** 3 / 2.0)


def _moving_average(x: np.ndarray, n: int) -> np.ndarray:
    # a window longer than the track (a clip under 2 s) would lengthen the result
    n = max(1, min(int(n), x.size))
    return np.convolve(x, np.ones(n) / n, mode="same")


def beat_angle(times: np.ndarray, beats: np.ndarray, energy: np.ndarray, fps: float) -> np.ndarray:
    """Cumulative beat angle per frame: beat k turns energy(beat k) * 2 pi,
    eased across [beat k, beat k+1). Zero before the first beat."""
    n = times.size
    beats = np.unique(np.asarray(beats, dtype=np.float64))  # sorted, distinct
    beats = beats[np.isfinite(beats)]
    if beats.size < 1 or n == 0:
        return np.zeros(n)
    period = float(np.median(np.diff(beats))) if beats.size > 1 else 0.5
    ends = np.append(beats[1:], beats[-1] + period)
    # the hit lands in the first ~100 ms after the beat mark
    idx = np.clip(np.round(beats * fps).astype(int), 0, n - 1)
    look = max(1, int(round(0.1 * fps)))
    e_at = np.array([energy[i: min(n, i + look)].max() for i in idx])
    turn = np.clip(e_at, 0.0, 1.0) * TAU
    before = np.concatenate(([0.0], np.cumsum(turn)[:-1]))
    k = np.searchsorted(beats, times, side="right") - 1
    kk = np.clip(k, 0, beats.size - 1)
    u = (times - beats[kk]) / np.maximum(ends[kk] - beats[kk], 1e-6)
    theta = before[kk] + turn[kk] * ease_in_out_cubic(u)
    return np.where(k >= 0, theta, 0.0)


def beat_weight(transient: np.ndarray, energy: np.ndarray, bpm: float, fps: float) -> np.ndarray:
    """Transient-to-energy ratio, 0..1, over a 2 s window: hits per beat
    divided by twice the mean energy. One hit per beat at half energy (a
    typical level: energy is relative to the loudest frame) reads fully
    percussive; a loud pad with a hit every other bar reads sustained."""
    win = WEIGHT_WINDOW_S * fps
    hits_per_beat = _moving_average((transient > 0.5).astype(np.float64), win) * fps * 60.0 / bpm
    level = _moving_average(energy, win)
    return np.clip(hits_per_beat * 0.5 / np.maximum(level, 0.05), 0.0, 1.0)


def walk_angle(analysis, stem: str, mode: str) -> np.ndarray:
    """The whole track's angle (radians, float64, per frame) at distance 1."""
    a = analysis
    n, fps = a.n_frames, a.fps
    bpm = a.bpm if 20.0 <= a.bpm <= 400.0 else 120.0  # a broken tempo reads as 120
    ch = lambda name: np.nan_to_num(a.channel_or_zeros(name).astype(np.float64)[:n])
    energy = np.clip(ch(f"{stem}/energy_smooth"), 0.0, 1.0)
    drift = np.clip(ch("global/tonal_distance"), 0.0, 1.0) * (math.pi / 2.0)
    d_drift = np.diff(drift, prepend=0.0)
    if mode == "continuous":
        d_beat = energy * TAU * (bpm / 60.0) / fps  # energy * 2 pi per beat, smoothly
    else:
        d_beat = np.diff(beat_angle(a.times[:n], a.beats, energy, fps), prepend=0.0)
    if mode == "pulse":
        steps = d_beat
    else:
        w = beat_weight(ch(f"{stem}/transient"), energy, bpm, fps)
        steps = w * d_beat + (1.0 - w) * d_drift
    return np.cumsum(steps)


class NoiseWalk(Node):
    type_id = "noise.walk"
    family = "noise"
    title = "Noise walk"
    doc = ("Circular walk between two noise seeds: noise = cos(theta) a + sin(theta) b. The "
           "angle follows the beats (energy x 2 pi per beat, eased) and the harmony (tonal "
           "distance, up to pi/2), blended by how percussive the music is. Precomputed per track.")
    inputs = (signal("distance", doc="scale of the walk; 0 = still noise"),)
    outputs = (signal("theta", unit="rad", doc="angle, unwrapped"),)
    params = (
        Param("seed_a", "int", 0, 0, 2**31 - 1, doc="noise at theta = 0"),
        Param("seed_b", "int", 1, 0, 2**31 - 1, doc="noise at theta = pi/2"),
        Param("distance", "float", 0.5, 0.0, 4.0, doc="1 = a full turn per loud beat"),
        Param("mode", "choice", "auto", choices=MODES,
              doc="auto: beats and harmony by beat weight; pulse: beats; continuous: smooth"),
        Param("stem", "choice", "mix", choices=ALL_STEMS, doc="whose energy and hits drive it"),
    )
    state = ("_theta", "_last")
    reprepare = ("seed_a", "seed_b", "mode", "stem")  # distance: the constant wire, read per frame

    def prepare(self, ctx) -> None:
        ctx.slots.own("noise", self.id)
        if self.p["seed_a"] == self.p["seed_b"]:
            ctx.warn(f"node {self.id}: seed_a equals seed_b; the walk cannot move the noise")
        scene = ctx.frame.scene
        scene.seed_a, scene.seed_b = int(self.p["seed_a"]), int(self.p["seed_b"])
        scene.touch()
        a = ctx.analysis
        stem, mode = self.p["stem"], self.p["mode"]
        self._angle = ctx.cached((self.type_id, stem, mode),
                                 lambda: walk_angle(a, stem, mode).tolist() or [0.0]) \
            if a is not None else [0.0]
        self._fps = a.fps if a is not None else ctx.fps
        self._vec = ctx.frame.vec
        self._theta = 0.0
        self._last = None  # angle table value at the previous frame; None: anchor

    def angle_at(self, t: float) -> float:
        """The precomputed angle at t (distance 1), linearly interpolated."""
        table = self._angle
        x = t * self._fps
        top = len(table) - 1
        if x <= 0.0:
            return table[0]
        if x >= top:
            return table[top]
        i = int(x)
        return table[i] + (x - i) * (table[i + 1] - table[i])

    def process(self, t: float, dt: float) -> None:
        here = self.angle_at(t)
        d = self.finite(self.distance.v)
        if self._last is None:  # first frame or after a seek: exactly distance * angle
            self._theta = d * here
        else:
            self._theta += d * (here - self._last)
        self._last = here
        self.theta.v = self._theta
        self._vec[NOISE_THETA] = math.fmod(self._theta, TAU)  # float32 keeps its precision

    def reset(self) -> None:
        self._last = None


NODES = (NoiseWalk,)

"""Dynamics behind the physics nodes, as plain Python floats (no numpy per step).

Everything here is tuned at 120 BPM and rescaled to the track's tempo the same
way: stiffness k' = k * bpm/120, damping c' = c * sqrt(bpm/120). The natural
frequency then scales with sqrt(bpm/120) and the damping ratio
zeta = c / (2 sqrt(k m)) is unchanged: faster tracks get faster motion with
the same bounce.

Integration is semi-implicit Euler (velocity first, then position), in
substeps of at most MAX_PHASE radians of the natural frequency. Plain
semi-implicit Euler adds a little damping that grows with omega*h, which
would make a kick feel softer at 174 BPM than at 60. So the spring's k and c
are pre-warped for the substep h (as bilinear pre-warping does for filters):
the discrete update's two poles are set equal to exp(s*h) of the continuous
poles s. Damping ratio and frequency are then exact at any tempo and frame
rate; a target that moves between frames is held for the frame.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

BPM_REF = 120.0  # tempo the presets are designed at
MAX_PHASE = 0.5  # radians of the fastest mode per substep
MAX_SUBSTEPS = 64
MAX_DT = 0.1  # s; a longer frame (a stall) is integrated as 100 ms, not caught up


@dataclass(frozen=True)
class SpringPreset:
    """Mass (kg-like), stiffness (N/unit), damping (N s/unit) at 120 BPM."""

    m: float
    k: float
    c: float
    doc: str

    @property
    def zeta(self) -> float:
        return self.c / (2.0 * math.sqrt(self.k * self.m))

    @property
    def hz(self) -> float:
        return math.sqrt(self.k / self.m) / (2.0 * math.pi)


# Damping ratios follow the write-up's table; frequencies are our choice.
PRESETS: dict[str, SpringPreset] = {
    # zeta 0.45, 2.5 Hz: overshoots ~21% and rings once, like a skin.
    "kick": SpringPreset(1.0, 250.0, 14.23, "snappy, bouncy overshoot (zeta 0.45, 2.5 Hz)"),
    # zeta 1.10, 1.0 Hz, twice the mass: slow, heavy, no overshoot; an
    # impulse of the same size moves it half as far.
    "bass": SpringPreset(2.0, 80.0, 27.83, "weighty, slow, no overshoot (zeta 1.1, 1.0 Hz, mass 2)"),
    # zeta 0.70, 1.6 Hz: a 4.6% overshoot, follows phrasing without ringing.
    "vocals": SpringPreset(1.0, 100.0, 14.0, "smooth, barely overshoots (zeta 0.7, 1.6 Hz)"),
    # zeta 1.25, 0.64 Hz: overdamped, a slow glide.
    "ambient": SpringPreset(1.0, 16.0, 10.0, "slow overdamped glide (zeta 1.25, 0.64 Hz)"),
    # zeta 1.00, 3.2 Hz: critically damped, as fast as possible with no overshoot.
    "linear": SpringPreset(1.0, 400.0, 40.0,
                           "critically damped: quick, no overshoot (zeta 1.0, 3.2 Hz)"),
}


def tempo_scale(bpm: float) -> float:
    """bpm / 120, guarded: a missing or absurd tempo reads as 120."""
    return bpm / BPM_REF if 20.0 <= bpm <= 400.0 else 1.0


def scaled_constants(m: float, k: float, c: float, bpm: float) -> tuple[float, float, float]:
    """(m, k * bpm/120, c * sqrt(bpm/120)): same damping ratio, tempo-scaled speed."""
    s = tempo_scale(bpm)
    return m, k * s, c * math.sqrt(s)


def warped_constants(m: float, k: float, c: float, h: float) -> tuple[float, float]:
    """(k_d, c_d) for which semi-implicit Euler with step h has the poles
    exp(s h) of the continuous spring m x'' + c x' + k x = 0."""
    a = c / (2.0 * m)  # decay rate of the envelope, 1/s
    disc = a * a - k / m
    r = math.sqrt(abs(disc)) * h
    pole_sum = 2.0 * math.exp(-a * h) * (math.cosh(r) if disc > 0.0 else math.cos(r))
    pole_prod = math.exp(-2.0 * a * h)
    c_d = m * (1.0 - pole_prod) / h
    k_d = m * (2.0 - c_d * h / m - pole_sum) / (h * h)
    return k_d, c_d


class Spring:
    """m x'' = -k (x - target) - c x', tempo-scaled, pole-matched.

    `extra_c` (a transient damping added by percussion on sustained models)
    is added unwarped: it only lasts a moment.
    """

    __slots__ = ("m", "k", "c", "x", "v", "_dt", "_n", "_h", "_ka", "_ca", "_hm", "_rate")

    def __init__(self, m: float, k: float, c: float, bpm: float = BPM_REF,
                 extra_c_max: float = 0.0) -> None:
        self.m, self.k, self.c = scaled_constants(m, k, c, bpm)
        # fastest rate the system can have: picks the substep count
        self._rate = max(math.sqrt(self.k / self.m), (self.c + extra_c_max) / self.m, 1e-9)
        self.x = 0.0
        self.v = 0.0
        self._dt = -1.0
        self._n, self._h, self._ka, self._ca, self._hm = 1, 0.0, 0.0, 0.0, 0.0

    def retime(self, dt: float) -> None:
        """Substep count and warped per-substep coefficients for this frame period."""
        self._dt = dt
        dt = min(max(dt, 1e-6), MAX_DT)
        n = min(MAX_SUBSTEPS, max(1, math.ceil(dt * self._rate / MAX_PHASE)))
        h = dt / n
        k_d, c_d = warped_constants(self.m, self.k, self.c, h)
        self._n, self._h = n, h
        self._ka = k_d * h / self.m  # velocity change per unit displacement per substep
        self._ca = c_d * h / self.m  # velocity change per unit velocity per substep
        self._hm = h / self.m

    def kick(self, momentum: float) -> None:
        """An impulse: momentum / mass added to the velocity at once."""
        self.v += momentum / self.m

    def step(self, target: float, dt: float, extra_c: float = 0.0) -> float:
        if dt != self._dt:
            self.retime(dt)
        ka, ca, h = self._ka, self._ca + extra_c * self._hm, self._h
        x, v = self.x, self.v
        for _ in range(self._n):
            v -= ka * (x - target) + ca * v
            x += h * v
        self.x, self.v = x, v
        return x

    def reset(self, x: float = 0.0) -> None:
        self.x, self.v = x, 0.0


class Decay:
    """An envelope that jumps to 1 on a hit and decays exponentially (tau in s)."""

    __slots__ = ("level", "tau", "_dt", "_r")

    def __init__(self, tau: float) -> None:
        self.level = 0.0
        self.tau = max(tau, 1e-4)
        self._dt = -1.0
        self._r = 0.0

    def tick(self, dt: float) -> float:
        if dt != self._dt:
            self._dt = dt
            self._r = math.exp(-dt / self.tau)
        self.level *= self._r
        return self.level


# -- pitch ------------------------------------------------------------------------

PITCH_LO_HZ = 80.0
PITCH_HI_HZ = 2000.0
_LOG_SPAN = math.log(PITCH_HI_HZ / PITCH_LO_HZ)


def pitch_position(hz: float) -> float:
    """Log map 80..2000 Hz -> 0..1 (clamped): an octave is the same distance anywhere."""
    if hz <= PITCH_LO_HZ:
        return 0.0
    if hz >= PITCH_HI_HZ:
        return 1.0
    return math.log(hz / PITCH_LO_HZ) / _LOG_SPAN


# -- coupled oscillators --------------------------------------------------------------

class CoupledPair:
    """Two oscillators (f1, f2 Hz at 120 BPM) joined by a spring of stiffness
    `coupling` (1/s^2). Each has an amplitude-seeking damping term
    mu * (A^2 - E) x' (van der Pol style, E = x^2 + (x'/omega)^2): below the
    target amplitude A it pumps energy in, above it takes energy out. So the
    pair never comes to rest; with f1 != f2 the sum beats (breathes).
    """

    __slots__ = ("w1sq", "w2sq", "inv_w1sq", "inv_w2sq", "mu", "x1", "v1", "x2", "v2",
                 "_dt", "_n", "_h")

    def __init__(self, f1: float, f2: float, bpm: float = BPM_REF, mu: float = 2.0) -> None:
        s = tempo_scale(bpm)
        self.w1sq = (2.0 * math.pi * f1) ** 2 * s  # stiffness scales with tempo
        self.w2sq = (2.0 * math.pi * f2) ** 2 * s
        self.inv_w1sq = 1.0 / self.w1sq
        self.inv_w2sq = 1.0 / self.w2sq
        self.mu = mu * math.sqrt(s)  # a damping-like term: scales like c
        self._dt = -1.0
        self._n, self._h = 1, 0.0
        self.reset(0.25)

    def reset(self, amplitude: float) -> None:
        # start off the (unstable) rest point, in quadrature, so it moves at once
        self.x1, self.v1 = amplitude, 0.0
        self.x2, self.v2 = 0.0, amplitude * math.sqrt(self.w2sq)

    def step(self, amplitude: float, coupling: float, extra_c: float, dt: float) -> None:
        if dt != self._dt:
            self._dt = dt
            d = min(max(dt, 1e-6), MAX_DT)
            w = math.sqrt(max(self.w1sq, self.w2sq) + 2.0 * 4.0)  # coupling <= 4
            self._n = min(MAX_SUBSTEPS, max(1, math.ceil(d * w / (0.5 * MAX_PHASE))))
            self._h = d / self._n
        h, mu, a2 = self._h, self.mu, amplitude * amplitude
        x1, v1, x2, v2 = self.x1, self.v1, self.x2, self.v2
        for _ in range(self._n):
            e1 = x1 * x1 + v1 * v1 * self.inv_w1sq
            e2 = x2 * x2 + v2 * v2 * self.inv_w2sq
            a1 = -self.w1sq * x1 + coupling * (x2 - x1) + (mu * (a2 - e1) - extra_c) * v1
            a2_ = -self.w2sq * x2 + coupling * (x1 - x2) + (mu * (a2 - e2) - extra_c) * v2
            v1 += h * a1
            v2 += h * a2_
            x1 += h * v1
            x2 += h * v2
        self.x1, self.v1, self.x2, self.v2 = x1, v1, x2, v2


# -- noise table for Perlin drift -------------------------------------------------------

NOISE_TABLE_UNITS = 4096  # noise-space length before the table turns back
NOISE_TABLE_RES = 16  # samples per noise unit (features are ~1 unit wide)


@lru_cache(maxsize=16)
def noise_table(seed: int) -> tuple[float, ...]:
    """OpenSimplex noise along a line, sampled once per seed (cached across
    compiles): a tuple of floats so that reading it per frame creates no
    numpy objects. Values in [-1, 1]."""
    import numpy as np
    from opensimplex import OpenSimplex  # imported here: it JIT-compiles on first use

    xs = np.arange(NOISE_TABLE_UNITS * NOISE_TABLE_RES + 1, dtype=np.float64) / NOISE_TABLE_RES
    row = OpenSimplex(int(seed)).noise2array(xs, np.array([0.5]))[0]
    peak = float(np.max(np.abs(row))) or 1.0
    return tuple((row / peak).tolist())


def read_noise(table: tuple[float, ...], u: float) -> float:
    """Linear read at noise coordinate u (units); mirrors at the ends, so a
    long drift turns back smoothly instead of wrapping with a jump."""
    span = NOISE_TABLE_UNITS * NOISE_TABLE_RES
    x = (u * NOISE_TABLE_RES) % (2 * span)
    if x > span:
        x = 2 * span - x
    i = int(x)
    if i >= span:
        return table[span]
    f = x - i
    return table[i] + f * (table[i + 1] - table[i])

"""The dance model: where in the strength range a stem leans, and how far.

Three stage marks bound a block's steering strength: stage_left (min),
stage_home (rest) and stage_right (max), -30 / 0 / +30 by default. A position
in [0, 1] picks a point between left and right; the intensity in [0, 1] says
how far the strength travels from home toward that point:

    position_value = stage_left + position * (stage_right - stage_left)
    out            = stage_home + intensity * (position_value - stage_home)

Intensity 0 stays home; intensity 1 reaches the position. While the stem is
silent (its energy_smooth under -40 dB) the position either holds its last
value or drifts home with a 1500 ms time constant, so sustained physics
still moving in a silence does not point somewhere stale.
"""
from __future__ import annotations

import math

import numpy as np

from graph_runtime.graph.node import Node, Param, Wire, signal, stem

from .shape import CURVES

POSITION_SOURCES = ("right", "left", "pitch", "chroma", "brightness", "tension", "input")
INTENSITY_SOURCES = ("input", "energy_smooth", "transient", "flux", "envelope")
STAGE = 400.0  # stage marks, in typical activations (x the feature mean); past ~100 a
# real SAE mean (10-50) can reach the +-5000 clamp, and the sink shows CLIP when it does
SILENCE_LEVEL = 0.01  # energy_smooth below 1% of the track's peak = -40 dB


def dominant_pitch_class(analysis, n_frames: int) -> list[float]:
    """Per frame: the strongest chroma bin / 11 (C = 0, B = 1); precomputed."""
    chroma = np.stack([analysis.channel_or_zeros(f"global/chroma_{i}") for i in range(12)], axis=1)
    cls = np.argmax(chroma, axis=1).astype(np.float64) / 11.0
    cls[chroma.max(axis=1) <= 0.0] = 0.0
    return cls[:n_frames].tolist() or [0.0]


class Dance(Node):
    type_id = "dance.dancer"
    family = "dance"
    title = "Dance"
    doc = ("Maps intensity and position to a steering strength between stage_left and "
           "stage_right around stage_home. Sources are chosen by param: 'input' reads the "
           "cable (e.g. a physics node), the others read the connected stem.")
    inputs = (stem("stem", doc="stem whose channels the sources read"),
              signal("intensity", doc="used when intensity_source is 'input'"),
              signal("position", doc="used when position_source is 'input'"))
    outputs = (signal("out", doc="steering strength"),
               signal("amount", doc="intensity after the curve, 0..1"),
               signal("pos", doc="position in use, 0..1"))
    params = (
        Param("stage_left", "float", -30.0, -STAGE, STAGE, doc="strength at position 0"),
        Param("stage_home", "float", 0.0, -STAGE, STAGE, doc="strength at rest (intensity 0)"),
        Param("stage_right", "float", 30.0, -STAGE, STAGE, doc="strength at position 1"),
        Param("position_source", "choice", "right", choices=POSITION_SOURCES,
              doc="right/left: always lean that way; pitch, brightness: the stem's; chroma: "
                  "the strongest pitch class; tension: the mix's roughness; input: the cable"),
        Param("intensity_source", "choice", "input", choices=INTENSITY_SOURCES,
              doc="input: the cable (physics output); else the stem's channel, unsmoothed"),
        Param("curve", "choice", "linear", choices=tuple(CURVES),
              doc="linear; gamma (x**gamma); clip (1.5x, saturating)"),
        Param("gamma", "float", 1.0, 0.1, 10.0, doc="<1 lifts quiet passages, >1 keeps peaks"),
        Param("silence", "choice", "hold", choices=("hold", "home"),
              doc="while silent: hold the last position, or drift home"),
        Param("silence_ms", "float", 1500.0, 1.0, 60000.0, unit="ms",
              doc="time constant of the drift home"),
    )
    state = ("_place",)
    # the sources, curve and silence mode bind functions and wires: re-prepare (_place
    # carried); the stage marks, gamma and silence_ms are live (on_param: drag them)
    reprepare = ("position_source", "intensity_source", "curve", "silence")

    def on_param(self, name: str) -> None:
        p = self.p
        if name in ("stage_left", "stage_home", "stage_right"):
            self._left, self._home, self._right = p["stage_left"], p["stage_home"], p["stage_right"]
            self._span = self._right - self._left
        elif name == "gamma":
            self._gamma = float(p["gamma"])
        elif name == "silence_ms":
            self._tau = p["silence_ms"] / 1000.0
            self._dt = -1.0  # the drift's coefficient is recomputed on the next frame

    def prepare(self, ctx) -> None:
        p, handle, bank = self.p, self.stem.v, ctx.bank
        self._left, self._home, self._right = p["stage_left"], p["stage_home"], p["stage_right"]
        self._span = self._right - self._left
        self._curve, self._gamma = CURVES[p["curve"]], float(p["gamma"])
        self._place = self._home  # position_value, kept across recompiles
        self._tau = p["silence_ms"] / 1000.0
        self._dt, self._k_home = -1.0, 0.0
        self._chroma: list[float] = [0.0]
        self._fps = ctx.fps
        name = handle.name if handle is not None else None
        needs_stem = (p["intensity_source"] != "input"
                      or p["position_source"] in ("pitch", "brightness"))
        if needs_stem and name is None:
            ctx.warn(f"node {self.id}: no stem connected; its stem sources read silence")
        chan = (lambda ch: bank.signal(f"{name}/{ch}")) if name else (lambda ch: Wire(0.0))
        # bind the sources once: per frame the node reads a wire, never a string
        src = p["intensity_source"]
        self._i_wire = self.intensity if src == "input" else chan(src)
        pos = p["position_source"]
        self._p_wire = {"right": Wire(1.0), "left": Wire(0.0), "input": self.position,
                        "tension": bank.signal("global/tension")}.get(pos)
        if pos in ("pitch", "brightness"):
            self._p_wire = chan("pitch_normalized" if pos == "pitch" else "brightness")
        if pos == "chroma":
            if ctx.analysis is not None:
                a = ctx.analysis
                self._chroma = ctx.cached(("dance.chroma",),
                                          lambda: dominant_pitch_class(a, a.n_frames))
                self._fps = ctx.analysis.fps
            self._read_pos = self._pos_chroma
        else:
            self._read_pos = self._pos_wire
        # silence: the stem's energy under -40 dB; without a stem, the intensity itself
        self._quiet_wire = chan("energy_smooth") if name else self._i_wire
        self._on_silence = self._drift_home if p["silence"] == "home" else self._hold

    def _pos_wire(self, t: float) -> float:
        return self._p_wire.v

    def _pos_chroma(self, t: float) -> float:
        table = self._chroma
        i = int(t * self._fps + 0.5)
        return table[i if 0 <= i < len(table) else (0 if i < 0 else len(table) - 1)]

    def _hold(self, dt: float) -> None:
        pass

    def _drift_home(self, dt: float) -> None:
        if dt != self._dt:
            self._dt = dt
            self._k_home = 1.0 - math.exp(-dt / self._tau)
        self._place += self._k_home * (self._home - self._place)

    def process(self, t: float, dt: float) -> None:
        amount = self._curve(self.finite(self._i_wire.v), self._gamma)
        quiet = self._quiet_wire.v
        if quiet < SILENCE_LEVEL or quiet != quiet:
            self._on_silence(dt)
        else:
            pos = self.finite(self._read_pos(t))
            pos = 0.0 if pos < 0.0 else 1.0 if pos > 1.0 else pos
            self._place = self._left + pos * self._span
        self.amount.v = amount
        self.pos.v = (self._place - self._left) / self._span if self._span else 0.0
        self.out.v = self._home + amount * (self._place - self._home)

    def reset(self) -> None:
        self._place = self._home


NODES = (Dance,)

"""Low-frequency oscillator, free-running in Hz or locked to the track's tempo."""
from __future__ import annotations

import math

from graph_runtime.graph.node import Node, Param, signal

TAU = 2.0 * math.pi


def wave_sine(phase: float) -> float:
    return 0.5 - 0.5 * math.cos(TAU * phase)  # starts at 0, peaks mid-cycle


def wave_saw(phase: float) -> float:
    return phase


def wave_square(phase: float) -> float:
    return 1.0 if phase < 0.5 else 0.0


def wave_triangle(phase: float) -> float:
    return 2.0 * phase if phase < 0.5 else 2.0 - 2.0 * phase


WAVES = {"sine": wave_sine, "saw": wave_saw, "square": wave_square, "triangle": wave_triangle}


class LFO(Node):
    """Phase is a function of t (not integrated), so a seek or a render from
    frame i gives the same value as playing up to it. With `run_while_paused`
    it also moves while the transport is paused: the paused time (at the
    window's frame period) is added to its phase, so it carries on from there."""

    type_id = "time.lfo"
    family = "time"
    title = "LFO"
    doc = "Periodic signal in [0, 1] ([-1, 1] when bipolar). unit hz: rate cycles per " \
          "second; unit beats: one cycle every `rate` beats of the track's tempo."
    outputs = (signal("out"), signal("phase"))
    params = (Param("shape", "choice", "sine", choices=tuple(WAVES)),
              Param("unit", "choice", "hz", choices=("hz", "beats")),
              Param("rate", "float", 1.0, 0.001, 1000.0, doc="Hz, or beats per cycle"),
              Param("phase", "float", 0.0, 0.0, 1.0, doc="phase offset in cycles"),
              Param("bipolar", "bool", False),
              Param("run_while_paused", "bool", False,
                    doc="keep moving while the transport is paused (free-running)"))
    reprepare = ()  # every param is live: on_param derives the same as prepare

    def prepare(self, ctx) -> None:
        self._bpm = ctx.bpm
        self._clock = ctx.clock
        self._paused_s = 0.0  # time run while paused, s
        self._derive()

    def on_param(self, name: str) -> None:
        self._derive()

    def _derive(self) -> None:
        rate = float(self.p["rate"])
        self._freq = rate if self.p["unit"] == "hz" else self._bpm / 60.0 / rate
        self._offset = float(self.p["phase"])
        self._wave = WAVES[self.p["shape"]]
        self._scale, self._shift = (2.0, -1.0) if self.p["bipolar"] else (1.0, 0.0)
        self._free = bool(self.p.get("run_while_paused", False))

    def process(self, t: float, dt: float) -> None:
        if self._free and self._clock.paused:
            self._paused_s += self._clock.idle_dt
        ph = ((t + self._paused_s) * self._freq + self._offset) % 1.0
        self.phase.v = ph
        self.out.v = self._wave(ph) * self._scale + self._shift


NODES = (LFO,)

"""The bridge between audio and steering: bodies with mass that music pushes around.

Directly mapping loudness to strength looks mechanical; a body with mass,
stiffness and damping turns the same signal into motion with weight. Spring
is for things that hit and decay (its target is the music). Three sustained
models never come to rest, for pads, drones and voices: PitchFollow (holds
its note through unvoiced gaps), CoupledOscillator (two slightly detuned
oscillators that beat: breathing) and PerlinDrift (smooth noise whose speed
follows the energy). A percussion trigger briefly tightens their damping and
kicks their velocity, so a pad's breathing still feels the beat. Blended
mixes all four with weights from the stem's classification (on live
input the running estimate, read every frame: physics_live.py).

Every model is tempo-scaled (physics_models: k * bpm/120, c * sqrt(bpm/120),
so damping ratios hold) and integrated with semi-implicit Euler at the
frame's dt. Outputs are intensities, mostly in [0, 1], for a Dance node.
"""
from __future__ import annotations

import math

from graph_runtime.graph.node import Node, Param, signal, stem, trigger

from .physics_live import LiveWeights
from .physics_models import (
    BPM_REF,
    PRESETS,
    CoupledPair,
    Decay,
    Spring,
    noise_table,
    pitch_position,
    read_noise,
    tempo_scale,
)

PRESET_NAMES = tuple(PRESETS) + ("custom",)
# the body pitch follow moves: slightly underdamped, lively but no ringing (ζ 0.85, 1.2 Hz)
FOLLOWER = (1.0, 60.0, 13.2)
# a softer body for Perlin drift, so the noise's own motion dominates (ζ 1.0, 1 Hz)
DRIFTER = (1.0, 40.0, 12.65)


def _preset_params(default: str) -> tuple[Param, ...]:
    return (
        Param("preset", "choice", default, choices=PRESET_NAMES,
              doc="; ".join(f"{n}: {p.doc}" for n, p in PRESETS.items()) + "; custom: m, k, c below"),
        Param("m", "float", 1.0, 0.05, 100.0, doc="mass (custom preset)"),
        Param("k", "float", 100.0, 0.0, 10000.0, doc="stiffness at 120 BPM (custom preset)"),
        Param("c", "float", 14.0, 0.0, 1000.0, doc="damping at 120 BPM (custom preset)"),
    )


def _sustain_params(impulse: float, tighten: float) -> tuple[Param, ...]:
    return (
        Param("kick", "float", impulse, -100.0, 100.0, unit="1/s",
              doc="velocity a percussion trigger injects (at 120 BPM)"),
        Param("tighten", "float", tighten, 0.0, 100.0, unit="1/s",
              doc="damping a percussion trigger adds for a moment"),
        Param("tighten_ms", "float", 200.0, 1.0, 5000.0, unit="ms",
              doc="time constant of that extra damping (at 120 BPM)"),
    )


BPM_PARAM = Param("bpm_scaling", "bool", True, doc="scale the dynamics to the track's tempo")


def _bpm(node: Node, ctx) -> float:
    return ctx.bpm if node.p["bpm_scaling"] else BPM_REF


def spring_constants(p: dict) -> tuple[float, float, float]:
    if p["preset"] == "custom":
        return float(p["m"]), float(p["k"]), float(p["c"])
    pre = PRESETS[p["preset"]]
    return pre.m, pre.k, pre.c


# -- models: wires in, one float out ----------------------------------------------------
# A model reads the wires it was given, advances one frame and returns its
# output. Nodes own one; Blended owns several. `finite` is the owning node's
# counter of replaced NaN/inf values.

class SpringModel:
    kind = "spring"

    def __init__(self, finite, m: float, k: float, c: float, bpm: float, impulse: float) -> None:
        self.finite = finite
        self.bpm = bpm
        self.body = Spring(m, k, c, bpm)
        self.kick = impulse * math.sqrt(tempo_scale(bpm))  # momentum; same reach at any tempo

    def step(self, target: float, hit: bool, dt: float) -> float:
        body = self.body
        if hit:
            body.kick(self.kick)
        x = body.step(self.finite(target, body.x), dt)
        if x - x != 0.0:  # diverged (absurd custom constants): restart at rest
            body.reset()
            x = self.finite(x)
        return x

    def get(self) -> tuple:
        return (self.body.x, self.body.v)

    def set(self, s: tuple) -> None:
        self.body.x, self.body.v = s

    def reset(self) -> None:
        self.body.reset()


class _Sustained:
    """Shared percussion response: a hit kicks the body's velocity and adds
    damping that decays with tau (both tempo-scaled)."""

    def __init__(self, finite, body_constants, bpm: float, impulse: float, tighten: float,
                 tighten_ms: float) -> None:
        root = math.sqrt(tempo_scale(bpm))
        self.finite = finite
        self.body = Spring(*body_constants, bpm=bpm, extra_c_max=tighten * root)
        self.kick = impulse * root
        self.tighten = tighten * root
        self.env = Decay(tighten_ms / 1000.0 / root)

    def _percussion(self, hit: bool, dt: float) -> float:
        if hit:
            self.env.level = 1.0
            self.body.v += self.kick
        return self.tighten * self.env.tick(dt)

    def reset(self) -> None:
        self.body.reset()
        self.env.level = 0.0


class PitchModel(_Sustained):
    """Follows the log-mapped pitch; below the confidence threshold the target
    holds the last voiced note instead of falling to 0 Hz."""

    kind = "pitch"

    def __init__(self, finite, hz_wire, conf_wire, threshold: float, bpm: float, impulse: float,
                 tighten: float, tighten_ms: float) -> None:
        super().__init__(finite, FOLLOWER, bpm, impulse, tighten, tighten_ms)
        self.hz, self.conf, self.threshold = hz_wire, conf_wire, threshold
        self.target = 0.0
        self.voiced = False

    def step(self, target: float, hit: bool, dt: float) -> float:
        hz, conf = self.hz.v, self.conf.v
        if hz - hz != 0.0 or conf - conf != 0.0:
            hz = conf = self.finite(math.nan)  # counted; reads as unvoiced
        self.voiced = conf >= self.threshold and hz > 0.0
        if self.voiced:
            self.target = pitch_position(hz)
        extra = self._percussion(hit, dt)
        return self.body.step(self.target, dt, extra)

    def get(self) -> tuple:
        return (self.body.x, self.body.v, self.target)

    def set(self, s: tuple) -> None:
        self.body.x, self.body.v, self.target = s

    def reset(self) -> None:
        super().reset()
        self.target = 0.0


class OscillatorModel:
    """Two coupled oscillators (physics_models.CoupledPair). Energy raises both
    the amplitude they seek and the coupling between them; output is
    0.5 + (x1 + x2) / 4, so amplitude 1 spans [0, 1]."""

    kind = "oscillator"

    def __init__(self, finite, energy_wire, f1: float, f2: float, amp: tuple[float, float],
                 coupling: tuple[float, float], bpm: float, impulse: float, tighten: float,
                 tighten_ms: float) -> None:
        root = math.sqrt(tempo_scale(bpm))
        self.finite = finite
        self.energy = energy_wire
        self.pair = CoupledPair(f1, f2, bpm)
        self.amp_lo, self.amp_span = amp[0], amp[1] - amp[0]
        self.cpl_lo, self.cpl_span = coupling[0], coupling[1] - coupling[0]
        self.kick, self.tighten = impulse * root, tighten * root
        self.env = Decay(tighten_ms / 1000.0 / root)
        self.pair.reset(max(self.amp_lo, 0.05))

    def step(self, target: float, hit: bool, dt: float) -> float:
        e = self.finite(self.energy.v)
        e = 0.0 if e < 0.0 else 1.0 if e > 1.0 else e
        pair = self.pair
        if hit:
            self.env.level = 1.0
            pair.v1 += self.kick
            pair.v2 += self.kick
        extra = self.tighten * self.env.tick(dt)
        pair.step(self.amp_lo + self.amp_span * e, self.cpl_lo + self.cpl_span * e, extra, dt)
        y = 0.5 + 0.25 * (pair.x1 + pair.x2)
        return 0.0 if y < 0.0 else 1.0 if y > 1.0 else y

    def get(self) -> tuple:
        p = self.pair
        return (p.x1, p.v1, p.x2, p.v2)

    def set(self, s: tuple) -> None:
        p = self.pair
        p.x1, p.v1, p.x2, p.v2 = s

    def reset(self) -> None:
        self.pair.reset(max(self.amp_lo, 0.05))
        self.env.level = 0.0


class PerlinModel(_Sustained):
    """A body pulled toward 0.5 + amplitude/2 * noise(u); u advances at
    speed + speed_gain * energy noise units per second (tempo-scaled)."""

    kind = "perlin"

    def __init__(self, finite, energy_wire, seed: int, speed: float, speed_gain: float,
                 amplitude: float, bpm: float, impulse: float, tighten: float,
                 tighten_ms: float) -> None:
        super().__init__(finite, DRIFTER, bpm, impulse, tighten, tighten_ms)
        root = math.sqrt(tempo_scale(bpm))
        self.energy = energy_wire
        self.table = noise_table(seed)
        self.speed, self.gain = speed * root, speed_gain * root
        self.half_amp = 0.5 * amplitude
        self.u = 0.0
        self.body.reset(0.5 + self.half_amp * read_noise(self.table, 0.0))

    def step(self, target: float, hit: bool, dt: float) -> float:
        e = self.finite(self.energy.v)
        e = 0.0 if e < 0.0 else 1.0 if e > 1.0 else e
        self.u += (self.speed + self.gain * e) * dt
        goal = 0.5 + self.half_amp * read_noise(self.table, self.u)
        extra = self._percussion(hit, dt)
        return self.body.step(goal, dt, extra)

    def get(self) -> tuple:
        return (self.body.x, self.body.v, self.u)

    def set(self, s: tuple) -> None:
        self.body.x, self.body.v, self.u = s

    def reset(self) -> None:
        super().reset()
        self.u = 0.0
        self.body.reset(0.5 + self.half_amp * read_noise(self.table, 0.0))


class _ModelNode(Node):
    """A node that runs one model; `_dyn` is its carried state. Every param
    shapes the model built in prepare, so every param re-prepares
    (`reprepare` left at None: a new model, the body's motion carried)."""

    state = ("_dyn",)

    @property
    def _dyn(self) -> tuple:
        return self._model.get()

    @_dyn.setter
    def _dyn(self, s: tuple) -> None:
        self._model.set(s)

    def reset(self) -> None:
        self._model.reset()


# -- nodes ----------------------------------------------------------------------------------

class SpringNode(_ModelNode):
    type_id = "physics.spring"
    family = "physics"
    title = "Spring"
    doc = ("Mass-spring-damper: `out` chases `target` with the preset's bounce. An `impulse` "
           "trigger kicks it (momentum / mass). Presets at 120 BPM, tempo-scaled.")
    inputs = (signal("target", doc="where the body is pulled (e.g. energy_smooth)"),
              trigger("impulse", doc="kick the body (e.g. a drum hit)"))
    outputs = (signal("out"), signal("velocity", unit="1/s"))
    params = _preset_params("kick") + (
        Param("kick", "float", 0.0, -100.0, 100.0, unit="mass/s",
              doc="momentum an impulse trigger adds (velocity = kick / m)"),
        BPM_PARAM)

    reprepare = ("preset", "m", "k", "c", "bpm_scaling")  # kick: live (on_param)

    def prepare(self, ctx) -> None:
        m, k, c = spring_constants(self.p)
        self._model = SpringModel(self.finite, m, k, c, _bpm(self, ctx), float(self.p["kick"]))

    def on_param(self, name: str) -> None:
        if name == "kick":  # what SpringModel derives from it, tempo-scaled as at prepare
            self._model.kick = float(self.p["kick"]) * math.sqrt(tempo_scale(self._model.bpm))

    def process(self, t: float, dt: float) -> None:
        self.out.v = self._model.step(self.target.v, self.impulse.v, dt)
        self.velocity.v = self._model.body.v


class PitchFollow(_ModelNode):
    type_id = "physics.pitch_follow"
    family = "physics"
    title = "Pitch follow"
    doc = ("Follows the melody: pitch 80..2000 Hz on a log scale -> 0..1. When confidence "
           "drops below the threshold (unvoiced, a breath) it holds the last note.")
    inputs = (signal("pitch_hz", unit="Hz"), signal("confidence"),
              trigger("impulse", doc="percussion: tightens damping, kicks velocity"))
    outputs = (signal("out"), signal("target", doc="log-pitch it is heading to"),
               signal("voiced"))
    params = (Param("threshold", "float", 0.5, 0.0, 1.0, doc="minimum pitch confidence"),
              ) + _sustain_params(0.5, 10.0) + (BPM_PARAM,)

    def prepare(self, ctx) -> None:
        p = self.p
        self._model = PitchModel(self.finite, self.pitch_hz, self.confidence, float(p["threshold"]),
                                 _bpm(self, ctx), p["kick"], p["tighten"], p["tighten_ms"])

    def process(self, t: float, dt: float) -> None:
        m = self._model
        self.out.v = m.step(0.0, self.impulse.v, dt)
        self.target.v = m.target
        self.voiced.v = 1.0 if m.voiced else 0.0


def _oscillator_params() -> tuple[Param, ...]:
    return (Param("f1", "float", 0.3, 0.01, 5.0, unit="Hz", doc="first oscillator at 120 BPM"),
            Param("f2", "float", 0.47, 0.01, 5.0, unit="Hz", doc="second oscillator at 120 BPM"),
            Param("amp_min", "float", 0.25, 0.01, 1.0, doc="amplitude in silence"),
            Param("amp_max", "float", 0.9, 0.01, 1.0, doc="amplitude at full energy"),
            Param("coupling_min", "float", 0.2, 0.0, 4.0, unit="1/s^2", doc="coupling in silence"),
            Param("coupling_max", "float", 1.2, 0.0, 4.0, unit="1/s^2", doc="coupling at full energy"))


class CoupledOscillator(_ModelNode):
    type_id = "physics.oscillator"
    family = "physics"
    title = "Coupled oscillator"
    doc = ("Two oscillators near 0.3 and 0.47 Hz joined by a spring: their sum beats, a "
           "perpetual breathing that never settles. Energy raises amplitude and coupling.")
    inputs = (signal("energy"), trigger("impulse"))
    outputs = (signal("out"), signal("a"), signal("b"))
    params = _oscillator_params() + _sustain_params(0.5, 3.0) + (BPM_PARAM,)

    def prepare(self, ctx) -> None:
        p = self.p
        self._model = OscillatorModel(
            self.finite, self.energy, p["f1"], p["f2"], (p["amp_min"], p["amp_max"]),
            (p["coupling_min"], p["coupling_max"]), _bpm(self, ctx), p["kick"], p["tighten"],
            p["tighten_ms"])

    def process(self, t: float, dt: float) -> None:
        m = self._model
        self.out.v = m.step(0.0, self.impulse.v, dt)
        self.a.v = m.pair.x1
        self.b.v = m.pair.x2


def _perlin_params() -> tuple[Param, ...]:
    return (Param("seed", "int", 7, 0, 2**31 - 1, doc="which noise"),
            Param("speed", "float", 0.15, 0.0, 10.0, unit="1/s", doc="drift speed in silence"),
            Param("speed_gain", "float", 0.6, 0.0, 10.0, unit="1/s", doc="extra speed at full energy"),
            Param("amplitude", "float", 1.0, 0.0, 1.0, doc="1 spans the whole [0, 1]"))


class PerlinDrift(_ModelNode):
    type_id = "physics.perlin"
    family = "physics"
    title = "Perlin drift"
    doc = ("Smooth, never-repeating drift through OpenSimplex noise; energy sets the speed. "
           "For ambient and textural stems.")
    inputs = (signal("energy"), trigger("impulse"))
    outputs = (signal("out"),)
    params = _perlin_params() + _sustain_params(1.0, 10.0) + (BPM_PARAM,)

    def prepare(self, ctx) -> None:
        p = self.p
        self._model = PerlinModel(self.finite, self.energy, p["seed"], p["speed"], p["speed_gain"],
                                  p["amplitude"], _bpm(self, ctx), p["kick"], p["tighten"],
                                  p["tighten_ms"])

    def process(self, t: float, dt: float) -> None:
        self.out.v = self._model.step(0.0, self.impulse.v, dt)


def classification_weights(handle) -> dict[str, float]:
    """The write-up's blend: percussive stems spring; harmonic models each
    gated by harmonic confidence. Normalised to sum 1 (all-zero -> spring)."""
    if handle is None:
        return {"spring": 1.0, "pitch": 0.0, "oscillator": 0.0, "perlin": 0.0}
    harm = handle.weight("harmonic")
    w = {"spring": handle.weight("percussive"),
         "pitch": handle.weight("melodic") * harm,
         "oscillator": handle.weight("harmony") * harm,
         "perlin": handle.weight("texture") * harm}
    return _normalised(w)


def _normalised(w: dict[str, float]) -> dict[str, float]:
    w = {k: max(0.0, float(v)) for k, v in w.items()}
    total = sum(w.values())
    if total <= 1e-9:
        return {k: (1.0 if k == "spring" else 0.0) for k in w}
    return {k: v / total for k, v in w.items()}


class Blended(Node):
    """Only models with a weight above 1% are built and stepped."""

    type_id = "physics.blend"
    family = "physics"
    title = "Blended physics"
    doc = ("Spring + pitch follow + coupled oscillator + Perlin drift, weighted by the stem's "
           "classification (percussive -> spring; melodic, harmony and texture models gated by "
           "harmonic confidence) or by hand. Connect the stem handle and a target.")
    inputs = (stem("stem", doc="the stem: classification, pitch and energy"),
              signal("target", doc="the spring's target (e.g. energy_smooth)"),
              trigger("impulse", doc="percussion: kicks the spring, tightens the sustained models"))
    outputs = (signal("out"), signal("w_spring"), signal("w_pitch"), signal("w_oscillator"),
               signal("w_perlin"))
    params = _preset_params("linear") + (
        Param("weighting", "choice", "classification", choices=("classification", "manual")),
        Param("w_spring", "float", 1.0, 0.0, 1.0, doc="manual weight"),
        Param("w_pitch", "float", 0.0, 0.0, 1.0, doc="manual weight"),
        Param("w_oscillator", "float", 0.0, 0.0, 1.0, doc="manual weight"),
        Param("w_perlin", "float", 0.0, 0.0, 1.0, doc="manual weight"),
        Param("spring_kick", "float", 0.0, -100.0, 100.0, doc="momentum a trigger gives the spring"),
        Param("threshold", "float", 0.5, 0.0, 1.0, doc="pitch confidence threshold"),
        Param("seed", "int", 7, 0, 2**31 - 1, doc="Perlin noise seed"),
    ) + _sustain_params(0.5, 6.0) + (BPM_PARAM,)
    state = ("_dyn",)
    reprepare = None  # every param picks or shapes a model; the motion is carried

    def prepare(self, ctx) -> None:
        p, handle = self.p, self.stem.v
        live = (p["weighting"] == "classification" and handle is not None
                and callable(getattr(ctx.analysis, "make_bank", None)))
        self.__dict__.pop("process", None)   # a recompile on a track after live input
        if live:   # a running estimate: every model built, blended per frame (physics_live.py)
            w = {"spring": 0.25, "pitch": 0.25, "oscillator": 0.25, "perlin": 0.25}
        elif p["weighting"] == "classification":
            w = classification_weights(handle)
        else:
            w = _normalised({k: p["w_" + k] for k in ("spring", "pitch", "oscillator", "perlin")})
        for k, v in w.items():
            getattr(self, "w_" + k).v = v
        bpm, bank = _bpm(self, ctx), ctx.bank
        name = handle.name if handle is not None else "none"
        sus = (p["kick"], p["tighten"], p["tighten_ms"])
        models = []
        if w["spring"] > 0.01:
            m, k, c = spring_constants(p)
            models.append((w["spring"], SpringModel(self.finite, m, k, c, bpm, p["spring_kick"])))
        if w["pitch"] > 0.01:
            models.append((w["pitch"], PitchModel(
                self.finite, bank.signal(f"{name}/pitch_hz"), bank.signal(f"{name}/pitch_confidence"),
                p["threshold"], bpm, *sus)))
        energy = bank.signal(f"{name}/energy_smooth")
        if w["oscillator"] > 0.01:
            models.append((w["oscillator"], OscillatorModel(
                self.finite, energy, 0.3, 0.47, (0.25, 0.9), (0.2, 1.2), bpm, *sus)))
        if w["perlin"] > 0.01:
            models.append((w["perlin"], PerlinModel(
                self.finite, energy, p["seed"], 0.15, 0.6, 1.0, bpm, *sus)))
        total = sum(wt for wt, _ in models)
        self._models = tuple((wt / total, m) for wt, m in models)
        self._steps = tuple((wt, m.step) for wt, m in self._models)
        if live:
            self.process = LiveWeights(ctx.bank, handle.name, self).process

    @property
    def _dyn(self) -> tuple:
        return tuple((m.kind, m.get()) for _, m in self._models)

    @_dyn.setter
    def _dyn(self, states: tuple) -> None:
        if [k for k, _ in states] == [m.kind for _, m in self._models]:
            for (_, s), (_, m) in zip(states, self._models):
                m.set(s)

    def process(self, t: float, dt: float) -> None:
        target, hit = self.target.v, self.impulse.v
        acc = 0.0
        for w, step in self._steps:
            acc += w * step(target, hit, dt)
        self.out.v = acc

    def reset(self) -> None:
        for _, m in self._models:
            m.reset()


NODES = (SpringNode, PitchFollow, CoupledOscillator, PerlinDrift, Blended)

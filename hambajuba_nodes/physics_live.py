"""The blended physics' classification weights on live input, frame by frame.

Offline a stem's classification is one vector for the whole track, so the
Blended node reads it once at compile time and builds only the models it
weights. Live the classification is a running estimate (graph_runtime/live/
classify.py, about a minute to follow a change of song, 0 before the first
second of music), carried by the live bank as class/<stem>/<class name>
columns. So on live input the node builds all four models, and each frame
reads the five class wires and blends by the write-up's rule (physics.
classification_weights: percussive -> spring; melodic, harmony and texture
gated by harmonic; normalised; all zero -> spring alone).

Per frame: five wire reads and a dozen float operations; no containers built.
"""
from __future__ import annotations


def pos(x: float) -> float:
    return x if x > 0.0 else 0.0


class LiveWeights:
    def __init__(self, bank, stem: str, node) -> None:
        """node: the Blended node, prepared with all four models in the order spring,
        pitch, oscillator, perlin; `process` replaces its process."""
        wire = lambda c: bank.signal(f"class/{stem}/{c}")
        self.percussive, self.harmonic = wire("percussive"), wire("harmonic")
        self.melodic, self.harmony, self.texture = wire("melodic"), wire("harmony"), wire("texture")
        self.outputs = (node.w_spring, node.w_pitch, node.w_oscillator, node.w_perlin)
        self.steps = tuple(step for _, step in node._steps)
        self.target, self.impulse, self.out = node.target, node.impulse, node.out
        self.w = [1.0, 0.0, 0.0, 0.0]          # spring, pitch, oscillator, perlin (in place)

    def update(self) -> list[float]:
        """This frame's four weights (the same list, refilled)."""
        w = self.w
        harm = pos(self.harmonic.v)
        w[0] = pos(self.percussive.v)
        w[1] = pos(self.melodic.v) * harm
        w[2] = pos(self.harmony.v) * harm
        w[3] = pos(self.texture.v) * harm
        total = w[0] + w[1] + w[2] + w[3]
        if total <= 1e-9:
            w[0], w[1], w[2], w[3] = 1.0, 0.0, 0.0, 0.0
        else:
            w[0], w[1], w[2], w[3] = w[0] / total, w[1] / total, w[2] / total, w[3] / total
        o = self.outputs
        o[0].v, o[1].v, o[2].v, o[3].v = w[0], w[1], w[2], w[3]
        return w

    def process(self, t: float, dt: float) -> None:
        """Every model steps (its motion carries on while its weight is 0)."""
        w = self.update()
        target, hit = self.target.v, self.impulse.v
        acc = 0.0
        for j, step in enumerate(self.steps):
            acc += w[j] * step(target, hit, dt)
        self.out.v = acc

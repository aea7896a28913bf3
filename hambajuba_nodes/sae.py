"""SAE block sink: where a patch's signals become steering of SDXL-Turbo.

Each sink takes one of the steered block's FrameParams slots (a block can
carry SLOTS features at once) and every frame writes

    strength[block, slot] = strength * gain * mean_activation(block, feature_id)
    masks[block, slot]    = mask

The engine adds strength * mask * decoder[:, feature_id] to the block's
output. Scaling by the feature's mean activation makes one unit of strength
mean "one typical activation" for every feature, so a -30..+30 stage reads
alike across features; turn it off to steer in raw decoder units. The
feature id goes to the Scene once, at compile time (the engine copies the
decoder column only when it changes). NaN never reaches FrameParams: it is
replaced by 0 here and counted. A scaled strength past FrameParams'
STRENGTH_BOUND is clipped there; `applied` is the value really written and
`clipped` counts the frames clipped since the patch was compiled (the
strength meter shows CLIP while it happens).
"""
from __future__ import annotations

import numpy as np

from graph_runtime.graph.frame import BLOCKS, N_FEATURES
from graph_runtime.graph.node import Node, Param, mask, signal


class BlockSink(Node):
    type_id = "sae.block"
    family = "sinks"
    title = "SAE block"
    doc = ("Steers one SAE feature in one UNet block: down.2.1 (composition, mood), mid.0 "
           "(abstraction, where), up.0.0 (details), up.0.1 (texture). strength x gain "
           "(e.g. the ensemble's prominence), scaled by the feature's mean activation, "
           "where the mask is bright.")
    inputs = (signal("strength", doc="steering strength, usually a Dance output"),
              signal("gain", 1.0, doc="multiplies the strength (prominence); 1 when unconnected"),
              mask("mask", doc="where it acts; everywhere when unconnected"))
    outputs = (signal("applied", doc="the strength really written: after gain, scaling and the clamp"),
               signal("clipped", doc="frames whose strength hit the clamp since compile"))
    params = (
        Param("block", "choice", "down.2.1", choices=BLOCKS),
        Param("feature_id", "int", 0, 0, N_FEATURES - 1, doc="SAE feature, 0-5119"),
        Param("scale_by_mean", "bool", True, doc="multiply by the feature's mean activation"),
        Param("strength", "float", 0.0, -400.0, 400.0, doc="strength when the input is unconnected"),
    )
    reprepare = ("block", "feature_id", "scale_by_mean")  # strength: the constant wire

    def prepare(self, ctx) -> None:
        p = self.p
        b, s = ctx.slots.slot(p["block"], self.id)
        frame = ctx.frame
        frame.scene.feature_ids[b, s] = p["feature_id"]
        frame.scene.touch()
        mean = float(ctx.feature_mean(p["block"], p["feature_id"])) if p["scale_by_mean"] else 1.0
        if not (mean - mean == 0.0):
            raise ValueError(f"mean activation of feature {p['feature_id']} is not finite")
        self._scale = mean
        self._b, self._s = b, s
        self._set = frame.set_strength
        self._mask_out = frame.masks[b, s]  # a view into the packed vector, made once
        np.copyto(self._mask_out, self.mask.v)
        self._set(b, s, 0.0)
        if not self.mask.v.flags.writeable:  # a constant mask (paint, unconnected): copied once
            self.process = self._process_strength

    def _process_strength(self, t: float, dt: float) -> None:
        x = self.strength.v * self.gain.v * self._scale
        if x - x != 0.0:
            self.nan_count += 1
            x = 0.0
        written = self._set(self._b, self._s, x)
        if written != x:
            self.clipped.v += 1.0
        self.applied.v = written

    def process(self, t: float, dt: float) -> None:
        self._process_strength(t, dt)
        np.copyto(self._mask_out, self.mask.v)


NODES = (BlockSink,)

"""Inline SAE steering: each steered Transformer2DModel, wrapped in place.

sdxl-unbox steers with a forward hook: code the block's update with the SAE,
set feature f to `value * map` and add `codes @ decoder.T` to the output.
For one feature that is exactly `out + (value * map) * decoder[:, f]`. Hooks
are Python callbacks, so Dynamo cannot put them inside one graph; instead the
block is replaced in its parent by a wrapper whose forward is that sum as
plain tensor math, summed over SLOTS features per block:

    out (B, C, H, W) + sum_s (strength[s] * mask[s])[None, None] * direction[s][:, None, None]

State lives in registered buffers whose addresses never change (a CUDA graph
bakes addresses in):
    direction (S, C)      decoder columns, model dtype; written by copy_/fill_
                          only when a slot's feature id changes (tier 1)
    strength  (S,)        views into the engine's device copy of
    mask      (S, 16, 16) FrameParams.vec: the one per-frame H2D copy writes them
                          (tier 2), so a strength change copies no direction.
                          A mask is [row, col], row 0 at the top of the image.
The wrapper always runs, even at strength 0: a multiply-add of zeros is
cheaper than a branch the graph cannot take, and adds exactly nothing.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from graph_runtime.graph.frame import BLOCK_PATHS, BLOCKS, MASKS, PROMPT_POS, SLOTS, STRENGTH

from .errors import EngineError


class SteeredBlock(nn.Module):
    """A Transformer2DModel plus SLOTS steering directions added to its output."""

    def __init__(self, block: nn.Module, name: str, width: int, strength: torch.Tensor,
                 mask: torch.Tensor, dtype: torch.dtype) -> None:
        super().__init__()
        self.block = block
        self.name = name
        self.register_buffer("direction", torch.zeros(SLOTS, width, dtype=dtype,
                                                      device=strength.device))
        # views into the engine's frame tensor; not part of any state_dict
        self.register_buffer("strength", strength, persistent=False)  # (S,)
        self.register_buffer("mask", mask, persistent=False)          # (S, 16, 16)
        self.feature_ids = [-1] * SLOTS   # host-side copy: which column each slot holds
        self.direction_writes = 0         # how many times a direction was (re)written

    def forward(self, hidden_states, *args, **kwargs):
        res = self.block(hidden_states, *args, **kwargs)
        out = res[0] if isinstance(res, tuple) else res.sample  # (B, C, H, W)
        out = out + self.steering(out.shape[-2:]).to(out.dtype)[None]
        if isinstance(res, tuple):
            return (out,) + tuple(res[1:])
        return type(res)(sample=out)

    def steering(self, size) -> torch.Tensor:
        """sum_s strength[s] * mask[s] * direction[s] -> (C, H, W) float32."""
        amount = self.strength[:, None, None] * self.mask          # (S, 16, 16)
        if tuple(amount.shape[-2:]) != tuple(size):                # other image sizes
            amount = F.interpolate(amount[None], size=tuple(size), mode="bilinear",
                                   align_corners=False)[0]
        return torch.einsum("shw,sc->chw", amount, self.direction.float())

    @torch.no_grad()
    def set_feature(self, slot: int, fid: int, column: torch.Tensor | None) -> None:
        """Tier 1: put decoder column `column` (C,) in `slot`; None empties it."""
        if column is None:
            self.direction[slot].fill_(0.0)
        else:
            self.direction[slot].copy_(column)
        self.feature_ids[slot] = fid
        self.direction_writes += 1


def install_steering(unet: nn.Module, frame: torch.Tensor) -> dict[str, SteeredBlock]:
    """Replace the four blocks in `unet` by SteeredBlocks reading `frame`.

    frame: (VEC_LEN,) float32 on the UNet's device, the engine's device copy
    of FrameParams.vec. Do every .to()/.half() of the UNet before this call:
    a later one would copy the views away from `frame`.
    """
    if any(isinstance(m, SteeredBlock) for m in unet.modules()):
        raise EngineError("steering", "the UNet is already steered")
    strength = frame[STRENGTH:MASKS].view(len(BLOCKS), SLOTS)
    masks = frame[MASKS:PROMPT_POS].view(len(BLOCKS), SLOTS, 16, 16)
    dtype = next(unet.parameters()).dtype
    steered = {}
    for i, name in enumerate(BLOCKS):
        parent, leaf, block = _locate(unet, BLOCK_PATHS[name])
        width = _block_width(block, name)
        steered[name] = SteeredBlock(block, name, width, strength[i], masks[i], dtype)
        _replace(parent, leaf, steered[name])
    return steered


@contextmanager
def unsteered(unet: nn.Module, steered: dict[str, SteeredBlock]):
    """Temporarily put the original blocks back (A/B comparisons, tests)."""
    for name, wrapper in steered.items():
        parent, leaf, _ = _locate(unet, BLOCK_PATHS[name])
        _replace(parent, leaf, wrapper.block)
    try:
        yield unet
    finally:
        for name, wrapper in steered.items():
            parent, leaf, _ = _locate(unet, BLOCK_PATHS[name])
            _replace(parent, leaf, wrapper)


def _locate(root: nn.Module, path: str) -> tuple[nn.Module, str, nn.Module]:
    parent_path, _, leaf = path.rpartition(".")
    try:
        parent = root.get_submodule(parent_path)
        return parent, leaf, parent.get_submodule(leaf)
    except AttributeError:
        raise EngineError("steering", f"the UNet has no module {path}; not an SDXL UNet") from None


def _replace(parent: nn.Module, leaf: str, module: nn.Module) -> None:
    if isinstance(parent, (nn.ModuleList, nn.Sequential)):
        parent[int(leaf)] = module
    else:
        setattr(parent, leaf, module)


def _block_width(block: nn.Module, name: str) -> int:
    """Output channels of a Transformer2DModel (its proj_out)."""
    proj = getattr(block, "proj_out", None)
    width = getattr(proj, "out_features", None) or getattr(proj, "out_channels", None)
    if not width:
        raise EngineError("steering", f"block {name} is not a Transformer2DModel")
    return int(width)

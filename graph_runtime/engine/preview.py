"""The untrained preview: the SDXL-Turbo architecture, tiny and random.

Same module tree as SDXL (three down blocks, cross-attention in the last two,
SDXL's text+time added conditioning), the same four steered block paths, and
the same 16x16 steered resolution at 512 px (latent 64x64, two downsamples);
only the widths are tiny and the weights random. Random SAEs (5120 features,
as the real ones) and random labels come in the real formats. It is built
from config with no download, runs the whole pipeline on a CPU, and its
output is noise-like patterns: always call it the untrained preview.
"""
from __future__ import annotations

import os
import random
import re
import zlib

import torch
from diffusers import AutoencoderTiny, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

from graph_runtime.frame_params import BLOCKS, N_FEATURES

from .labels import Labels
from .parts import ModelParts
from .prompts import TOKENS
from .sae import SAE, sae_from_state

DESCRIPTION = ("untrained preview: a tiny SDXL-shaped model with random weights "
               "(noise-like patterns, not pictures)")
WIDTH = 64            # channels of the steered blocks (real: 1280)
TEXT_WIDTH = 32       # each text encoder's hidden size (real: 768 and 1280)
POOLED = 32           # pooled text embedding (real: 1280)
TIME_EMBED = 8        # per time id (real: 256)
VOCAB = 1000


def preview_unet_config() -> dict:
    return dict(
        sample_size=64, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        block_out_channels=(32, WIDTH, WIDTH), layers_per_block=2,
        transformer_layers_per_block=(1, 1, 1), attention_head_dim=(1, 2, 2),
        cross_attention_dim=2 * TEXT_WIDTH, norm_num_groups=8, use_linear_projection=True,
        addition_embed_type="text_time", addition_time_embed_dim=TIME_EMBED,
        projection_class_embeddings_input_dim=POOLED + 6 * TIME_EMBED,
    )


def preview_vae_config() -> dict:
    return dict(encoder_block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
                num_encoder_blocks=(1, 1, 1, 1), num_decoder_blocks=(1, 1, 1, 1))


def preview_text_config() -> CLIPTextConfig:
    return CLIPTextConfig(vocab_size=VOCAB, hidden_size=TEXT_WIDTH, intermediate_size=2 * TEXT_WIDTH,
                          num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=TOKENS,
                          projection_dim=POOLED, bos_token_id=VOCAB - 2, eos_token_id=VOCAB - 1,
                          pad_token_id=VOCAB - 1)


class HashTokenizer:
    """text -> (1, 77) ids without a vocabulary file: each word hashes to an id.

    For random text encoders only; stable across runs (crc32, not hash()).
    """

    def __init__(self, vocab: int = VOCAB) -> None:
        self.vocab, self.bos, self.eos = vocab, vocab - 2, vocab - 1

    def __call__(self, text: str) -> torch.Tensor:
        words = re.findall(r"\w+|[^\w\s]", text.lower())[: TOKENS - 2]
        ids = [self.bos] + [zlib.crc32(w.encode()) % (self.vocab - 2) for w in words] + [self.eos]
        ids += [self.eos] * (TOKENS - len(ids))
        return torch.tensor([ids], dtype=torch.long)


def build_preview(seed: int = 0) -> ModelParts:
    """The tiny random model on the CPU in float32 (about 3 M parameters)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(**preview_unet_config())
        vae = AutoencoderTiny(**preview_vae_config())
        te1 = CLIPTextModel(preview_text_config())
        te2 = CLIPTextModelWithProjection(preview_text_config())
    tok = HashTokenizer()
    shape_preview(unet, vae, (tok, tok), (te1, te2), seed)
    saes, labels = preview_features(seed)
    return ModelParts("preview", DESCRIPTION, unet, vae, (tok, tok), (te1, te2), saes, labels)


def preview_features(seed: int = 0) -> tuple[dict, Labels]:
    """The preview's random SAEs (5120 features of width 64) and labels, no UNet."""
    gen = torch.Generator().manual_seed(seed + 1)
    saes = {b: preview_sae(b, generator=gen) for b in BLOCKS}
    return saes, preview_labels(saes, seed)


MEAN_RANGE = tuple(float(os.environ.get("PV_MEAN", 1.0)) * v for v in (0.1, 0.2))


def preview_sae(block: str, *, generator: torch.Generator, k: int = 10) -> SAE:
    decoder = torch.randn(WIDTH, N_FEATURES, generator=generator)
    if os.environ.get("PV_DZS", "1") == "1":
        g = decoder.reshape(8, WIDTH // 8, N_FEATURES)
        decoder = (g - g.mean(dim=1, keepdim=True)).reshape(WIDTH, N_FEATURES)
    decoder /= decoder.norm(dim=0, keepdim=True)
    state = {"encoder.weight": decoder.T.contiguous(), "decoder.weight": decoder,
             "pre_bias": torch.zeros(WIDTH), "latent_bias": torch.zeros(N_FEATURES)}
    lo, hi = MEAN_RANGE
    mean = lo + (hi - lo) * torch.rand(N_FEATURES, generator=generator)
    config = {"n_dirs_local": N_FEATURES, "d_model": WIDTH, "k": k, "auxk": 256,
              "dead_steps_threshold": 2441}
    return sae_from_state(block, config, state, mean, keep_encoder=True)


PREVIEW_WORDS = ("amber", "ripple", "grain", "stripe", "halo", "tide", "moss", "glass",
                 "ember", "lattice", "bloom", "static", "velvet", "shard", "haze", "pulse")
PREVIEW_CATEGORIES = ("texture", "color", "composition", "lighting", "spatial", "mood")


def preview_labels(saes: dict, seed: int, every: int = 4) -> Labels:
    """Random labels in the real record format for every `every`-th feature."""
    rng = random.Random(seed)
    records = {}
    for block, sae in saes.items():
        records[block] = [
            {"id": fid, "label": f"{rng.choice(PREVIEW_WORDS)} {rng.choice(PREVIEW_WORDS)}",
             "category": rng.choice(PREVIEW_CATEGORIES),
             "confidence": rng.choice(("high", "medium", "low")),
             "meanActivation": round(float(sae.means[fid]), 2)}
            for fid in range(0, sae.n_features, every)]
    return Labels.from_records(records, n_features=N_FEATURES,
                               source="untrained preview (random labels)")


# ---- shaping the random weights ------------------------------------------------------

import os
X0_STD = float(os.environ.get("PV_X0", 0.6))
RGB_STD = float(os.environ.get("PV_RGB", 0.22))
SKIP_GAIN = float(os.environ.get("PV_SKIP", 0.2))   # skip columns of up-path shortcuts, vs the deep path
BRANCH_STD = float(os.environ.get("PV_BRANCH", 0.05))  # residual branch outputs in the up path
RELU_SHIFT = float(os.environ.get("PV_SHIFT", 1.0))
PAD_FIX = os.environ.get("PV_PAD", "1") == "1"
RGB_CORR = float(os.environ.get("PV_CORR", 0.4))
PROMPT_GAIN = float(os.environ.get("PV_PROMPT", 8.0))
SELF_ATTN = float(os.environ.get("PV_SELF", 0.1))
ZS = os.environ.get("PV_ZS", "1") == "1"
BLUR = torch.tensor([1.0, 2.0, 1.0])
BLUR = (BLUR[:, None] * BLUR[None, :]) / 16.0


def _deep_modules(unet):
    """(module, rows, channel dim, zero-sum group size) of the mid and up path's residual writers."""
    c2 = 2 * unet.conv_in.in_channels
    out = []
    for r in unet.mid_block.resnets:
        out.append(("branch", r.conv2, slice(None), 1))
    for a in unet.mid_block.attentions:
        out.append(("branch", a.proj_out, slice(None), -1))
    for bi, block in enumerate(unet.up_blocks):
        for ri, r in enumerate(block.resnets):
            last = bi == len(unet.up_blocks) - 1 and ri == len(block.resnets) - 1
            rows = slice(c2, None) if last else slice(None)
            out.append(("trunk", r.conv_shortcut, rows, 1))
            out.append(("branch", r.conv2, rows, 1))
        for a in getattr(block, "attentions", ()):
            out.append(("branch", a.proj_out, slice(None), -1))
        for up in block.upsamplers or ():
            out.append(("trunk", up.conv, slice(None), 1))
    return out


@torch.no_grad()
def shape_preview(unet, vae, tokenizers, text_encoders, seed: int) -> None:
    """Rescale the random weights so the untrained preview draws visible images."""
    from .noise import seeded_noise
    from .prompts import PromptEncoder
    from .schedule import SIGMA_MAX
    gen = torch.Generator().manual_seed(seed + 3)
    for m in (unet, vae, *text_encoders):
        m.eval()
    hidden = unet.mid_block.resnets[-1].out_channels
    for block in unet.up_blocks:
        for up in block.upsamplers or ():
            _blur_init(up.conv, gen)
        for r in block.resnets:
            _skip_gain(r.conv_shortcut, hidden, gen)
            hidden = r.out_channels
    for n, m in unet.named_modules():
        if n.endswith("attn1.to_out.0"):
            m.weight *= SELF_ATTN
        if n.endswith(("attn2.to_out.0", "time_emb_proj")):
            m.weight *= PROMPT_GAIN
    _identity_skip(unet)
    deep = _deep_modules(unet)
    if ZS:
        for kind, m, rows, dim in deep:
            per = _rows_of(m) // 8 if _rows_of(m) >= 64 else 4
            _zero_sum_rows(m, rows, per)
    for i, layer in enumerate(vae.decoder.layers):
        if isinstance(layer, torch.nn.Upsample):
            _blur_init(vae.decoder.layers[i + 1], gen)
    if os.environ.get("PV_BLUR0", "1") == "1":
        _blur_init(vae.decoder.layers[0], gen)
    enc = PromptEncoder(tokenizers, text_encoders, torch.device("cpu"), cache_size=1)
    embeds, pooled = enc.encode("")
    noise = seeded_noise(seed + 7, 64)
    sigma = SIGMA_MAX
    x = noise * sigma / (sigma * sigma + 1) ** 0.5
    cond = dict(encoder_hidden_states=embeds, added_cond_kwargs={
        "text_embeds": pooled, "time_ids": torch.tensor([[512.0, 512, 0, 0, 512, 512]])})
    t = torch.tensor(999.0)
    acts = {}
    hooks = [m.register_forward_hook(_normaliser(1.0 if kind == "trunk" else BRANCH_STD, rows, dim))
             for kind, m, rows, dim in deep]
    last = unet.up_blocks[-1].resnets[-1]
    hooks.append(last.register_forward_pre_hook(lambda m, i: acts.__setitem__("h", i[0])))
    try:
        unet(x, t, **cond, return_dict=False)
    finally:
        for h in hooks:
            h.remove()
    _readout(unet, acts["h"], sigma, gen)
    pred = unet(x, t, **cond, return_dict=False)[0]
    x0 = sigma * noise - sigma * pred
    _normalise_decoder(vae.decoder, x0)


def _rows_of(m) -> int:
    return m.weight.shape[0]


def _normaliser(std: float, rows: slice, dim: int):
    """Forward hook: centre each output channel, scale the module so its output std is `std`."""
    def hook(m, inputs, out):
        o = out.movedim(dim % out.dim(), 0)
        sel = o[rows]
        flat = sel.reshape(sel.shape[0], -1)
        mu = flat.mean(dim=1)
        k = std / float((flat - mu[:, None]).pow(2).mean().sqrt().clamp_min(1e-8))
        m.weight[rows] *= k
        shape = (-1,) + (1,) * (sel.dim() - 1)
        if m.bias is not None:
            m.bias[rows] = (m.bias[rows] - mu) * k
            new = (sel - mu.reshape(shape)) * k
        else:
            new = sel * k
        o = o.clone()
        o[rows] = new
        return o.movedim(0, dim % out.dim())
    return hook


def _zero_sum_rows(m, rows: slice, per: int) -> None:
    """Output channels summed over each norm group of `per` channels give zero."""
    w = m.weight[rows]
    g = w.reshape(-1, per, *w.shape[1:])
    m.weight[rows] = (g - g.mean(dim=1, keepdim=True)).reshape(w.shape)
    if m.bias is not None:
        b = m.bias[rows].reshape(-1, per)
        m.bias[rows] = (b - b.mean(dim=1, keepdim=True)).reshape(-1)


def _blur_init(conv, gen) -> None:
    """Random channel mixing times a 3x3 binomial blur: an interpolating upsampler."""
    mix = torch.randn(conv.out_channels, conv.in_channels, generator=gen) / conv.in_channels ** 0.5
    conv.weight.copy_(mix[:, :, None, None] * BLUR)


def _skip_gain(conv, hidden: int, gen) -> None:
    """A shortcut over cat(hidden, skip): the deep path at gain 1, the skip at SKIP_GAIN."""
    skip = conv.in_channels - hidden
    w = torch.randn(conv.out_channels, conv.in_channels, generator=gen)
    w[:, :hidden] /= hidden ** 0.5
    w[:, hidden:] *= SKIP_GAIN / skip ** 0.5
    conv.weight.copy_(w[:, :, None, None])
    conv.bias.zero_()


def _identity_skip(unet) -> None:
    """pred = noise exactly, through conv_in -> the last skip -> conv_out; all else reads zero.

    conv_in writes +x_i and -x_i to channels 2i and 2i+1 (two per GroupNorm
    group of four), the last resnet's shortcut passes them on, and conv_out
    takes SiLU(a) - SiLU(-a) = a. conv_out's other inputs start at zero.
    """
    c = unet.conv_in.in_channels
    w, b = unet.conv_in.weight, unet.conv_in.bias
    w[: 2 * c].zero_()
    b[: 2 * c].zero_()
    for i in range(c):
        w[2 * i, i, 1, 1], w[2 * i + 1, i, 1, 1] = 1.0, -1.0
    last = unet.up_blocks[-1].resnets[-1]
    skip_at = last.conv_shortcut.in_channels - unet.conv_in.out_channels
    sc = last.conv_shortcut
    sc.weight[: 2 * c].zero_()
    sc.bias[: 2 * c].zero_()
    for j in range(2 * c):
        sc.weight[j, skip_at + j, 0, 0] = 1.0
    last.conv2.weight[: 2 * c].zero_()
    last.conv2.bias[: 2 * c].zero_()
    ow = unet.conv_out.weight
    ow.zero_()
    unet.conv_out.bias.zero_()
    for i in range(c):
        ow[i, 2 * i, 1, 1], ow[i, 2 * i + 1, 1, 1] = 1.0, -1.0


def _readout(unet, h, sigma, gen) -> None:
    """Add a small random readout of the up path to the noise channels: x0 = -sigma * readout."""
    c = unet.conv_in.in_channels
    last = unet.up_blocks[-1].resnets[-1]
    hidden = last.conv_shortcut.in_channels - unet.conv_in.out_channels
    a = torch.randn(c, hidden, generator=gen) / hidden ** 0.5
    r = torch.einsum("ck,nkhw->nchw", a, h[:, :hidden])
    mu, sd = r.mean(dim=(0, 2, 3)), r.std(dim=(0, 2, 3))
    k = X0_STD / (sigma * sd)
    a = a * k[:, None]
    sc = last.conv_shortcut
    for i in range(c):
        sc.weight[2 * i, :hidden, 0, 0] = -a[i]
        sc.weight[2 * i + 1, :hidden, 0, 0] = a[i]
        sc.bias[2 * i], sc.bias[2 * i + 1] = mu[i] * k[i], -mu[i] * k[i]


def _normalise_decoder(decoder, x0) -> None:
    convs = [m for m in decoder.layers.modules() if isinstance(m, torch.nn.Conv2d)]
    last = convs[-1]

    def pre(m, inputs):
        mu = inputs[0].mean(dim=(0, 2, 3))
        if float(mu.norm()) > 1e-6 and PAD_FIX:
            u = mu / mu.norm()
            m.weight -= torch.einsum("oikl,i->okl", m.weight, u)[:, None] * u[None, :, None, None]

    def hook(m, i, out):
        out = m._conv_forward(i[0], m.weight, m.bias)
        if m is last:
            return _whiten_rgb(m, out)
        mu, sd = out.mean(dim=(0, 2, 3)), out.std(dim=(0, 2, 3)).clamp_min(1e-6)
        m.weight /= sd[:, None, None, None]
        if m.bias is not None:
            m.bias.copy_((m.bias - mu) / sd + RELU_SHIFT)
            return (out - mu[None, :, None, None]) / sd[None, :, None, None] + RELU_SHIFT
        return out / sd[None, :, None, None]

    hooks = [m.register_forward_pre_hook(pre) for m in convs]
    hooks += [m.register_forward_hook(hook) for m in convs]
    try:
        decoder(x0)
    finally:
        for h in hooks:
            h.remove()


def _whiten_rgb(m, out):
    flat = out[0].reshape(3, -1)
    mu = flat.mean(1)
    cov = torch.cov(flat)
    evals, evecs = torch.linalg.eigh(cov)
    white = evecs @ torch.diag(evals.clamp_min(1e-8).rsqrt()) @ evecs.T
    target = RGB_STD ** 2 * (RGB_CORR * torch.ones(3, 3) + (1 - RGB_CORR) * torch.eye(3))
    tv, te = torch.linalg.eigh(target)
    a = te @ torch.diag(tv.sqrt()) @ te.T @ white
    m.weight.copy_(torch.einsum("oc,cikl->oikl", a, m.weight))
    m.bias.copy_(a @ (m.bias - mu) + 0.5)
    return (torch.einsum("oc,nchw->nohw", a, out - mu[None, :, None, None]) + 0.5)

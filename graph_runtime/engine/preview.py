"""The untrained preview: the SDXL-Turbo architecture, tiny and random.

Same module tree as SDXL (three down blocks, cross-attention in the last two,
SDXL's text+time added conditioning), the same four steered block paths, and
the same 16x16 steered resolution at 512 px (latent 64x64, two downsamples);
only the widths are tiny and the weights random. Random SAEs (5120 features,
as the real ones) and random labels come in the real formats. It is built
from config with no download, runs the whole pipeline on a CPU, and its
output is abstract colour fields: always call it the untrained preview.

Nothing is trained. Plain default initialisation gives a flat dark image
that no control visibly moves, so `shape_preview` chooses how the random
weights are initialised (seeded, deterministic, a second or so on a CPU)
so that the dataflow can be seen: see the notes there. The generate
function, the steering and the engine are exactly those of the real model.
"""
from __future__ import annotations

import random
import re
import zlib

import torch
from diffusers import AutoencoderTiny, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

from graph_runtime.graph.frame import BLOCKS, N_FEATURES

from .labels import Labels
from .noise import seeded_noise
from .parts import ModelParts
from .prompts import TOKENS, PromptEncoder
from .sae import random_sae
from .schedule import SIGMA_MAX

DESCRIPTION = ("untrained preview: a tiny SDXL-shaped model with random weights "
               "(abstract colour fields, not pictures)")
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


# The preview's features have mean activations drawn like the real SAEs'
# (about 10-50, sae.real_like_means), so a strength scaled by the mean gives
# the same numbers on both: the same `applied` values, the same clipping at
# STRENGTH_BOUND, a patch tuned here carries over. Its 64-wide blocks carry
# activations far smaller than SDXL's, so its steering directions are
# shortened instead: norm DIRECTION_NORM makes "+30" at a typical mean (17.5)
# move x0 about one to two of its standard deviations inside the mask.
DIRECTION_NORM = 0.2 / 17.5


def preview_features(seed: int = 0) -> tuple[dict, Labels]:
    """The preview's random SAEs (5120 features of width 64) and labels, no UNet."""
    gen = torch.Generator().manual_seed(seed + 1)
    saes = {b: random_sae(b, WIDTH, N_FEATURES, generator=gen, direction_norm=DIRECTION_NORM)
            for b in BLOCKS}
    return saes, preview_labels(saes, seed)


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


# ---- how the random weights are initialised ------------------------------------------
#
# Left at their default initialisation the tiny random networks draw a flat
# dark-red image: x0 = noisy - sigma * pred is dominated by sigma * noise
# (14.6 x unit noise), the decoder's tanh clamp saturates on it, and the
# decoder's ReLU layers shrink every signal to near zero. `shape_preview`
# re-initialises some of the weights, with seeded random draws and with
# scales measured on one probe pass (as LSUV / data-dependent initialisation
# does; the probe is fixed noise and three fixed prompts), so that the
# preview's output is an image whose parts respond visibly. Still random,
# still untrained:
#
# * The UNet starts as an exact noise predictor plus a small random readout
#   (pred = noise + a small correction, as a denoiser's skip path would):
#   conv_in writes +x_i and -x_i into two channels of one GroupNorm group,
#   the last up resnet's shortcut passes them on, and conv_out reads
#   SiLU(a) - SiLU(-a) = a; conv_out's other inputs start at zero. A random
#   1x1 readout of the up path is added to those channels (as +r and -r, so
#   the group mean does not move), scaled so that x0 = -sigma * r has std
#   X0_STD. The unit-variance noise dominates those groups' statistics, so a
#   local change in the up path (a masked steering vector) changes x0 there
#   and barely touches the normalisation of the rest of the image.
# * The up path is a mostly linear, local trunk: each up resnet's 1x1
#   shortcut carries the deep path at gain 1 and the skip at SKIP_GAIN, the
#   upsamplers' convs are a random channel mix times a 3x3 binomial blur,
#   and each residual branch of the mid and up blocks (resnet conv2,
#   transformer proj_out) is scaled to output std BRANCH_STD. The image is
#   then smooth shapes from the 16x16 level, where the four steered blocks
#   are, with finer texture from the skips; a feature steered under a mask
#   shifts x0 (so the colour) under that mask, one colour per feature.
# * Prompts: cross-attention outputs and the time/text embedding projections
#   are scaled by PROMPT_GAIN, so the random text encoders' differences reach
#   the image rather than being drowned by the residual stream.
# * Every 3x3 conv of the UNet (but conv_in and conv_out) and of the decoder
#   has its taps made orthogonal to its input channels' mean, so zero padding
#   reads like an average input and no frame is drawn round the image.
# * The TAESD-style decoder: blur convs first and after each upsample, each
#   conv normalised per channel to unit std on the probe x0 with its mean at
#   +RELU_SHIFT (so the ReLUs pass most of the signal), and the last conv
#   mapped to mean 0.5, per-channel std RGB_STD and channel correlation
#   RGB_CORR: mid-grey, most of the range, colourful.
#
# Nothing here depends on the frame: steering, masks, the noise walk and the
# prompt SLERP act through the same generate function as on the real model.

X0_STD = 0.6          # std of the x0 latent on the probe (the decoder is normalised to it)
SKIP_GAIN = 0.2       # skip inputs of the up path's shortcuts, relative to the deep path
BRANCH_STD = 0.05     # output std of each residual branch of the mid and up blocks
PROMPT_GAIN = 8.0     # cross-attention outputs and time/text embedding projections
RELU_SHIFT = 1.0      # decoder pre-activation mean, in units of its std
RGB_STD = 0.22        # decoded colour std per channel, in [0, 1] (mean 0.5)
RGB_CORR = 0.4        # correlation between the decoded R, G and B
PROBE_PROMPTS = ("", "a photograph of a forest", "a city street at night")
BLUR = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16.0


@torch.no_grad()
def shape_preview(unet, vae, tokenizers, text_encoders, seed: int) -> None:
    """Initialise the preview's weights so that its output is visible (see the notes above)."""
    gen = torch.Generator().manual_seed(seed + 3)
    for module in (unet, vae, *text_encoders):
        module.eval()
    _shape_up_path(unet, gen)
    for name, module in unet.named_modules():
        if name.endswith(("attn2.to_out.0", "time_emb_proj")):
            module.weight *= PROMPT_GAIN
    _identity_noise_path(unet)
    layers = vae.decoder.layers
    _blur_init(layers[0], gen)
    for i, layer in enumerate(layers):
        if isinstance(layer, torch.nn.Upsample):
            _blur_init(layers[i + 1], gen)

    # one probe pass: normalise the up path's writers in order, keep the last resnet's input
    encoder = PromptEncoder(tokenizers, text_encoders, torch.device("cpu"), cache_size=1)
    probes = [encoder.encode(text) for text in PROBE_PROMPTS]
    embeds = torch.cat([e for e, _ in probes])
    pooled = torch.cat([p for _, p in probes])
    noise = torch.cat([seeded_noise(seed + 7 + i, 64) for i in range(len(probes))])
    sigma = SIGMA_MAX
    sample = noise * sigma / (sigma * sigma + 1.0) ** 0.5
    time_ids = torch.tensor([[512.0, 512, 0, 0, 512, 512]] * len(probes))
    cond = dict(encoder_hidden_states=embeds,
                added_cond_kwargs={"text_embeds": pooled, "time_ids": time_ids})
    last = unet.up_blocks[-1].resnets[-1]
    seen = {}
    hooks = [m.register_forward_hook(_normaliser(std, rows, dim))
             for m, std, rows, dim in _writers(unet)]
    hooks += [m.register_forward_pre_hook(_unpadded) for m in unet.modules()
              if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)
              and m is not unet.conv_in and m is not unet.conv_out]
    hooks.append(last.register_forward_pre_hook(lambda m, args: seen.__setitem__("h", args[0])))
    try:
        unet(sample, 999.0, **cond, return_dict=False)
    finally:
        for h in hooks:
            h.remove()
    _readout(unet, seen["h"], sigma, gen)
    x0 = sigma * noise - sigma * unet(sample, 999.0, **cond, return_dict=False)[0]
    _shape_decoder(vae.decoder, x0[:, :, 16:48, 16:48])   # central crops: 256 px each


def _shape_up_path(unet, gen) -> None:
    """Blur upsamplers; shortcuts that carry the deep path at gain 1 and the skip at SKIP_GAIN."""
    hidden = unet.mid_block.resnets[-1].out_channels
    for block in unet.up_blocks:
        for up in block.upsamplers or ():
            _blur_init(up.conv, gen)
        for resnet in block.resnets:            # input: cat(hidden, skip)
            conv = resnet.conv_shortcut
            skip = conv.in_channels - hidden
            w = torch.randn(conv.out_channels, conv.in_channels, generator=gen)
            w[:, :hidden] /= hidden ** 0.5
            w[:, hidden:] *= SKIP_GAIN / skip ** 0.5
            conv.weight.copy_(w[:, :, None, None])
            conv.bias.zero_()
            hidden = resnet.out_channels


def _identity_noise_path(unet) -> None:
    """pred = noise exactly: conv_in -> the last resnet's skip -> conv_out, everything else zero."""
    c = unet.conv_in.in_channels
    w, b = unet.conv_in.weight, unet.conv_in.bias
    w[: 2 * c].zero_()
    b[: 2 * c].zero_()
    last = unet.up_blocks[-1].resnets[-1]
    skip_at = last.conv_shortcut.in_channels - unet.conv_in.out_channels
    shortcut = last.conv_shortcut
    shortcut.weight[: 2 * c].zero_()
    shortcut.bias[: 2 * c].zero_()
    last.conv2.weight[: 2 * c].zero_()          # the branch adds nothing to these channels
    last.conv2.bias[: 2 * c].zero_()
    out = unet.conv_out
    out.weight.zero_()
    out.bias.zero_()
    for i in range(c):                          # channels 2i, 2i+1 = +x_i, -x_i
        w[2 * i, i, 1, 1], w[2 * i + 1, i, 1, 1] = 1.0, -1.0
        for j in (2 * i, 2 * i + 1):
            shortcut.weight[j, skip_at + j, 0, 0] = 1.0
        out.weight[i, 2 * i, 1, 1], out.weight[i, 2 * i + 1, 1, 1] = 1.0, -1.0


def _writers(unet):
    """(module, output std, rows, channel dim) of the writers into the mid and up streams."""
    c2 = 2 * unet.conv_in.in_channels
    last = unet.up_blocks[-1].resnets[-1]
    out = [(r.conv2, BRANCH_STD, slice(None), 1) for r in unet.mid_block.resnets]
    out += [(a.proj_out, BRANCH_STD, slice(None), -1) for a in unet.mid_block.attentions]
    for block in unet.up_blocks:
        for r in block.resnets:
            rows = slice(c2, None) if r is last else slice(None)   # not the noise channels
            out += [(r.conv_shortcut, 1.0, rows, 1), (r.conv2, BRANCH_STD, rows, 1)]
        out += [(a.proj_out, BRANCH_STD, slice(None), -1) for a in getattr(block, "attentions", ())]
        out += [(up.conv, 1.0, slice(None), 1) for up in block.upsamplers or ()]
    return out


def _normaliser(std: float, rows: slice, dim: int):
    """Forward hook: centre each output channel (`rows` of them) and scale the module to `std`."""
    def hook(module, args, out):
        d = dim % out.dim()
        o = out.movedim(d, 0)
        sel = o[rows].double()
        flat = sel.reshape(sel.shape[0], -1)
        mu = flat.mean(dim=1)
        k = std / float((flat - mu[:, None]).pow(2).mean().sqrt().clamp_min(1e-12))
        module.weight[rows] *= k
        if module.bias is not None:
            module.bias[rows] = ((module.bias[rows].double() - mu) * k).float()
            sel = sel - mu.reshape((-1,) + (1,) * (sel.dim() - 1))
        o = o.clone()
        o[rows] = (sel * k).float()
        return o.movedim(0, d)
    return hook


def _readout(unet, h, sigma: float, gen) -> None:
    """Add a random 1x1 readout of the up path to the noise channels, scaled to x0 std X0_STD."""
    c = unet.conv_in.in_channels
    shortcut = unet.up_blocks[-1].resnets[-1].conv_shortcut
    hidden = shortcut.in_channels - unet.conv_in.out_channels
    a = torch.randn(c, hidden, generator=gen) / hidden ** 0.5
    r = torch.einsum("ck,nkhw->nchw", a.double(), h[:, :hidden].double())
    mu, sd = r.mean(dim=(0, 2, 3)), r.std(dim=(0, 2, 3))
    k = X0_STD / (sigma * sd)
    a = (a.double() * k[:, None]).float()
    bias = (mu * k).float()
    for i in range(c):                          # +x - r and -x + r: zero-sum within the group
        shortcut.weight[2 * i, :hidden, 0, 0] = -a[i]
        shortcut.weight[2 * i + 1, :hidden, 0, 0] = a[i]
        shortcut.bias[2 * i], shortcut.bias[2 * i + 1] = bias[i], -bias[i]


def _blur_init(conv, gen) -> None:
    """A random channel mix times a 3x3 binomial blur (an interpolating filter)."""
    mix = torch.randn(conv.out_channels, conv.in_channels, generator=gen) / conv.in_channels ** 0.5
    conv.weight.copy_(mix[:, :, None, None] * BLUR)


def _unpadded(conv, args) -> None:
    """Forward pre-hook: make each tap orthogonal to the input channels' mean.

    Zero padding then reads like the average input, so the convs do not
    draw a frame around the image (a trained network learns that).
    """
    mu = args[0].double().mean(dim=(0, 2, 3))
    if float(mu.norm()) > 1e-6:
        u = (mu / mu.norm()).float()
        conv.weight -= torch.einsum("oikl,i->okl", conv.weight, u)[:, None] * u[None, :, None, None]


def _shape_decoder(decoder, x0) -> None:
    """One probe pass through the decoder, normalising each conv in order (see the notes)."""
    convs = [m for m in decoder.layers.modules() if isinstance(m, torch.nn.Conv2d)]
    final = convs[-1]

    def after(conv, args, out):
        if conv is final:
            return _colour(conv, out)         # the last layer: the decoder's output is not used
        flat = out.transpose(0, 1).reshape(out.shape[1], -1).double()
        mu, sd = flat.mean(dim=1), flat.std(dim=1).clamp_min(1e-12)
        conv.weight /= sd.float()[:, None, None, None]
        if conv.bias is None:
            return out / sd.float()[None, :, None, None]
        conv.bias.copy_((conv.bias.double() - mu) / sd + RELU_SHIFT)
        mu, sd = mu.float()[None, :, None, None], sd.float()[None, :, None, None]
        return (out - mu) / sd + RELU_SHIFT

    hooks = [m.register_forward_pre_hook(_unpadded) for m in convs]
    hooks += [m.register_forward_hook(after) for m in convs]
    try:
        decoder(x0)
    finally:
        for h in hooks:
            h.remove()


def _colour(conv, out) -> None:
    """Map the last conv's output to mean 0.5, std RGB_STD and correlation RGB_CORR per channel."""
    flat = out.transpose(0, 1).reshape(out.shape[1], -1).double()
    mu = flat.mean(dim=1)
    evals, evecs = torch.linalg.eigh(torch.cov(flat))
    white = evecs @ torch.diag(evals.clamp_min(1e-12).rsqrt()) @ evecs.T
    n = out.shape[1]
    target = RGB_STD ** 2 * (RGB_CORR * torch.ones(n, n, dtype=torch.float64)
                             + (1.0 - RGB_CORR) * torch.eye(n, dtype=torch.float64))
    tv, te = torch.linalg.eigh(target)
    a = te @ torch.diag(tv.sqrt()) @ te.T @ white
    conv.weight.copy_(torch.einsum("oc,cikl->oikl", a, conv.weight.double()).float())
    conv.bias.copy_((a @ (conv.bias.double() - mu) + 0.5).float())

"""Album art -> latent: the image the latent destination blends toward.

The image file comes from a patch, so it is untrusted: the header is checked
(is it an image, is it a sane size) before any pixel is decoded. Then it is
centre-cropped to a square, resized to the engine's size and encoded with
the TAESD encoder (input in [-1, 1]; TAESDXL latents need no scaling factor).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .errors import EngineError

MIN_IMAGE_SIDE = 16      # a 1x1 "image" is a mistake, not album art
MAX_IMAGE_SIDE = 6000    # larger is refused before decoding (8000x8000 = 192 MB of RGB)
MAX_FILE_BYTES = 200 << 20


def load_image(path: str | Path, size: int) -> torch.Tensor:
    """(1, 3, size, size) float32 in [-1, 1] from an image file."""
    path = Path(path)
    part = f"latent image {path.name}"
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise EngineError(part, f"file is larger than {MAX_FILE_BYTES >> 20} MB")
        with Image.open(path) as im:
            w, h = im.size                        # header only; nothing decoded yet
            if min(w, h) < MIN_IMAGE_SIDE:
                raise EngineError(part, f"{w}x{h} is too small (at least {MIN_IMAGE_SIDE} px a side)")
            if max(w, h) > MAX_IMAGE_SIDE:
                raise EngineError(part, f"{w}x{h} is too large (at most {MAX_IMAGE_SIDE} px a side)")
            rgb = _square(im.convert("RGB")).resize((size, size), Image.Resampling.LANCZOS)
    except EngineError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as e:
        raise EngineError(part, f"not a readable image ({e})") from None
    except (OSError, ValueError, SyntaxError) as e:  # missing, truncated, or broken file
        raise EngineError(part, f"cannot read {path}: {e}") from None
    pixels = torch.from_numpy(np.asarray(rgb, dtype=np.float32))       # (size, size, 3) 0..255
    return (pixels / 127.5 - 1.0).permute(2, 0, 1)[None].contiguous()


@torch.no_grad()
def encode_image(vae, path: str | Path, size: int) -> torch.Tensor:
    """Album art -> (1, 4, size/8, size/8) float32 latent on the VAE's device."""
    param = next(vae.parameters())
    image = load_image(path, size).to(param.device, param.dtype)  # GPU SYNC (new image only): H2D
    return vae.encode(image, return_dict=False)[0].float()


def _square(im: Image.Image) -> Image.Image:
    w, h = im.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    return im.crop((left, top, left + side, top + side))

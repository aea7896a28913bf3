"""Image codecs for the wire: TurboJPEG at a chosen quality, or raw RGBA.

encode: (H, W, 4) uint8 RGBA -> bytes.  decode: bytes -> the caller's
preallocated (H, W, 4) uint8 buffer (no allocation per frame for raw; the
JPEG decoder writes into `dst` too). JPEG drops alpha; decoding sets it to
255, which is what the engine writes anyway.
"""
from __future__ import annotations

import numpy as np

from .protocol import ProtocolError

QUALITY_MIN, QUALITY_MAX = 10, 100
DEFAULT_QUALITY = 85
_jpeg = None


def _turbo():
    global _jpeg
    if _jpeg is None:
        from turbojpeg import TurboJPEG

        _jpeg = TurboJPEG()
    return _jpeg


def check_codec(codec: str, quality: int) -> None:
    if codec not in ("jpeg", "raw"):
        raise ProtocolError(f"codec {codec!r}: use jpeg or raw")
    if not QUALITY_MIN <= quality <= QUALITY_MAX:
        raise ProtocolError(f"JPEG quality {quality}: use {QUALITY_MIN}..{QUALITY_MAX}")


def encode(rgba: np.ndarray, codec: str, quality: int) -> bytes:
    if codec == "raw":
        return rgba.tobytes()
    from turbojpeg import TJFLAG_ACCURATEDCT, TJPF_RGBA, TJSAMP_420, TJSAMP_444

    # from q90 up, fidelity first: full-resolution colour and the exact DCT (+0.1 dB);
    # below it, 4:2:0 and the fast DCT (about a third cheaper)
    fine = quality >= 90
    return _turbo().encode(rgba, quality=quality, pixel_format=TJPF_RGBA,
                           jpeg_subsample=TJSAMP_444 if fine else TJSAMP_420,
                           flags=TJFLAG_ACCURATEDCT if fine else 0)


def decode_into(data: bytes, codec: str, dst: np.ndarray) -> None:
    """Decode an image of dst's shape into dst; ProtocolError if it is not one."""
    h, w = dst.shape[:2]
    if codec == "raw":
        if len(data) != h * w * 4:
            raise ProtocolError(f"raw image of {len(data)} bytes, expected {h * w * 4} "
                                f"({w}x{h} RGBA)")
        dst.reshape(-1)[:] = np.frombuffer(data, dtype=np.uint8)
        return
    from turbojpeg import TJFLAG_ACCURATEDCT, TJPF_RGBA

    tj = _turbo()
    try:
        width, height, _sub, _cs = tj.decode_header(data)
    except Exception as e:
        raise ProtocolError(f"not a JPEG image ({e})") from None
    if (width, height) != (w, h):
        raise ProtocolError(f"JPEG image is {width}x{height}, expected {w}x{h}")
    try:
        tj.decode(data, pixel_format=TJPF_RGBA, flags=TJFLAG_ACCURATEDCT, dst=dst)
    except Exception as e:
        raise ProtocolError(f"broken JPEG image ({e})") from None

"""A glyph atlas: a monospace font rasterised once, then copied cell by cell.

Pillow draws each glyph once into a fixed cell (cell_h, cell_w) of coverage
0..255; `stamps(fg, bg)` turns the atlas into ready RGBA cells (glyph in fg
over a solid bg), so drawing a character on a terminal screen of colour bg is
one np.copyto of a cell: no blending, no allocation per frame.
"""
from __future__ import annotations

import numpy as np

PRINTABLE = "".join(chr(c) for c in range(32, 127))


class GlyphAtlas:
    def __init__(self, font_path: str, px: int, chars: str = PRINTABLE) -> None:
        from PIL import Image, ImageDraw, ImageFont

        px = max(6, int(px))
        font = ImageFont.truetype(font_path, px)
        chars = "".join(dict.fromkeys(" " + chars))  # unique, space first (index 0 = blank)
        ascent, descent = font.getmetrics()
        self.cell_w = max(1, int(round(font.getlength("M"))))
        self.cell_h = ascent + descent
        self.index = {c: i for i, c in enumerate(chars)}
        self.alpha = np.zeros((len(chars), self.cell_h, self.cell_w), np.uint8)  # (n, h, w)
        for c, i in self.index.items():
            img = Image.new("L", (self.cell_w, self.cell_h), 0)
            ImageDraw.Draw(img).text((0, 0), c, font=font, fill=255)
            self.alpha[i] = np.asarray(img)

    def of(self, c: str) -> int:
        return self.index.get(c, self.index.get("?", 0))

    def stamps(self, fg, bg) -> np.ndarray:
        """(n, cell_h, cell_w, 4) uint8: every glyph in colour fg on colour bg, opaque."""
        a = self.alpha[..., None].astype(np.float32) / 255.0
        rgb = np.asarray(bg, np.float32) * (1.0 - a) + np.asarray(fg, np.float32) * a
        out = np.empty(self.alpha.shape + (4,), np.uint8)
        out[..., :3] = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
        out[..., 3] = 255
        return out

    def text_into(self, canvas: np.ndarray, stamps: np.ndarray, y: int, x: int, text: str) -> None:
        """Write `text` (one line) at (y, x); clipped at the canvas' right edge. Init-time use."""
        h, w = self.cell_h, self.cell_w
        for k, c in enumerate(text):
            x0 = x + k * w
            if x0 + w > canvas.shape[1] or y + h > canvas.shape[0] or x0 < 0 or y < 0:
                break
            canvas[y:y + h, x0:x0 + w] = stamps[self.of(c)]

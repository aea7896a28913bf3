"""The web surface's join card: its URL and a QR code of it, in a small window.

The QR code is made with segno (pure Python) as a module matrix and drawn as
a static texture: black modules on white with the 4-module quiet zone a
phone camera needs. Main thread only (Dear PyGui).
"""
from __future__ import annotations

import dearpygui.dearpygui as dpg
import numpy as np

PX = 5  # pixels per module


def qr_rgba(text: str, px: int = PX) -> np.ndarray:
    """(H, W, 4) float32 in [0, 1]: the QR code of `text`, quiet zone included."""
    import segno

    qr = segno.make(text, error="m")
    dark = np.array([list(row) for row in qr.matrix], dtype=bool)
    dark = np.pad(dark, 4)  # quiet zone
    img = np.where(dark, 0.0, 1.0).astype(np.float32)
    img = np.kron(img, np.ones((px, px), np.float32))
    return np.dstack([img, img, img, np.ones_like(img)])


class JoinCard:
    def __init__(self) -> None:
        self.window: int | None = None
        self.texture: int | None = None
        self.url = ""

    def show(self, url: str) -> None:
        self.hide()
        self.url = url
        rgba = qr_rgba(url)
        h, w = rgba.shape[:2]
        with dpg.texture_registry():
            self.texture = dpg.add_static_texture(w, h, rgba.ravel().tolist())
        with dpg.window(label="web control: scan to join", no_collapse=True, no_saved_settings=True,
                        width=w + 24, height=h + 90, pos=(40, 60),
                        on_close=lambda: self.hide()) as self.window:
            dpg.add_input_text(default_value=url, readonly=True, width=w)
            dpg.add_image(self.texture)

    def hide(self) -> None:
        for item in (self.window, self.texture):
            if item is not None and dpg.does_item_exist(item):
                dpg.delete_item(item)
        self.window = self.texture = None

"""Output view: the engine's frames in the window, and perform mode.

The image lives in one Dear PyGui raw texture whose float32 RGBA buffer is
allocated once per image size and written in place (np.copyto) when a new
frame is due; Dear PyGui uploads that buffer as it draws. The image widget
keeps the frame's aspect ratio inside whatever space it is given (centred,
letterboxed). Below it: frames shown per second, render time, pipeline
latency, dropped and skipped frames, and which model made them (the preview
model is labelled as untrained in orange wherever its frames are shown).

Perform mode (F11 or the button) hides everything else and shows the output
alone, full-window, on a black background; Esc or F11 returns.

A second, separate output window (say, on a projector) is not possible
within one Dear PyGui 2.x process: a context owns exactly one viewport (one
OS window), and Dear PyGui does not expose Dear ImGui's multi-viewport
platform windows. The way to drive a second screen is perform mode on a
window moved there, or a second `hambajuba perform` process.
"""
from __future__ import annotations

from collections import deque

import dearpygui.dearpygui as dpg
import numpy as np

from . import theme

DEFAULT_SIZE = (512, 512)  # (H, W) until the engine says otherwise


def placeholder(h: int, w: int) -> np.ndarray:
    """A dark test card: shown until the engine's first frame."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 4), np.float32)
    img[..., 0] = 0.08 + 0.06 * (x / w)
    img[..., 1] = 0.08 + 0.04 * (y / h)
    img[..., 2] = 0.12 + 0.08 * ((x + y) / (w + h))
    grid = ((x.astype(int) % 64) == 0) | ((y.astype(int) % 64) == 0)
    img[grid, :3] = 0.18
    img[..., 3] = 1.0
    return img


class OutputView:
    def __init__(self) -> None:
        self.size = DEFAULT_SIZE
        self.buffer = placeholder(*self.size)
        self.texture: int | None = None
        self.image: int | None = None
        self.perform_image: int | None = None
        self.perform_window: int | None = None
        self.tags: dict[str, int] = {}
        self.performing = False
        self.frames_shown = 0
        self._shown_times: deque[float] = deque(maxlen=30)
        self._area = (512, 512)
        self._last: dict[str, object] = {}
        self.notice = ""  # the line over the image (tests read it)

    # -- building ----------------------------------------------------------------------
    def build(self, parent) -> None:
        with dpg.texture_registry():
            self.texture = dpg.add_raw_texture(self.size[1], self.size[0], self.buffer,
                                               format=dpg.mvFormat_Float_rgba)
        with dpg.group(parent=parent):
            self.tags["area"] = dpg.add_child_window(width=-1, height=520, border=False,
                                                     no_scrollbar=True)
            self.image = dpg.add_image(self.texture, parent=self.tags["area"], width=512, height=512)
            # over the image: why nothing (or another patch) drives it; see plan_notice.py
            self.tags["notice"] = dpg.add_text("", parent=self.tags["area"], pos=[10, 10],
                                               color=theme.ERROR, wrap=480, show=False)
            with dpg.group(horizontal=True):
                self.tags["model"] = dpg.add_text("engine: starting", color=theme.DIM)
            self.tags["stats"] = dpg.add_text("", color=theme.DIM)
        with dpg.window(show=False, no_title_bar=True, no_move=True, no_resize=True,
                        no_scrollbar=True, no_collapse=True, no_saved_settings=True,
                        no_background=False) as self.perform_window:
            self.perform_image = dpg.add_image(self.texture, width=512, height=512)
            # the model label in the strip under the image (the operator's line is above it)
            self.tags["perform_label"] = dpg.add_text("", color=theme.PREVIEW, pos=[12, 8])
        with dpg.theme() as black:
            with dpg.theme_component(dpg.mvAll):
                dpg.add_theme_color(dpg.mvThemeCol_WindowBg, (0, 0, 0, 255))
                dpg.add_theme_style(dpg.mvStyleVar_WindowPadding, 0, 0)
                dpg.add_theme_style(dpg.mvStyleVar_WindowBorderSize, 0)
        dpg.bind_item_theme(self.perform_window, black)

    # -- frames --------------------------------------------------------------------------
    def show_frame(self, image: np.ndarray, when: float) -> None:
        """Copy a finished float RGBA frame into the texture's buffer, in place."""
        if image.shape[:2] != self.size:
            self._resize(image.shape[:2])
        np.copyto(self.buffer, image)
        self.frames_shown += 1
        self._shown_times.append(when)

    def _resize(self, size: tuple[int, int]) -> None:
        """A new image size (once, when the engine starts): a new texture."""
        old = self.texture
        self.size = (int(size[0]), int(size[1]))
        self.buffer = np.zeros((self.size[0], self.size[1], 4), np.float32)
        with dpg.texture_registry():
            self.texture = dpg.add_raw_texture(self.size[1], self.size[0], self.buffer,
                                               format=dpg.mvFormat_Float_rgba)
        for img in (self.image, self.perform_image):
            dpg.configure_item(img, texture_tag=self.texture)
        if old is not None:
            dpg.delete_item(old)
        self.layout(*self._area)

    def fps(self) -> float:
        ts = self._shown_times
        if len(ts) < 2 or ts[-1] <= ts[0]:
            return 0.0
        return (len(ts) - 1) / (ts[-1] - ts[0])

    # -- layout ---------------------------------------------------------------------------
    def layout(self, width: int, height: int) -> None:
        """Fit the image in width x height, aspect kept, centred."""
        self._area = (width, height)
        dpg.configure_item(self.tags["area"], width=width, height=height)
        dpg.configure_item(self.tags["notice"], wrap=max(100, width - 20))
        w, h, x, y = fit(self.size, width, height)
        dpg.configure_item(self.image, width=w, height=h)
        dpg.set_item_pos(self.image, [x, y])
        if self.performing:
            self._layout_perform()

    def _layout_perform(self) -> None:
        """The image below a thin strip: the operator's line and the model label sit
        above it, never over it (stage_overlay.py)."""
        from .stage_overlay import STRIP_H

        vw, vh = dpg.get_viewport_client_width(), dpg.get_viewport_client_height()
        dpg.configure_item(self.perform_window, pos=[0, 0], width=vw, height=vh)
        w, h, x, y = fit(self.size, vw, vh - 2 * STRIP_H)
        dpg.configure_item(self.perform_image, width=w, height=h)
        dpg.set_item_pos(self.perform_image, [x, y + STRIP_H])

    def set_perform(self, on: bool, main_window) -> None:
        self.performing = on
        dpg.configure_item(self.perform_window, show=on)
        dpg.configure_item(main_window, show=not on)
        if on:
            self._layout_perform()
            vh = dpg.get_viewport_client_height()
            dpg.set_item_pos(self.tags["perform_label"], [12, max(8, vh - 22)])
            dpg.focus_item(self.perform_window)

    # -- text under the image ----------------------------------------------------------------
    def set_model_text(self, text: str, *, preview: bool, error: bool = False) -> None:
        key = (text, preview, error)
        if self._last.get("model") == key:
            return
        self._last["model"] = key
        colour = theme.ERROR if error else theme.PREVIEW if preview else theme.OK
        dpg.set_value(self.tags["model"], text)
        dpg.configure_item(self.tags["model"], color=colour)
        dpg.set_value(self.tags["perform_label"], self.notice or (text if preview or error else ""))

    def set_notice(self, text: str) -> None:
        """A line over the image (and over perform mode's); "" hides it."""
        if self._last.get("notice") == text:
            return
        self._last["notice"] = text
        dpg.set_value(self.tags["notice"], text)
        dpg.configure_item(self.tags["notice"], show=bool(text))
        model = self._last.get("model")  # (text, preview, error): perform mode shows those two
        label = model[0] if model and (model[1] or model[2]) else ""
        dpg.set_value(self.tags["perform_label"], text or label)
        self.notice = text

    def set_stats(self, text: str) -> None:
        if self._last.get("stats") != text:
            self._last["stats"] = text
            dpg.set_value(self.tags["stats"], text)


def fit(size: tuple[int, int], width: int, height: int) -> tuple[int, int, int, int]:
    """(w, h, x, y) of an image of `size` (H, W) fitted into width x height."""
    ih, iw = size
    scale = max(min(width / iw, height / ih), 0.01)
    w, h = max(1, int(iw * scale)), max(1, int(ih * scale))
    return w, h, max(0, (width - w) // 2), max(0, (height - h) // 2)

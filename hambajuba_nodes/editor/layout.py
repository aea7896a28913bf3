"""Window layout: where the viewport opens and how the panels share it.

* The viewport opens inside the X screen it is on: never larger than the
  screen (less room for a title bar) and centred on it. The screen size is
  read from Xlib through ctypes (no extra package); without X (Wayland, a
  test stand-in) the requested size is kept.
* The right column (output image, tabs) takes what the canvas can spare:
  540 px on a wide window, down to 360 px at 1600 px so the default patch's
  five columns (about 1190 px) fit beside it; the feature table takes the height
  left under the image, so the tab's buttons are never cut off.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os

RIGHT_W = 540  # px, the right column (image, tabs)
UI_FPS = 60.0  # the window's frame rate target

TITLE_BAR = 40  # px kept free above/below the window for the window manager's title bar
RIGHT_MAX, RIGHT_MIN = 540, 360  # px of the right column
CANVAS_WANT = 1212  # px of canvas the default patch needs to show all its columns
TRANSPORT_H = 118  # px of menu bar, transport rows and status bar around the body
FEATURE_FIXED = 250  # px of the feature tab besides its table (filters, rows of buttons)


def screen_size() -> tuple[int, int] | None:
    """(width, height) of the default X screen, or None without X."""
    if not os.environ.get("DISPLAY"):
        return None
    try:
        x11 = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XDefaultScreen.argtypes = [ctypes.c_void_p]
        x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        d = x11.XOpenDisplay(None)
        if not d:
            return None
        try:
            n = x11.XDefaultScreen(d)
            return int(x11.XDisplayWidth(d, n)), int(x11.XDisplayHeight(d, n))
        finally:
            x11.XCloseDisplay(d)
    except (OSError, AttributeError):
        return None


def on_screen(width: int, height: int, screen: tuple[int, int] | None = None) -> dict:
    """create_viewport's size and position: inside the screen, centred."""
    screen = screen if screen is not None else screen_size()
    if screen is None:
        return {"width": width, "height": height}
    sw, sh = screen
    w, h = min(width, sw), min(height, max(200, sh - TITLE_BAR))
    return {"width": w, "height": h, "x_pos": max(0, (sw - w) // 2),
            "y_pos": max(0, min((sh - h) // 2, TITLE_BAR // 2))}


def right_width(viewport_w: int) -> int:
    """The right column's width: the canvas keeps CANVAS_WANT px while it can."""
    return int(min(RIGHT_MAX, max(RIGHT_MIN, viewport_w - 28 - CANVAS_WANT)))


def arrange(app) -> None:
    """Size the canvas, the right column, the output image and the feature
    table to the viewport (at start and on every resize)."""
    import dearpygui.dearpygui as dpg

    vw = max(dpg.get_viewport_client_width(), 640)
    vh = max(dpg.get_viewport_client_height(), 400)
    rw = right_width(vw)
    body_h = vh - TRANSPORT_H
    dpg.configure_item(app.left, width=vw - rw - 28, height=body_h)
    dpg.configure_item(app.view.editor, width=vw - rw - 28, height=body_h)
    dpg.configure_item(app.right, width=rw, height=body_h)
    side = int(min(rw - 16, max(160, body_h * 0.52)))
    app.output.layout(rw - 16, side)
    app.features.fit(max(90, body_h - side - FEATURE_FIXED))
    for item in (getattr(app, "messages_text", None), getattr(app, "problems_text", None),
                 getattr(app, "engine_info", None)):
        if item is not None:
            dpg.configure_item(item, wrap=rw - 30)
    app.status_bar.set_width(vw)

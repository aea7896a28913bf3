"""Where each part of hambajuba sits on a canvas of W x H pixels.

All rects are (y, x, h, w) in pixels, worked out once per canvas size and
skin: the body (a rounded box `skin.body_width` times as wide as tall), the
face screen across its top, the heart (a square: the engine's image) in the
middle, two orb slots on each side (bass, drums left; vocals, other right),
and a name plate under the heart for the status line.
"""
from __future__ import annotations

from dataclasses import dataclass

Rect = tuple[int, int, int, int]


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    body: Rect
    screen: Rect
    heart: Rect
    ring: int  # glow ring thickness around the heart, px
    orbs: tuple[Rect, Rect, Rect, Rect]  # bass, drums, vocals, other
    plate: Rect
    antenna: Rect
    feet: tuple[Rect, Rect]
    margin: int


def layout(width: int, height: int, body_width: float, corner: float = 0.0) -> Layout:
    W, H = int(width), int(height)
    top = int(H * 0.09)  # room for an antenna
    body_h = int(H * 0.82)
    body_w = int(min(body_width * body_h, W * 0.96))
    body_h = int(min(body_h, body_w / 1.0))
    bx, by = (W - body_w) // 2, top
    m = max(4, int(body_h * 0.045))
    screen_h = int(body_h * 0.24)
    inset = m + int(corner * body_h * 0.5)  # a round body: keep the screen inside the curve
    screen = (by + m, bx + inset, screen_h, body_w - 2 * inset)
    plate_h = max(12, int(body_h * 0.075))
    heart_top = by + m + screen_h + m
    heart = int(min(body_h - screen_h - plate_h - 4 * m, body_w * 0.48))
    ring = max(3, int(H * 0.012))
    hx = bx + (body_w - heart) // 2
    side = (body_w - heart - 2 * ring) // 2 - 2 * m  # room for orbs on each side
    slot = int(max(8, min(side, (heart - m) // 2)))
    lx = bx + m + (side - slot) // 2 + m // 2
    rx = hx + heart + ring + m + (side - slot) // 2 + m // 2
    oy1 = heart_top + (heart // 2 - slot) // 2
    oy2 = heart_top + heart // 2 + (heart // 2 - slot) // 2
    orbs = ((oy1, lx, slot, slot), (oy2, lx, slot, slot), (oy1, rx, slot, slot),
            (oy2, rx, slot, slot))
    plate = (heart_top + heart + ring + m // 2, hx, plate_h, heart)
    ant_w = max(3, int(H * 0.008))
    antenna = (max(0, by - int(H * 0.06)), bx + body_w // 5, int(H * 0.06), ant_w)
    foot_h, foot_w = max(4, int(H * 0.05)), max(8, int(body_w * 0.14))
    fy = by + body_h - m
    feet = ((fy, bx + body_w // 5, foot_h + m, foot_w),
            (fy, bx + body_w - body_w // 5 - foot_w, foot_h + m, foot_w))
    return Layout(W, H, (by, bx, body_h, body_w), screen, (heart_top, hx, heart, heart), ring,
                  orbs, plate, antenna, feet, m)

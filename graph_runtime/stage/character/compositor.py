"""The character view: hambajuba drawn around the engine's image.

    Compositor(skin, width, height, creature, analysis)  -- prepare: allocates
    .frame(rgba, t, dt) -> (H, W, 4) uint8 canvas          -- per frame: no allocation

Everything that does not move is drawn once into `base` (background, body,
antenna and feet, the face screen, the heart's frame, the name plate, the
garden his creature file has grown). Everything that moves is prepared as
ready-made pixels too, so a frame is a handful of np.copyto calls:

    heart   the engine's image, resized by nearest-neighbour index maps
            built once per image size (none when it already fits)
    glow    the ring around the heart, GLOW_LEVELS pre-blended strips
    face    a terminal grid: each cell is a pre-coloured glyph from the atlas
    orbs    per stem ORB_LEVELS pre-blended sprites of its flower blooming

The returned canvas is the compositor's own buffer, valid until the next
frame (sinks copy it, as they copy the engine's reused buffer).
"""
from __future__ import annotations

import random

import numpy as np

from . import draw
from .atlas import GlyphAtlas
from .creature import Creature
from .drive import STEMS, CharacterDrive
from .layout import layout
from .skin import Skin

GLOW_LEVELS = 16
ORB_LEVELS = 32
APPROX_DIM = 0.45  # approximate stems: dimmer orbs, as the transport's badge warns


def _mix(a, b, f: float) -> tuple:
    return tuple(int(round(x + (y - x) * f)) for x, y in zip(a, b))


class Compositor:
    def __init__(self, skin: Skin, width: int = 1280, height: int = 720,
                 creature: Creature | None = None, analysis=None) -> None:
        self.skin = skin
        self.creature = creature or Creature(seed=0, born="fresh")
        self.layout = L = layout(width, height, skin.body_width, skin.corner_radius)
        self.drive = CharacterDrive(analysis, attack_ms=skin.attack_ms,
                                    release_ms=skin.release_ms)
        self.canvas = np.empty((L.height, L.width, 4), np.uint8)  # (H, W, RGBA)
        self._face_grid()
        self._build()
        self._heart_for: tuple = ()

    # -- prepare --------------------------------------------------------------------------
    def bind(self, analysis) -> None:
        """A new track (or none): re-read its channels; redraw only if the stems' kind changed."""
        was = self.drive.approximate
        self.drive.bind(analysis)
        if self.drive.approximate != was:
            self._build()

    def _face_grid(self) -> None:
        """The terminal face: two big eye glyphs, brows and mouth in a smaller
        font, a prompt in the corner. Rects are fixed; glances move the eyes
        inside their own strip."""
        sy, sx, sh, sw = self.layout.screen
        self.eye_atlas = GlyphAtlas(self.skin.font_path, int(sh * 0.52 / 1.17))
        self.face_atlas = GlyphAtlas(self.skin.font_path, int(sh * 0.25 / 1.17))
        eh, ew = self.eye_atlas.cell_h, self.eye_atlas.cell_w
        fh, fw = self.face_atlas.cell_h, self.face_atlas.cell_w
        top = sy + (sh - fh - eh) // 2
        gap = int(ew * 1.9)
        self.glance_px = max(2, int(ew * 0.3))
        cx = sx + sw // 2
        self.eye_xy = ((top + fh, cx - gap // 2 - ew), (top + fh, cx + gap // 2))
        self.brow_xy = tuple((top, x + (ew - fw) // 2) for _, x in self.eye_xy)
        self.mouth_xy = (top + fh + eh - fh, cx - fw // 2)
        f, a, b = self.skin.face, self.eye_atlas, self.face_atlas
        self.g = {k: (a if k.startswith("eye") else b).of(v) for k, v in f.items()}

    def _build(self) -> None:
        L, col = self.layout, self.skin.colors
        base = np.empty_like(self.canvas)
        base[..., :3] = col["background"]
        base[..., 3] = 255
        self._body(base)
        self.face_stamps = self.face_atlas.stamps(col["text"], col["screen"])
        self.eye_stamps = self.eye_atlas.stamps(col["text"], col["screen"])
        hy, hx, hs, _ = L.heart
        base[hy:hy + hs, hx:hx + hs, :3] = col["heart_frame"]
        self._plate(base)
        self._garden(base)
        self._glow_strips(base)
        self._orb_sprites(base)
        sy, sx, sh, _ = L.screen
        prompt = self.face_atlas
        prompt.text_into(base, self.face_stamps, sy + sh - prompt.cell_h - L.margin // 2,
                         sx + L.margin, "> _")
        self.base = base
        np.copyto(self.canvas, base)
        self._eye_strips, self._eye_bases = [], []
        self._brow_strips, self._brow_bases = [], []
        g, fh, fw = self.glance_px, self.face_atlas.cell_h, self.face_atlas.cell_w
        for k in range(2):  # every place a glance can put an eye or a brow: cleared each frame
            y, x, h, w = self.eye_rect(k)
            self._eye_strips.append(self.canvas[y:y + h, x:x + w])
            self._eye_bases.append(base[y:y + h, x:x + w].copy())
            y, x = self.brow_xy[k]
            self._brow_strips.append(self.canvas[y:y + fh, x - g:x + fw + g])
            self._brow_bases.append(base[y:y + fh, x - g:x + fw + g].copy())

    def _body(self, base: np.ndarray) -> None:
        skin, L, col = self.skin, self.layout, self.skin.colors
        by, bx, bh, bw = L.body
        growth = min(1.0, self.creature.tracks_played / 50.0)  # the antenna grows with tracks
        if skin.antenna:
            ay, ax, ah, aw = L.antenna
            r = aw * 2
            extra = min(int(ah * 0.6 * growth), ay - 2 * r - 2)  # never off the canvas
            draw.paint(base, ay - extra, ax, np.ones((ah + extra, aw), np.float32),
                       col["body_edge"])
            draw.paint(base, ay - extra - r, ax + aw // 2 - r,
                       draw.disc(2 * r, 2 * r, r, r, r), col["glow"])
        if skin.feet:
            for fy, fx, fh, fw in L.feet:
                draw.paint(base, fy, fx, draw.rounded_rect(fh, fw, fh * 0.3), col["body_edge"])
        radius = skin.corner_radius * bh
        edge = max(0, int(round(skin.outline * L.height)))
        draw.paint(base, by, bx, draw.rounded_rect(bh, bw, radius), col["body_edge"])
        draw.paint(base, by + edge, bx + edge,
                   draw.rounded_rect(bh - 2 * edge, bw - 2 * edge, max(0.0, radius - edge)),
                   col["body"])
        sy, sx, sh, sw = L.screen
        draw.paint(base, sy, sx, draw.rounded_rect(sh, sw, min(sh * 0.18, radius)),
                   col["screen"])
        ticks = min(60, self.creature.tracks_played)  # age marks: one per track he has heard
        for k in range(ticks):
            x = sx + 6 + k * max(3, sw // 64)
            base[sy + sh + 2:sy + sh + 2 + max(2, L.margin // 3), x:x + 2, :3] = col["body_edge"]

    def _plate(self, base: np.ndarray) -> None:
        L, col, c = self.layout, self.skin.colors, self.creature
        py, px, ph, pw = L.plate
        base[py:py + ph, px:px + pw, :3] = col["screen"]
        bits = [self.skin.name, f"{c.tracks_played} tracks",
                f"{c.minutes:.0f} min"]
        if c.tempo_max > 0:
            bits.append(f"{c.tempo_min:.0f}-{c.tempo_max:.0f} bpm")
        if self.drive.approximate:
            bits.append("~approx stems")
        text = "  ".join(bits)
        font_px = min(ph * 0.72 / 1.17, pw * 0.94 / max(1, len(text)) / 0.602)  # DejaVu Mono: 0.602 em
        small = GlyphAtlas(self.skin.font_path, int(font_px))
        text = text[: max(1, pw // small.cell_w)]
        x = int(px + (pw - len(text) * small.cell_w) // 2)
        small.text_into(base, small.stamps(col["text"], col["screen"]),
                        py + (ph - small.cell_h) // 2, x, text)

    def _garden(self, base: np.ndarray) -> None:
        """Small flowers grown from his creature file: count from minutes heard,
        colours in proportion to each stem's heard time, places from his seed."""
        L, c = self.layout, self.creature
        n = c.garden()
        if n == 0:
            return
        rng = random.Random(c.seed)
        by, bx, bh, bw = L.body
        hy, hx, hs, _ = L.heart
        size = max(6, int(L.margin * 1.3))
        y0, y1 = L.orbs[1][0] + L.orbs[1][2], by + bh - L.margin - size
        weights = c.stem_weights()
        for _ in range(n):
            left = rng.random() < 0.5
            x0, x1 = (bx + L.margin, hx - L.ring - size - L.margin) if left else \
                (hx + hs + L.ring + L.margin, bx + bw - L.margin - size)
            if x1 <= x0 or y1 <= y0:
                return
            stem = rng.choices(STEMS, weights=weights)[0]
            shape = draw.small_flower(size, rng.choice((4, 5, 6)))
            draw.paint(base, rng.randrange(y0, y1), rng.randrange(x0, x1), shape,
                       self.skin.stems[stem])

    def _glow_strips(self, base: np.ndarray) -> None:
        L, col = self.layout, self.skin.colors
        hy, hx, hs, _ = L.heart
        g = L.ring
        self.glow = []  # per level: (top, bottom, left, right) strips
        for k in range(GLOW_LEVELS):
            c = _mix(col["heart_frame"], col["glow"], 0.15 + 0.85 * k / (GLOW_LEVELS - 1))
            top = np.empty((g, hs + 2 * g, 4), np.uint8)
            top[..., :3], top[..., 3] = c, 255
            side = np.empty((hs, g, 4), np.uint8)
            side[..., :3], side[..., 3] = c, 255
            self.glow.append((top, top, side, side))
        self._glow_rects = ((hy - g, hx - g), (hy + hs, hx - g), (hy, hx - g), (hy, hx + hs))
        self._glow_views = [self.canvas[y:y + s.shape[0], x:x + s.shape[1]]
                            for (y, x), s in zip(self._glow_rects, self.glow[0])]

    def _orb_sprites(self, base: np.ndarray) -> None:
        skin, L, c = self.skin, self.layout, self.creature
        dim = APPROX_DIM if self.drive.approximate else 1.0
        self.orb_sprites = []  # per stem: (ORB_LEVELS, s, s, 4) uint8 over the base
        self._orb_views = []
        for k, stem in enumerate(STEMS):
            y, x, s, _ = L.orbs[k]
            color = tuple(int(v * dim) for v in skin.stems[stem])
            under = base[y:y + s, x:x + s].copy()
            petals = c.petals(stem, skin.petals)
            sprites = np.empty((ORB_LEVELS, s, s, 4), np.uint8)
            for lv in range(ORB_LEVELS):
                body, halo = draw.flower(s, skin.orb_style, petals, lv / (ORB_LEVELS - 1),
                                         skin.orb_glow)
                img = under.copy()
                draw.paint(img, 0, 0, np.clip(halo * 0.6, 0, 1), color)
                draw.paint(img, 0, 0, body, color)
                sprites[lv] = img
            self.orb_sprites.append(sprites)
            self._orb_views.append(self.canvas[y:y + s, x:x + s])
            base[y:y + s, x:x + s] = sprites[0]

    # -- per frame ------------------------------------------------------------------------
    def frame(self, rgba: np.ndarray | None, t: float, dt: float) -> np.ndarray:
        """Step the drive to track time t and draw; rgba: the engine's (h, w, 4) uint8 image."""
        d = self.drive
        d.step(t, dt)
        if rgba is not None:
            self._heart(rgba)
        lv = int(d.pulse * (GLOW_LEVELS - 1) + 0.5)
        for view, strip in zip(self._glow_views, self.glow[lv]):
            np.copyto(view, strip)
        self._face()
        for k in range(len(STEMS)):
            lv = int(d.orbs[k] * (ORB_LEVELS - 1) + 0.5)
            np.copyto(self._orb_views[k], self.orb_sprites[k][min(ORB_LEVELS - 1, lv)])
        return self.canvas

    def _heart(self, rgba: np.ndarray) -> None:
        hy, hx, hs, _ = self.layout.heart
        view = self.canvas[hy:hy + hs, hx:hx + hs]
        if rgba.shape[:2] == (hs, hs):
            np.copyto(view, rgba[..., :4])
            return
        if self._heart_for != rgba.shape:  # a new image size: index maps (not per frame)
            h, w = rgba.shape[:2]
            self._rows = ((np.arange(hs) + 0.5) * h / hs).astype(np.intp)
            self._cols = ((np.arange(hs) + 0.5) * w / hs).astype(np.intp)
            self._tmp_rows = np.empty((hs, w, rgba.shape[2]), np.uint8)
            self._tmp_heart = np.empty((hs, hs, rgba.shape[2]), np.uint8)
            self._heart_for = rgba.shape
        np.take(rgba, self._rows, axis=0, out=self._tmp_rows, mode="clip")
        np.take(self._tmp_rows, self._cols, axis=1, out=self._tmp_heart, mode="clip")
        np.copyto(view, self._tmp_heart[..., :4])

    def _face(self) -> None:
        d, g = self.drive, self.g
        wide = d.wide > 0.3
        eye = g["eye_closed"] if d.blink else (g["eye_wide"] if wide else g["eye_open"])
        brow = g["brow_raised"] if wide else g["brow"]
        shift = d.glance * self.glance_px
        for k in range(len(self.eye_xy)):
            strip = self._eye_strips[k]
            np.copyto(strip, self._eye_bases[k])  # clear where the eye was
            np.copyto(strip[:, self.glance_px + shift:self.glance_px + shift
                            + self.eye_atlas.cell_w], self.eye_stamps[eye])
            strip = self._brow_strips[k]
            np.copyto(strip, self._brow_bases[k])
            np.copyto(strip[:, self.glance_px + shift:self.glance_px + shift
                            + self.face_atlas.cell_w], self.face_stamps[brow])
        my, mx = self.mouth_xy
        self._put(my, mx, self.face_stamps[g["mouth_open"] if (d.mouth or wide)
                                           else g["mouth_calm"]])

    def _put(self, y: int, x: int, stamp: np.ndarray) -> None:
        np.copyto(self.canvas[y:y + stamp.shape[0], x:x + stamp.shape[1]], stamp)

    # -- for tests and docs --------------------------------------------------------------------
    def eye_rect(self, which: int = 0) -> tuple[int, int, int, int]:
        """(y, x, h, w) of an eye's strip (every place a glance can put it)."""
        ey, ex = self.eye_xy[which]
        return ey, ex - self.glance_px, self.eye_atlas.cell_h, \
            self.eye_atlas.cell_w + 2 * self.glance_px

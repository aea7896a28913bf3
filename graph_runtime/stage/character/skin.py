"""Skins: what hambajuba looks like, as a small shareable file or folder.

A skin is UTF-8 JSON (`hambajuba.skin`, version 1): a single `mine.skin`
file, or a folder holding `skin.json` (and, optionally, the .ttf it names).
It is data from strangers: only these fields are read, every value is checked
and bounded, and a font is only ever read from inside the skin's own folder
(or is the bundled one). See docs/skins.md for the format.

`load_skin(NAME|PATH)` -> Skin, or raises SkinError with one line naming the
file and the field ("candy.skin: colors.body: 'pink' is not a colour #rrggbb").
Imports only the standard library.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLED_DIR = os.path.join(HERE, "skins")
BUNDLED_FONT = os.path.join(HERE, "fonts", "DejaVuSansMono.ttf")
DEFAULT_SKIN = "terminal"
MAX_SKIN_BYTES = 64 * 1024  # a skin is a few hundred bytes; refuse anything huge before reading
MAX_FONT_BYTES = 8 * 1024 * 1024

# the write-up's stem colours: bass warm orange, drums magenta, vocals cyan, other green
STEM_COLORS = {"bass": (255, 140, 40), "drums": (255, 40, 200), "vocals": (40, 230, 255),
               "other": (90, 240, 90)}
COLOR_NAMES = ("background", "body", "body_edge", "screen", "text", "glow", "heart_frame")
FACE_GLYPHS = ("eye_open", "eye_closed", "eye_wide", "brow", "brow_raised", "mouth_calm",
               "mouth_open")
ORB_STYLES = ("petals", "rings", "stars")
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


class SkinError(Exception):
    """One line naming the skin file and the field."""


@dataclass(frozen=True)
class Skin:
    name: str
    path: str  # the file read
    colors: dict[str, tuple[int, int, int]]
    stems: dict[str, tuple[int, int, int]]
    face: dict[str, str]  # one glyph each (FACE_GLYPHS)
    corner_radius: float  # of the body, share of its height, 0 (box) .. 0.5 (pill)
    body_width: float  # of the canvas height
    outline: float  # body edge thickness, share of the canvas height
    antenna: bool
    feet: bool
    orb_style: str
    petals: int  # petals of a fresh flower (his creature adds more as he hears the stem)
    orb_glow: float  # 0..1
    attack_ms: float  # orb physics: rise and fall time constants
    release_ms: float
    font_path: str
    description: str = ""
    extra: dict = field(default_factory=dict)


def bundled_skins() -> list[str]:
    return sorted(f[:-5] for f in os.listdir(BUNDLED_DIR) if f.endswith(".skin"))


def resolve_skin_path(spec: str | None) -> str:
    """NAME (a bundled skin) or PATH (a .skin file, or a folder with skin.json)."""
    spec = spec or DEFAULT_SKIN
    if os.path.isdir(spec):
        return os.path.join(spec, "skin.json")
    if os.path.isfile(spec):
        return spec
    if re.fullmatch(r"[A-Za-z0-9_-]+", spec) and spec in bundled_skins():
        return os.path.join(BUNDLED_DIR, spec + ".skin")
    raise SkinError(f"--skin {spec}: no such skin; give one of {', '.join(bundled_skins())} "
                    "or a .skin file / skin folder")


def load_skin(spec: str | None = None) -> Skin:
    path = resolve_skin_path(spec)
    label = os.path.basename(path) if os.path.basename(path) != "skin.json" else \
        os.path.join(os.path.basename(os.path.dirname(path)), "skin.json")
    try:
        if os.path.getsize(path) > MAX_SKIN_BYTES:
            raise SkinError(f"{label}: larger than {MAX_SKIN_BYTES // 1024} kB; not a skin")
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise SkinError(f"{label}: no such file (a skin folder holds skin.json)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SkinError(f"{label}: cannot read it ({e})") from None
    except json.JSONDecodeError as e:
        raise SkinError(f"{label}: not JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    return _parse(doc, path, label)


# -- checking fields -----------------------------------------------------------------------

class _Reader:
    def __init__(self, label: str) -> None:
        self.label = label

    def fail(self, where: str, what: str) -> SkinError:
        return SkinError(f"{self.label}: {where}: {what}")

    def table(self, doc: dict, key: str, where: str, required: bool = True) -> dict:
        v = doc.get(key)
        if v is None and not required:
            return {}
        if not isinstance(v, dict):
            raise self.fail(where, "missing" if v is None else "must be an object {...}")
        return v

    def color(self, doc: dict, key: str, where: str, default=None) -> tuple[int, int, int]:
        v = doc.get(key, default)
        if isinstance(v, tuple):
            return v
        if v is None:
            raise self.fail(where, "missing (a colour #rrggbb)")
        if not isinstance(v, str) or not _HEX.match(v):
            raise self.fail(where, f"{v!r} is not a colour #rrggbb")
        return tuple(int(v[i:i + 2], 16) for i in (1, 3, 5))

    def number(self, doc: dict, key: str, where: str, lo: float, hi: float, default=None) -> float:
        v = doc.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
            raise self.fail(where, "missing (a number)" if v is None else f"{v!r} is not a number")
        if not lo <= v <= hi:
            raise self.fail(where, f"{v:g} is out of range {lo:g}..{hi:g}")
        return float(v)

    def flag(self, doc: dict, key: str, where: str, default: bool) -> bool:
        v = doc.get(key, default)
        if not isinstance(v, bool):
            raise self.fail(where, f"{v!r} must be true or false")
        return v

    def glyph(self, doc: dict, key: str, where: str) -> str:
        v = doc.get(key)
        if not isinstance(v, str) or len(v) != 1 or not v.isprintable():
            raise self.fail(where, "missing (one printable character)" if v is None
                            else f"{v!r} must be one printable character")
        return v


def _parse(doc: Any, path: str, label: str) -> Skin:
    r = _Reader(label)
    if not isinstance(doc, dict):
        raise SkinError(f"{label}: must be a JSON object with \"format\": \"hambajuba.skin\"")
    if doc.get("format") != "hambajuba.skin":
        raise r.fail("format", f"{doc.get('format')!r} must be \"hambajuba.skin\"")
    if doc.get("version") != 1:
        raise r.fail("version", f"{doc.get('version')!r} is not a version this build reads (1)")
    name = doc.get("name")
    if not isinstance(name, str) or not 0 < len(name) <= 40 or not name.isprintable():
        raise r.fail("name", "missing or not a short name (1..40 printable characters)")
    colors_doc = r.table(doc, "colors", "colors")
    colors = {k: r.color(colors_doc, k, f"colors.{k}") for k in COLOR_NAMES}
    stems_doc = r.table(doc, "stems", "stems", required=False)
    for k in stems_doc:
        if k not in STEM_COLORS:
            raise r.fail(f"stems.{k}", f"unknown stem; use {', '.join(STEM_COLORS)}")
    stems = {k: r.color(stems_doc, k, f"stems.{k}", default=v) for k, v in STEM_COLORS.items()}
    face_doc = r.table(doc, "face", "face")
    face = {k: r.glyph(face_doc, k, f"face.{k}") for k in FACE_GLYPHS}
    body = r.table(doc, "body", "body")
    orbs = r.table(doc, "orbs", "orbs")
    style = orbs.get("style")
    if style not in ORB_STYLES:
        raise r.fail("orbs.style", f"{style!r} must be one of {', '.join(ORB_STYLES)}")
    return Skin(
        name=name, path=os.path.abspath(path), colors=colors, stems=stems, face=face,
        corner_radius=r.number(body, "corner_radius", "body.corner_radius", 0.0, 0.5),
        body_width=r.number(body, "width", "body.width", 1.0, 1.75),
        outline=r.number(body, "outline", "body.outline", 0.0, 0.03, default=0.006),
        antenna=r.flag(body, "antenna", "body.antenna", False),
        feet=r.flag(body, "feet", "body.feet", False),
        orb_style=style,
        petals=int(r.number(orbs, "petals", "orbs.petals", 3, 12)),
        orb_glow=r.number(orbs, "glow", "orbs.glow", 0.0, 1.0, default=0.5),
        attack_ms=r.number(orbs, "attack_ms", "orbs.attack_ms", 1.0, 40.0, default=30.0),
        release_ms=r.number(orbs, "release_ms", "orbs.release_ms", 20.0, 180.0, default=160.0),
        font_path=_font(doc, path, r),
        description=str(doc.get("description", ""))[:200])


def _font(doc: dict, path: str, r: _Reader) -> str:
    """The bundled font, or a .ttf/.otf inside the skin's own folder (never outside it)."""
    v = doc.get("font", "bundled")
    if v == "bundled":
        return BUNDLED_FONT
    if not isinstance(v, str) or not v.lower().endswith((".ttf", ".otf")):
        raise r.fail("font", f"{v!r} must be \"bundled\" or a .ttf/.otf file in the skin's folder")
    if os.path.basename(path) != "skin.json":
        raise r.fail("font", "a single-file skin uses the bundled font; put the skin and its "
                     "font in a folder (skin.json + the .ttf) to ship a font")
    folder = os.path.realpath(os.path.dirname(path))
    font = os.path.realpath(os.path.join(folder, v))
    if os.path.dirname(font) != folder:
        raise r.fail("font", f"{v!r} must be a file directly in the skin's folder")
    if not os.path.isfile(font):
        raise r.fail("font", f"{v!r}: no such file in the skin's folder")
    if os.path.getsize(font) > MAX_FONT_BYTES:
        raise r.fail("font", f"{v!r} is larger than {MAX_FONT_BYTES >> 20} MB")
    return font

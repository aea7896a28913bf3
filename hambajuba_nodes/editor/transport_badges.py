"""Badges in the transport: what the analysis of this track really is.

A performer looks at the transport, not at stderr: when the stems are the
approximate separation (HPSS + band filters; no Demucs weights, no --stems)
a yellow "approximate stems" badge says that vocals and other are rough, and
its tooltip says how to get real ones. A fallback beat tracker gets a badge
too. The facts come from the analysis' meta (separator, beat_tracker,
pitch_tracker), as the analysis pipeline records them.
"""
from __future__ import annotations

from typing import Any

from . import theme

APPROX = "approximate stems: vocals/other are rough"
REAL_STEMS = ("Real stems, either of:\n"
              "  - put the htdemucs_ft weights in the Hugging Face cache (adefossez/HTDemucs-ft),\n"
              "    or pass --demucs-weights DIR to `hambajuba perform` / `analyze`;\n"
              "  - export the stems from your DAW and pass --stems DIR\n"
              "    (bass, drums, vocals, other as audio files).\n"
              "Then open the track again: the analysis is redone once and cached.")
FALLBACK_BEATS = "fallback beats"
FALLBACK_TIP = ("beat_this is not installed here (or its checkpoint is missing): beats come from "
                "a simple onset tracker; bars may be off. Tap or nudge the grid, or install beat_this.")


def analysis_tools(analysis: Any) -> dict:
    """{separator, beat_tracker, pitch_tracker} of an analysis, as far as it says."""
    meta = getattr(analysis, "meta", None) or {}
    return {k: meta.get(k) for k in ("separator", "beat_tracker", "pitch_tracker")}


class Badges:
    def __init__(self, transport) -> None:
        self.tr = transport
        self.tags: dict[str, int] = {}
        self._for: Any = object()  # the analysis the badges describe
        self.shown: list[str] = []  # badge texts on screen (tests read it)

    def build(self) -> None:
        import dearpygui.dearpygui as dpg

        t = self.tags
        badge = _badge_theme()
        t["stems"] = dpg.add_button(label=f" {APPROX} ", small=True, show=False)
        dpg.bind_item_theme(t["stems"], badge)
        with dpg.tooltip(t["stems"]):
            dpg.add_text(REAL_STEMS, wrap=560)
        t["beats"] = dpg.add_button(label=f" {FALLBACK_BEATS} ", small=True, show=False)
        dpg.bind_item_theme(t["beats"], badge)
        with dpg.tooltip(t["beats"]):
            dpg.add_text(FALLBACK_TIP, wrap=480)

    def update(self) -> None:
        """Cheap when nothing changed: compares one object identity."""
        import dearpygui.dearpygui as dpg

        a = self.tr.analysis
        if a is self._for or not self.tags:
            return
        self._for = a
        tools = analysis_tools(a)
        approx = tools["separator"] == "approx"
        fallback = tools["beat_tracker"] == "fallback"
        dpg.configure_item(self.tags["stems"], show=approx)
        dpg.configure_item(self.tags["beats"], show=fallback)
        self.shown = [APPROX] * approx + [FALLBACK_BEATS] * fallback


def _badge_theme():
    import dearpygui.dearpygui as dpg

    with dpg.theme() as th:
        with dpg.theme_component(dpg.mvButton):
            dpg.add_theme_color(dpg.mvThemeCol_Button, (90, 70, 20, 255))
            dpg.add_theme_color(dpg.mvThemeCol_ButtonHovered, (120, 95, 30, 255))
            dpg.add_theme_color(dpg.mvThemeCol_ButtonActive, (120, 95, 30, 255))
            dpg.add_theme_color(dpg.mvThemeCol_Text, theme.WARNING)
    return th

"""The look: port kinds and node families have colours, the window is dark.

Colours are RGBA 0-255. Every theme is created once (after the Dear PyGui
context exists) and bound to items; nothing here runs per frame.
"""
from __future__ import annotations

import dearpygui.dearpygui as dpg

# port kind -> (colour, pin shape)
KIND_COLOURS = {
    "signal": (80, 200, 230, 255),
    "trigger": (245, 190, 60, 255),
    "mask": (205, 110, 240, 255),
    "stem": (110, 215, 120, 255),
}
KIND_SHAPES = {
    "signal": "mvNode_PinShape_CircleFilled",
    "trigger": "mvNode_PinShape_TriangleFilled",
    "mask": "mvNode_PinShape_QuadFilled",
    "stem": "mvNode_PinShape_Circle",
}
# node family -> title bar colour
FAMILY_COLOURS = {
    "audio": (46, 120, 70, 255),
    "physics": (40, 90, 150, 255),
    "dance": (110, 70, 150, 255),
    "ensemble": (120, 90, 40, 255),
    "masks": (130, 60, 130, 255),
    "mask": (130, 60, 130, 255),
    "destinations": (160, 90, 40, 255),
    "destination": (160, 90, 40, 255),
    "noise": (60, 110, 120, 255),
    "sae": (160, 50, 60, 255),
    "sinks": (160, 50, 60, 255),
    "time": (70, 80, 130, 255),
    "logic": (130, 110, 40, 255),
    "values": (75, 75, 85, 255),
    "math": (75, 75, 85, 255),
    "shape": (65, 95, 95, 255),
    "ui": (110, 100, 55, 255),
}
DEFAULT_FAMILY = (70, 70, 80, 255)
ERROR = (230, 80, 70, 255)
WARNING = (235, 185, 70, 255)
OK = (120, 210, 130, 255)
DIM = (150, 150, 160, 255)
PREVIEW = (255, 170, 60, 255)


class Themes:
    """All themes, built once; look them up by kind or family."""

    def __init__(self) -> None:
        self.pin: dict[str, int] = {}
        self.link: dict[str, int] = {}
        self.family: dict[str, int] = {}
        for kind, col in KIND_COLOURS.items():
            self.pin[kind] = _node_theme({dpg.mvNodeCol_Pin: col, dpg.mvNodeCol_PinHovered: _lighter(col)})
            self.link[kind] = _node_theme({dpg.mvNodeCol_Link: col,
                                           dpg.mvNodeCol_LinkHovered: _lighter(col),
                                           dpg.mvNodeCol_LinkSelected: (255, 255, 255, 255)})
        self.error_node = _title_theme(ERROR, (60, 30, 30, 255))
        # a link whose node or port is missing: red, thick enough to click
        self.broken_link = _node_theme({dpg.mvNodeCol_Link: ERROR, dpg.mvNodeCol_LinkHovered: _lighter(ERROR),
                                        dpg.mvNodeCol_LinkSelected: (255, 255, 255, 255)})
        self.placeholder_node = _title_theme((120, 120, 120, 255), (50, 40, 40, 255))
        self.comment_node = _title_theme((150, 135, 60, 255), (58, 54, 36, 255))
        self.error_text = ERROR
        self.global_theme = _global_theme()

    def family_theme(self, family: str) -> int:
        if family not in self.family:
            col = FAMILY_COLOURS.get(family, DEFAULT_FAMILY)
            self.family[family] = _title_theme(col, None)
        return self.family[family]

    def shape(self, kind: str) -> int:
        return getattr(dpg, KIND_SHAPES.get(kind, "mvNode_PinShape_CircleFilled"))


def _lighter(col):
    return tuple(min(255, int(c * 1.3) + 20) for c in col[:3]) + (255,)


def _node_theme(colours: dict) -> int:
    with dpg.theme() as th:
        with dpg.theme_component(dpg.mvAll):
            for key, col in colours.items():
                dpg.add_theme_color(key, col, category=dpg.mvThemeCat_Nodes)
    return th


def _title_theme(col, background) -> int:
    colours = {dpg.mvNodeCol_TitleBar: col, dpg.mvNodeCol_TitleBarHovered: _lighter(col),
               dpg.mvNodeCol_TitleBarSelected: _lighter(col)}
    if background is not None:
        colours[dpg.mvNodeCol_NodeBackground] = background
    return _node_theme(colours)


def _global_theme() -> int:
    with dpg.theme() as th:
        with dpg.theme_component(dpg.mvAll):
            dpg.add_theme_color(dpg.mvThemeCol_WindowBg, (22, 22, 27, 255))
            dpg.add_theme_color(dpg.mvThemeCol_ChildBg, (26, 26, 32, 255))
            dpg.add_theme_color(dpg.mvThemeCol_FrameBg, (44, 44, 54, 255))
            dpg.add_theme_color(dpg.mvThemeCol_Button, (54, 58, 74, 255))
            dpg.add_theme_color(dpg.mvThemeCol_ButtonHovered, (74, 80, 104, 255))
            dpg.add_theme_color(dpg.mvThemeCol_PlotHistogram, (80, 200, 230, 255))
            dpg.add_theme_color(dpg.mvThemeCol_PlotLines, (80, 200, 230, 255))
            dpg.add_theme_style(dpg.mvStyleVar_FrameRounding, 3)
            dpg.add_theme_style(dpg.mvStyleVar_FramePadding, 5, 3)
            dpg.add_theme_style(dpg.mvStyleVar_ItemSpacing, 6, 4)
            dpg.add_theme_color(dpg.mvNodeCol_GridBackground, (24, 24, 30, 255),
                                category=dpg.mvThemeCat_Nodes)
            dpg.add_theme_color(dpg.mvNodeCol_GridLine, (38, 38, 46, 255),
                                category=dpg.mvThemeCat_Nodes)
            dpg.add_theme_color(dpg.mvNodeCol_NodeBackground, (40, 40, 48, 255),
                                category=dpg.mvThemeCat_Nodes)
            dpg.add_theme_color(dpg.mvNodeCol_NodeBackgroundHovered, (48, 48, 58, 255),
                                category=dpg.mvThemeCat_Nodes)
            dpg.add_theme_color(dpg.mvNodeCol_NodeBackgroundSelected, (56, 56, 70, 255),
                                category=dpg.mvThemeCat_Nodes)
            dpg.add_theme_color(dpg.mvNodeCol_NodeOutline, (90, 90, 110, 255),
                                category=dpg.mvThemeCat_Nodes)
            dpg.add_theme_style(dpg.mvNodeStyleVar_NodeCornerRounding, 4,
                                category=dpg.mvThemeCat_Nodes)
            dpg.add_theme_style(dpg.mvNodeStyleVar_PinCircleRadius, 4.5,
                                category=dpg.mvThemeCat_Nodes)
            dpg.add_theme_style(dpg.mvNodeStyleVar_LinkThickness, 2.5,
                                category=dpg.mvThemeCat_Nodes)
    return th

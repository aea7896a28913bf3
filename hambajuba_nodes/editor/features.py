"""Feature browser: find one of the 4 x 5,120 SAE features and give it to a sink.

Three ways in, as the write-up's picker has them:
* search: every word of the text in the label or category, optionally one
  block, one category, a minimum confidence;
* neighbourhood: the ~200 features whose decoder directions are closest (by
  cosine) to the current one, i.e. what steers alike;
* direct id: type a number.

A click on a row only selects it (a mis-click after a scroll must not change
the show); Assign, a double-click on the row or Enter gives it to the target
sink: its `block` and `feature_id` (one command, one undo step). "Preview"
asks the engine for one frame of that feature alone on the current prompt,
shown beside the list. A feature without a label is still listed by number.

`FeatureIndex` is pure (tested without a window); `FeatureBrowser` is the panel.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from graph_runtime.engine.protocol import FrameEngine
from graph_runtime.graph.frame import BLOCKS, N_FEATURES

from . import theme

CONFIDENCE = ("low", "medium", "high")
DOUBLE_CLICK_S = 0.45  # two clicks on one row within this are a double-click
MAX_ROWS = 200
NEIGHBOURS = 200


@dataclass(frozen=True)
class Row:
    block: str
    id: int
    label: str
    category: str
    confidence: str
    score: float | None = None  # cosine, in the neighbourhood view

    @property
    def haystack(self) -> str:
        return f"{self.label} {self.category}".lower()


class FeatureIndex:
    """All features of all blocks, searchable. labels: an engine Labels (or
    anything with `by_block[block][id]` records) or None; decoders: a
    callable block -> (d_model, n_features) tensor, or None."""

    def __init__(self, labels: Any = None, decoders: Callable[[str], Any] | None = None,
                 n_features: int = N_FEATURES,
                 ranked: Callable[[str, int, int], tuple[list, list]] | None = None) -> None:
        """ranked: (block, id, k) -> (ids, cosines), for an engine whose decoders are
        elsewhere (a remote engine ranks on its server)."""
        self.n_features = n_features
        self.decoders, self.ranked = decoders, ranked
        self.source = getattr(labels, "source", "no labels")
        by_block = getattr(labels, "by_block", None) or {}
        self.rows: dict[str, list[Row]] = {}
        self._hay: dict[str, list[str]] = {}
        for b in BLOCKS:
            recs = by_block.get(b, {})
            rows = []
            for fid in range(n_features):
                r = recs.get(fid)
                rows.append(Row(b, fid, r.label, r.category, str(r.confidence)) if r is not None
                            else Row(b, fid, f"feature {fid}", "unlabeled", "low"))
            self.rows[b] = rows
            self._hay[b] = [r.haystack for r in rows]
        self._unit: dict[str, Any] = {}
        cats = {r.category for rows in self.rows.values() for r in rows}
        self.categories = sorted(cats)

    def row(self, block: str, fid: int) -> Row | None:
        if block not in self.rows or not 0 <= fid < self.n_features:
            return None
        return self.rows[block][fid]

    def search(self, text: str = "", *, block: str | None = None, category: str | None = None,
               min_confidence: str = "low", limit: int = MAX_ROWS) -> tuple[list[Row], int]:
        """(rows, total matches). A number matches that id in every block."""
        text = text.strip().lower()
        if text.isdigit():
            fid = int(text)
            rows = [self.rows[b][fid] for b in ([block] if block else BLOCKS)
                    if 0 <= fid < self.n_features]
            return rows, len(rows)
        words = text.split()
        floor = CONFIDENCE.index(min_confidence) if min_confidence in CONFIDENCE else 0
        out: list[Row] = []
        total = 0
        for b in ([block] if block else BLOCKS):
            hay = self._hay[b]
            for i, row in enumerate(self.rows[b]):
                if words and not all(w in hay[i] for w in words):
                    continue
                if category and row.category != category:
                    continue
                if floor and _conf(row.confidence) < floor:
                    continue
                total += 1
                if len(out) < limit:
                    out.append(row)
        return out, total

    def neighbours(self, block: str, fid: int, k: int = NEIGHBOURS) -> list[Row]:
        """The k features of `block` closest to `fid` by decoder cosine, best
        first, the feature itself first (score 1)."""
        if self.decoders is None:
            if self.ranked is None:
                return []
            ids, scores = self.ranked(block, fid, k)
            return [Row(r.block, r.id, r.label, r.category, r.confidence, float(v))
                    for r, v in ((self.rows[block][i], v) for i, v in zip(ids, scores)
                                 if 0 <= i < self.n_features)]
        import torch

        unit = self._unit.get(block)
        if unit is None:
            dec = self.decoders(block).detach().float().cpu()  # (d_model, n_features)
            unit = dec / dec.norm(dim=0, keepdim=True).clamp_min(1e-12)
            self._unit[block] = unit
        with torch.no_grad():
            cos = unit[:, fid] @ unit
            cos[fid] = 2.0  # itself first, whatever ties there are
            vals, idx = cos.topk(min(k + 1, unit.shape[1]))
        rows = []
        for i, v in zip(idx.tolist(), vals.clamp(max=1.0).tolist()):
            r = self.rows[block][i]
            rows.append(Row(r.block, r.id, r.label, r.category, r.confidence, float(v)))
        return rows


def _conf(c: str) -> int:
    return CONFIDENCE.index(c) if c in CONFIDENCE else 0


def engine_index(engine: FrameEngine) -> FeatureIndex:
    """A FeatureIndex over an engine's labels and SAE decoders (a remote engine
    ranks neighbours on its server)."""
    saes = engine.parts.saes if engine.parts is not None else None
    decoders = (lambda b: saes[b].decoder) if saes else None
    ranked = engine.neighbours if decoders is None else None
    return FeatureIndex(engine.labels, decoders, engine.n_features, ranked)


class FeatureBrowser:
    """The panel. `target` is the sink picks go to (the app keeps it to the
    last selected SAE block sink)."""

    def __init__(self, *, on_pick: Callable[[str, str, int], str | None],
                 on_preview: Callable[[str, int, float], str | None],
                 status: Callable[[str, str], None]) -> None:
        self.on_pick = on_pick
        self.on_preview = on_preview
        self.status = status
        self.index = FeatureIndex()
        self.target: str | None = None
        self.current: Row | None = None
        self.tags: dict[str, int] = {}
        self.rows_shown: list[Row] = []
        self.preview_texture = None
        self.armed = False  # a row was clicked since the last assign: Enter assigns it
        self._row_item: int | None = None  # the highlighted selectable
        self._last_click: tuple[Any, float] = (None, 0.0)

    def build(self, parent) -> None:
        import dearpygui.dearpygui as dpg

        t = self.tags
        with dpg.group(parent=parent):
            t["target"] = dpg.add_text("target: select an SAE block node", color=theme.DIM)
            with dpg.group(horizontal=True):
                t["block"] = dpg.add_combo(["all blocks"] + list(BLOCKS), default_value="all blocks",
                                           width=110, callback=self.refresh)
                t["category"] = dpg.add_combo(["any category"], default_value="any category",
                                              width=130, callback=self.refresh)
                t["conf"] = dpg.add_combo(["any confidence", "medium+", "high"],
                                          default_value="any confidence", width=120,
                                          callback=self.refresh)
            with dpg.group(horizontal=True):
                t["search"] = dpg.add_input_text(hint="search labels: fire, faces, blue...",
                                                 width=250, callback=self.refresh)
                t["id"] = dpg.add_input_int(label="id", width=100, min_value=0,
                                            max_value=N_FEATURES - 1, min_clamped=True,
                                            max_clamped=True, on_enter=True,
                                            callback=lambda s, a: self.go_to_id(a))
            t["count"] = dpg.add_text("", color=theme.DIM)
            with dpg.table(header_row=True, clipper=True, scrollY=True, height=200,
                           borders_innerH=False, row_background=True,
                           policy=dpg.mvTable_SizingStretchProp) as table:
                dpg.add_table_column(label="block", init_width_or_weight=0.18)
                dpg.add_table_column(label="id", init_width_or_weight=0.12)
                dpg.add_table_column(label="label", init_width_or_weight=0.48)
                dpg.add_table_column(label="category", init_width_or_weight=0.22)
            t["table"] = table
            t["current"] = dpg.add_text("", wrap=480)
            with dpg.group(horizontal=True):
                t["assign"] = dpg.add_button(label="Assign (Enter)", callback=lambda: self.pick())
                dpg.add_button(label="Neighbours", callback=lambda: self.show_neighbours())
                dpg.add_button(label="Preview", callback=lambda: self.preview())
                t["strength"] = dpg.add_drag_float(width=110, min_value=-60, max_value=60,
                                                   default_value=30, speed=0.25, clamped=True,
                                                   format="strength %.0f")
            with dpg.texture_registry():
                import numpy as np

                self._preview_buf = np.zeros((128, 128, 4), dtype=np.float32)
                self._preview_buf[..., 3] = 1.0
                self.preview_texture = dpg.add_raw_texture(128, 128, self._preview_buf,
                                                           format=dpg.mvFormat_Float_rgba)
            t["preview"] = dpg.add_image(self.preview_texture, width=128, height=128, show=False)
        self.refresh()

    def fit(self, table_h: int) -> None:
        """The table's height (px): what the window has under the output image."""
        import dearpygui.dearpygui as dpg

        if self.tags:
            dpg.configure_item(self.tags["table"], height=int(table_h))

    def set_index(self, index: FeatureIndex) -> None:
        import dearpygui.dearpygui as dpg

        self.index = index
        if self.tags:
            dpg.configure_item(self.tags["category"], items=["any category"] + index.categories)
            self.refresh()

    def set_target(self, node_id: str | None, block: str | None = None, fid: int | None = None) -> None:
        import dearpygui.dearpygui as dpg

        self.target = node_id
        if not self.tags:
            return
        if node_id is None:
            dpg.set_value(self.tags["target"], "target: select an SAE block node")
            return
        row = self.index.row(block, fid) if block is not None and fid is not None else None
        what = f"{block} #{fid} {row.label}" if row else ""
        dpg.set_value(self.tags["target"], f"target: {node_id}  ({what})")
        if row is not None:
            self.select(row)

    # -- handlers ---------------------------------------------------------------------------
    def refresh(self, *args) -> list[Row]:
        import dearpygui.dearpygui as dpg

        t = self.tags
        block = dpg.get_value(t["block"])
        cat = dpg.get_value(t["category"])
        conf = {"any confidence": "low", "medium+": "medium", "high": "high"}[dpg.get_value(t["conf"])]
        rows, total = self.index.search(dpg.get_value(t["search"]) or "",
                                        block=None if block == "all blocks" else block,
                                        category=None if cat == "any category" else cat,
                                        min_confidence=conf)
        self._fill(rows, f"{total} features match" + (f", first {len(rows)} shown" if total > len(rows) else ""))
        return rows

    def go_to_id(self, fid: int) -> None:
        import dearpygui.dearpygui as dpg

        block = dpg.get_value(self.tags["block"])
        rows, _ = self.index.search(str(int(fid)), block=None if block == "all blocks" else block)
        self._fill(rows, f"feature {fid}")
        if rows:
            self.select(rows[0])

    def show_neighbours(self) -> list[Row]:
        if self.current is None:
            self.status("warn", "select a feature first")
            return []
        rows = self.index.neighbours(self.current.block, self.current.id)
        if not rows:
            self.status("warn", "neighbourhood needs the SAE decoders (the engine is not running)")
            return []
        self._fill(rows, f"{len(rows) - 1} nearest to {self.current.block} #{self.current.id} "
                         f"by decoder cosine")
        return rows

    def select(self, row: Row) -> None:
        import dearpygui.dearpygui as dpg

        self.current = row
        if self.tags:
            dpg.set_value(self.tags["current"], f"{row.block} #{row.id}: {row.label}  "
                                                f"[{row.category}, {row.confidence} confidence]")

    def pick(self, row: Row | None = None) -> str | None:
        """Assign: the row (else the selected one) goes to the target sink."""
        row = row or self.current
        if row is None:
            self.status("warn", "click a feature row first, then Assign")
            return "no feature selected"
        if self.target is None:
            self.status("warn", "select an SAE block node first; the feature goes to it")
            return "no target sink"
        self.armed = False
        return self.on_pick(self.target, row.block, row.id)

    def preview(self) -> str | None:
        import dearpygui.dearpygui as dpg

        if self.current is None:
            self.status("warn", "select a feature to preview")
            return "no feature selected"
        return self.on_preview(self.current.block, self.current.id,
                               float(dpg.get_value(self.tags["strength"])))

    def show_preview(self, image) -> None:
        """A finished preview render: float RGBA (H, W, 4), shown downscaled."""
        import dearpygui.dearpygui as dpg

        h, w = image.shape[:2]
        sy, sx = max(1, h // 128), max(1, w // 128)
        small = image[::sy, ::sx][:128, :128]
        self._preview_buf[:] = 0.0
        self._preview_buf[: small.shape[0], : small.shape[1]] = small
        dpg.configure_item(self.tags["preview"], show=True)

    def _fill(self, rows: list[Row], caption: str) -> None:
        import dearpygui.dearpygui as dpg

        table = self.tags["table"]
        dpg.delete_item(table, children_only=True, slot=1)
        self.rows_shown = rows
        self._row_item, self.armed = None, False
        for r in rows:
            with dpg.table_row(parent=table):
                dpg.add_selectable(label=r.block, span_columns=True, user_data=r,
                                   callback=lambda s, a, u: self._clicked(s, u))
                dpg.add_text(str(r.id))
                dpg.add_text(r.label if r.score is None else f"{r.label}  ({r.score:.2f})")
                dpg.add_text(f"{r.category} / {r.confidence}")
        dpg.set_value(self.tags["count"], caption)

    def _clicked(self, sender, row: Row) -> None:
        """A click selects the row (highlighted); a second click on the same
        row within DOUBLE_CLICK_S assigns it."""
        import time

        import dearpygui.dearpygui as dpg

        if self._row_item is not None and self._row_item != sender and dpg.does_item_exist(self._row_item):
            dpg.set_value(self._row_item, False)
        dpg.set_value(sender, True)
        self._row_item = sender
        self.select(row)
        now = time.monotonic()
        double = self._last_click[0] == row and now - self._last_click[1] <= DOUBLE_CLICK_S
        self._last_click = (None, 0.0) if double else (row, now)
        if double:
            self.pick(row)
            return
        self.armed = True
        if self.target is not None:
            self.status("info", f"selected {row.block} #{row.id}: Assign, double-click or Enter "
                                f"gives it to {self.target}")

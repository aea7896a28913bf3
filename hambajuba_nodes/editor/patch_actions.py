"""What the window does to the patch and the track: files (new, open, save,
recovery, recent), the track, undo/redo, picking features and masks for a
node, the auto chain, quitting with unsaved changes.

A part of App (mixed in): each action goes through the show's document
(show/commands.py) or files (show/files.py) and says how it went.
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable

import dearpygui.dearpygui as dpg

from graph_runtime.graph.frame import BLOCKS
from graph_runtime.show.commands import Change

from . import theme
from .audio_files import ask_open_track
from .mask_painter import mask_param

SINK_TYPE = "sae.block"


class PatchActions:
    """Patch files, the track, edits and quitting (part of App)."""

    def new_patch(self) -> None:
        self._unsaved_then(lambda: (self.files.new(), self.status("info", "new patch")))

    def open_patch(self, path: str, *, offer_recovery: bool = True) -> list[str]:
        problems = self.files.open(path)
        if problems:
            self.exit_problems += problems
            self.status("error", f"cannot open {os.path.basename(path)}: {problems[0]}")
            self.dialogs.message("Patch not opened", "\n".join(problems[:12]) +
                                 "\n\nThe current patch is unchanged.")
            return problems
        self._refresh_recent()
        self.status("info", f"opened {path}")
        if offer_recovery:
            self._offer_recovery(self.files.path)
        if self.worker is not None and self._engine_spec() != self._running_spec:
            self.start_engine(restart=True)  # the patch asks for another model or size
        return []

    def _offer_recovery(self, path: str | None) -> None:
        side = self.files.recovery_for(path)
        if side is None:
            return
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(side)))
        self.dialogs.ask("Recover unsaved changes?",
                         f"hambajuba did not close cleanly. An autosave from {when} has changes "
                         f"that were never saved:\n{side}",
                         [("Recover", lambda: self._recover(side)),
                          ("Discard", lambda: self.files.discard_recovery(path))])

    def _recover(self, side: str) -> None:
        problems = self.files.recover(side)
        self.status("error" if problems else "info",
                    problems[0] if problems else "recovered the autosave; save to keep it")

    def save(self) -> str | None:
        reason = self.files.save()
        if reason == "no path":
            self.ask_save_as()
            return reason
        self._saved(reason)
        return reason

    def save_as(self, path: str) -> str | None:
        reason = self.files.save_as(path)
        self._saved(reason)
        return reason

    def _saved(self, reason: str | None) -> None:
        if reason:
            self.status("error", reason)
            self.dialogs.message("Not saved", reason + "\n\nYour patch is still open; try another place.")
        else:
            self._refresh_recent()
            self.status("info", f"saved {self.files.path}")

    def ask_open_patch(self) -> None:
        self._unsaved_then(lambda: self.dialogs.choose_file(
            "Open patch", (".patch",), lambda p: self.open_patch(p), default=self.files.path or ""))

    def ask_save_as(self) -> None:
        self.dialogs.choose_file("Save patch as", (".patch",), lambda p: self.save_as(p), save=True,
                                 default=self.files.path or os.path.join(os.getcwd(), "untitled.patch"))

    def ask_open_track(self) -> None:
        ask_open_track(self.dialogs, self.transport.path, lambda p: self.open_track(p))

    def _refresh_recent(self) -> None:
        dpg.delete_item(self.recent_menu, children_only=True)
        for p in self.files.recent:
            dpg.add_menu_item(label=p, parent=self.recent_menu, user_data=p,
                              callback=lambda s, a, u: self._unsaved_then(lambda: self.open_patch(u)))
        if not self.files.recent:
            dpg.add_menu_item(label="(none yet)", parent=self.recent_menu, enabled=False)

    def _unsaved_then(self, action: Callable[[], Any]) -> None:
        """Run action, asking first when there are unsaved changes."""
        if not self.model.dirty:
            action()
            return

        def save_then():
            if self.save() is None:
                action()

        self.dialogs.ask("Unsaved changes", f"{self.files.title} has unsaved changes.",
                         [("Save", save_then), ("Discard", action), ("Cancel", lambda: None)])

    def request_quit(self) -> None:
        self._unsaved_then(self.quit)

    def quit(self) -> None:
        self._quit = True
        self.files.close()
        dpg.stop_dearpygui()

    def open_track(self, path: str) -> None:
        self.transport.open(path)
        self.status("info", f"opening {os.path.basename(path)}: decoding and analysing...")

    def _poll_track(self) -> None:
        event = self.transport.poll()
        if event is None:
            return
        level, text = event
        self.status(level, text)
        if level == "error":
            self.exit_problems.append(text)
            return
        self.live.set_analysis(self.transport.analysis)
        self.live.reset()
        self._settle_garbage()

    def seek(self, t: float) -> None:
        self.transport.seek(t)
        self.live.reset()

    def undo(self) -> None:
        if self.model.undo():
            self.status("info", f"undid {self.model.redo_label}")

    def redo(self) -> None:
        if self.model.redo():
            self.status("info", f"redid {self.model.undo_label}")

    def add_comment(self, text: str = "a note about this patch") -> str:
        return self.model.add_comment(text, self.view.view_centre())

    def _add_from_menu(self, type_id: str, at) -> None:
        self.view.add_node_at(type_id, at)

    def pick_feature(self, node_id: str, block: str, fid: int) -> str | None:
        reason = self.model.set_params(node_id, {"block": block, "feature_id": int(fid)})
        if reason:
            self.status("error", reason)
        else:
            self.status("info", f"{node_id} now steers {block} #{fid}")
            self.features.set_target(node_id, block, fid)
        return reason

    def _special(self, what: str, node_id: str, name: str) -> None:
        """Buttons inside nodes: browse features, paint a mask, choose a file."""
        if what == "browse_features":
            self.select_target(node_id)
            dpg.set_value(self.tabs, self.tab_features)
        elif what == "paint_mask":
            self.painter.set_node(node_id)
            dpg.set_value(self.tabs, self.tab_mask)
        elif what == "choose_path":
            self.dialogs.choose_file(f"Choose {name}", (".png", ".jpg", ".jpeg", ".webp"),
                                     lambda p: self.view.on_param(node_id, name, p))

    def select_target(self, node_id: str) -> None:
        spec = self.model.patch.node(node_id)
        if spec is not None and spec.type == SINK_TYPE:
            self.features.set_target(node_id, self.model.param_value(node_id, "block"),
                                     self.model.param_value(node_id, "feature_id"))
        if mask_param(self.model, node_id):
            self.painter.set_node(node_id)

    def _on_change(self, change: Change) -> None:
        if change.kind in ("document", "params", "structure"):
            self.painter.sync()
            t = self.features.target
            if t is not None and self.model.patch.node(t) is None:
                self.features.set_target(None)
        if change.kind in ("document", "engine"):
            dpg.set_value(self.model_combo, self.model.patch.engine.get("model", "auto"))
            dpg.set_value(self.seed_input, int(self.model.patch.engine.get("seed", 0)))

    def ask_auto_chain(self) -> None:
        """A small form: which stem drives which block."""
        from graph_runtime.analysis.store import ALL_STEMS

        if dpg.does_item_exist("hambajuba_auto_chain"):
            dpg.delete_item("hambajuba_auto_chain")
        with dpg.window(label="Auto chain", tag="hambajuba_auto_chain", modal=True, autosize=True,
                        no_saved_settings=True, pos=[300, 160]):
            dpg.add_text("source -> blended physics -> dance -> SAE block (+ mask),\n"
                         "configured from the stem's classification", color=theme.DIM)
            stem = dpg.add_combo(list(ALL_STEMS), default_value="bass", label="stem", width=160)
            block = dpg.add_combo(list(BLOCKS), default_value="down.2.1", label="block", width=160)
            with dpg.group(horizontal=True):
                dpg.add_button(label="Add chain", callback=lambda: (
                    self.auto_chain(dpg.get_value(stem), dpg.get_value(block)),
                    dpg.delete_item("hambajuba_auto_chain")))
                dpg.add_button(label="Cancel", callback=lambda: dpg.delete_item("hambajuba_auto_chain"))

    def auto_chain(self, stem: str, block: str) -> list[str]:
        from hambajuba_nodes.content.auto_chain import auto_chain

        analysis = self.transport.analysis
        at = self.view.free_spot((1100.0, 320.0))  # free, visible space (else below the patch)
        ids, reason = self.model.apply(f"auto chain {stem} -> {block}",
                                       lambda patch: auto_chain(patch, stem, block, analysis, pos=at))
        if reason:
            self.status("error", f"auto chain: {reason}")
            return []
        self.status("info", f"auto chain {stem} -> {block}: added {', '.join(ids)}")
        self.view.reveal(ids)  # scrolled into view once drawn
        return ids

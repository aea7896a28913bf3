"""The node editor view: the Patch drawn as Dear PyGui nodes, generated from
the registry's schema.

This is a view. It never edits the Patch itself: every mouse, keyboard and
menu action goes to one handler here (`on_link`, `on_delink`, `on_param`,
`add_node_at`, `delete_selected`, `paste_at`, ...), which calls the
EditorModel; the model tells `reconcile` what changed and the view redraws
just that. Undo, redo, paste and opening a file are therefore drawn by the
same code as a click.

Ports are coloured and shaped by kind (signal circle, trigger triangle, mask
square, stem ring); links take their source's colour. A refused link never
appears: its reason goes to the status bar. Compile problems are written on
the node they name, and its title turns red.

A link the file has but the patch cannot honour (its node or port is
missing) is drawn red, to a red stand-in pin ("? port") or a stand-in node
("missing node 'x'") that is not part of the patch; it can be selected and
deleted like any link, and the stand-ins go with it.

The view pans by an offset of its own (canvas_view.py): `fit_to_view` (key
F, and once when a patch opens) shows the whole patch, new nodes without a
place land in free visible space, and added groups are scrolled into view.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import dearpygui.dearpygui as dpg

from graph_runtime.graph.patch import Link, NodeSpec
from graph_runtime.show.commands import COMMENT_TYPE, Change, EditorModel

from . import param_widgets, theme
from .broken_links import BrokenLinks
from .canvas_geometry import CanvasGeometry
from .meters import Meters

Status = Callable[[str, str], None]  # (level: "info" | "warn" | "error", text)
FOLD_OUTPUTS = 6  # a node with more outputs than this shows only its linked ones when compact
FOLD_PARAMS = 6  # ... and with more loose params than this hides them when compact


@dataclass
class _NodeItems:
    tag: int
    type: str
    pos: tuple[float, float]
    params: dict[str, param_widgets.ParamWidget] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # what the widgets show
    problem_attr: int | None = None
    problem_text: int | None = None
    problem: str = ""
    theme: int | None = None
    linked_inputs: frozenset = frozenset()
    linked_outputs: frozenset = frozenset()
    outputs: dict[str, int] = field(default_factory=dict)  # port -> attribute
    params_attr: int | None = None  # the attribute holding params that are not inputs
    toggle: int | None = None  # the "show all / compact" button
    fold_outputs: bool = False  # many outputs: unlinked ones hide while compact
    fold_params: bool = False  # many params: they hide while compact
    expanded: bool = False
    loose: tuple = ()


class NodeEditorView(CanvasGeometry, BrokenLinks):
    def __init__(self, model: EditorModel, meters: Meters, themes: theme.Themes, *,
                 status: Status, on_special: Callable[[str, str, str], None] | None = None) -> None:
        self.model = model
        self.meters = meters
        self.themes = themes
        self.status = status
        self.on_special = on_special or (lambda what, node, name: None)
        self.editor: int | None = None
        self._nodes: dict[str, _NodeItems] = {}
        self._attrs: dict[int, tuple[str, str, str]] = {}  # attr tag -> (node, port, "in"|"out")
        self._port_attr: dict[tuple[str, str, str], int] = {}
        self._links: dict[Link, int] = {}
        self._link_of: dict[int, Link] = {}
        self.text_inputs: set[int] = set()
        self.pan = (0.0, 0.0)  # drawn = patch position + pan (the editor cannot be panned by code)
        self._fit_pending = 0  # frames to wait before fitting (node sizes are known after a draw)
        self._reveal: list[str] = []  # nodes to scroll into view once drawn
        self._ghost_nodes: dict[str, int] = {}  # missing node id -> stand-in node
        self._ghost_pins: dict[tuple[str, str, str], int] = {}  # (node, port, side) -> stand-in pin
        self.broken: set[Link] = set()  # links drawn to stand-ins
        self._ghost_near: dict[str, tuple[str, str]] = {}  # stand-in node -> (linked node, side)
        model.listeners.append(self.reconcile)

    # -- building -------------------------------------------------------------------
    def build(self, parent, *, width: int = -1, height: int = -1) -> int:
        # no minimap: with it, Dear PyGui 2.3's editor stops selecting nodes on click
        self.editor = dpg.add_node_editor(parent=parent, width=width, height=height,
                                          callback=self.on_link, delink_callback=self.on_delink)
        self.area = parent
        self.reconcile(Change("document"))
        return self.editor

    def attr_of(self, node_id: str, port: str, side: str) -> int | None:
        """The pin of a port (tests and the xdotool driver look pins up here)."""
        return self._port_attr.get((node_id, port, side))

    def node_tag(self, node_id: str) -> int | None:
        items = self._nodes.get(node_id)
        return items.tag if items else None

    def link_tag(self, link: Link) -> int | None:
        return self._links.get(link)

    # -- the handlers every input path calls ------------------------------------------------
    def on_link(self, sender, app_data) -> str | None:
        """Dear PyGui's link callback: app_data = (pin, pin)."""
        a, b = (self._attrs.get(_item(x)) for x in app_data)
        if a is None or b is None:
            return self._refuse("that pin belongs to nothing in the patch")
        reason = self.model.link((a[0], a[1]), (b[0], b[1]))
        if reason:
            return self._refuse(reason)
        self.status("info", f"linked {a[0]}.{a[1]} -> {b[0]}.{b[1]}" if a[2] == "out"
                    else f"linked {b[0]}.{b[1]} -> {a[0]}.{a[1]}")
        return None

    def on_delink(self, sender, app_data) -> None:
        """Dear PyGui's delink callback: app_data = the link item."""
        link = self._link_of.get(_item(app_data))
        if link is not None:
            self.model.unlink([link])
            self.status("info", f"removed link {link}")

    def on_param(self, node_id: str, name: str, value: Any, merge: Any = None) -> str | None:
        reason = self.model.set_param(node_id, name, value, merge=merge)
        if reason:
            self.status("error", reason)
            items = self._nodes.get(node_id)
            if items and name in items.params:  # put the model's value back in the widget
                items.params[name].show(self.model.param_value(node_id, name))
        return reason

    def add_node_at(self, type_id: str, pos: tuple[float, float] | None = None) -> str | None:
        """Add a node at `pos` (where the user clicked), else in free visible space
        (or below the patch, scrolled into view, when the screen is full)."""
        unseen = False
        if pos is None:
            pos = self.free_spot()
            unseen = not _inside(pos, self.visible_box())
        try:
            node_id = self.model.add_node(type_id, pos)
        except ValueError as e:
            self.status("error", str(e))
            return None
        self.status("info", f"added {node_id}")
        if unseen:
            self.reveal([node_id])
        return node_id

    def selected_nodes(self) -> list[str]:
        if self.editor is None:
            return []
        by_tag = {items.tag: nid for nid, items in self._nodes.items()}
        return [by_tag[t] for t in dpg.get_selected_nodes(self.editor) if t in by_tag]

    def selected_links(self) -> list[Link]:
        if self.editor is None:
            return []
        return [self._link_of[t] for t in dpg.get_selected_links(self.editor) if t in self._link_of]

    def delete_selected(self, nodes: list[str] | None = None, links: list[Link] | None = None) -> int:
        nodes = self.selected_nodes() if nodes is None else nodes
        links = self.selected_links() if links is None else links
        n = self.model.delete(nodes, links)
        if n:
            dpg.clear_selected_nodes(self.editor)
            dpg.clear_selected_links(self.editor)
            self.status("info", f"deleted {n} item{'s' if n > 1 else ''}")
        return n

    def copy_selected(self, nodes: list[str] | None = None) -> int:
        n = self.model.copy(self.selected_nodes() if nodes is None else nodes)
        if n:
            dpg.set_clipboard_text(self.model.clipboard_text())
            self.status("info", f"copied {n} node{'s' if n > 1 else ''}")
        return n

    def cut_selected(self, nodes: list[str] | None = None) -> int:
        nodes = self.selected_nodes() if nodes is None else nodes
        n = self.copy_selected(nodes)
        if n:
            self.delete_selected(nodes, [])
        return n

    def paste_at(self, at: tuple[float, float] | None = None) -> list[str]:
        ids = self.model.paste(at)
        if ids:
            self.status("info", f"pasted {len(ids)} node{'s' if len(ids) > 1 else ''}")
        return ids

    def duplicate_selected(self, nodes: list[str] | None = None) -> list[str]:
        ids = self.model.duplicate(self.selected_nodes() if nodes is None else nodes)
        if ids:
            self.status("info", f"duplicated as {', '.join(ids)}")
        return ids

    def sync_positions(self) -> bool:
        """Record where the user dragged nodes to (one undo step)."""
        moved = {}
        px, py = self.pan
        for nid, items in self._nodes.items():
            x, y = dpg.get_item_pos(items.tag)[:2]
            pos = (float(x) - px, float(y) - py)
            if pos != items.pos:
                moved[nid] = pos
        if not moved:
            return False
        for nid, pos in moved.items():  # the widgets are already there
            self._nodes[nid].pos = (round(pos[0], 1), round(pos[1], 1))
        return self.model.move_nodes(moved)

    def _refuse(self, reason: str) -> str:
        self.status("error", f"link refused: {reason}")
        return reason

    # -- reconcile: make the drawing match the Patch ---------------------------------------------
    def reconcile(self, change: Change) -> None:
        if self.editor is None:
            return
        patch = self.model.patch
        if change.kind in ("params", "positions"):
            for nid in change.nodes:
                spec = patch.node(nid)
                if spec is not None and nid in self._nodes:
                    self._update_node(spec, self._nodes[nid])
            return
        if change.kind == "engine":
            return
        if change.kind == "document" and patch.nodes:
            self._fit_pending = 3  # a patch opened: show all of it once it is drawn
        want = {n.id: n for n in patch.nodes}
        for nid in list(self._nodes):
            if nid not in want or want[nid].type != self._nodes[nid].type:
                self._remove_node(nid)
        for spec in patch.nodes:
            items = self._nodes.get(spec.id)
            if items is None:
                self._build_node(spec)
            else:
                self._update_node(spec, items)
        self._reconcile_links()

    def _reconcile_links(self) -> None:
        links = set(self.model.patch.links)
        for link in links:  # a pin must be drawn before a link can attach to it
            items = self._nodes.get(link.src[0])
            attr = items.outputs.get(link.src[1]) if items else None
            if attr is not None and not items.expanded and items.fold_outputs:
                dpg.configure_item(attr, show=True)
        for link in list(self._links):
            if link not in links:
                tag = self._links.pop(link)
                self._link_of.pop(tag, None)
                if dpg.does_item_exist(tag):
                    dpg.delete_item(tag)
        self.broken &= links
        self._drop_ghosts()
        for link in self.model.patch.links:
            if link in self._links:
                continue
            a = self._port_attr.get((link.src[0], link.src[1], "out"))
            b = self._port_attr.get((link.dst[0], link.dst[1], "in"))
            if a is None or b is None:  # a node or port the patch lacks: drawn red, deletable
                a = a or self._ghost_pin(link.src[0], link.src[1], "out", link.dst[0])
                b = b or self._ghost_pin(link.dst[0], link.dst[1], "in", link.src[0])
                self.broken.add(link)
            tag = dpg.add_node_link(a, b, parent=self.editor)
            port = self.model.port(*link.src)
            kind = port[1].kind if port else "signal"
            theme_ = self.themes.broken_link if link in self.broken else \
                self.themes.link.get(kind, self.themes.link["signal"])
            dpg.bind_item_theme(tag, theme_)
            self._links[link] = tag
            self._link_of[tag] = link
        linked_in, linked_out = {}, {}
        for link in self.model.patch.links:
            linked_in.setdefault(link.dst[0], set()).add(link.dst[1])
            linked_out.setdefault(link.src[0], set()).add(link.src[1])
        for nid, items in self._nodes.items():
            now = frozenset(linked_in.get(nid, ()))
            if now != items.linked_inputs:
                for name, w in items.params.items():  # a cable overrides the knob
                    if (name in now) != (name in items.linked_inputs):
                        w.enable(name not in now)
                items.linked_inputs = now
            outs = frozenset(linked_out.get(nid, ()))
            if outs != items.linked_outputs:
                items.linked_outputs = outs
                self._fold(items)

    def _remove_node(self, nid: str) -> None:
        items = self._nodes.pop(nid)
        for key in [k for k in self._ghost_pins if k[0] == nid]:
            self._ghost_pins.pop(key)  # deleted with the node below
        self.meters.remove_node(nid)
        for key in [k for k in self._port_attr if k[0] == nid]:
            self._attrs.pop(self._port_attr.pop(key), None)
        for link in [l for l in self._links if nid in (l.src[0], l.dst[0])]:
            tag = self._links.pop(link)  # links go before their pins: a dangling link crashes
            self._link_of.pop(tag, None)
            if dpg.does_item_exist(tag):
                dpg.delete_item(tag)
        for w in items.params.values():
            self.text_inputs.discard(w.tag)
        if dpg.does_item_exist(items.tag):
            dpg.delete_item(items.tag)
        for w in items.params.values():
            if w.handlers is not None and dpg.does_item_exist(w.handlers):
                dpg.delete_item(w.handlers)

    def _update_node(self, spec: NodeSpec, items: _NodeItems) -> None:
        pos = (float(spec.pos[0]), float(spec.pos[1]))
        if pos != items.pos:
            dpg.set_item_pos(items.tag, [pos[0] + self.pan[0], pos[1] + self.pan[1]])
            items.pos = pos
        cls = self.model.registry.get(spec.type)
        for name, w in items.params.items():
            prm = cls.param(name) if cls else None
            value = spec.params.get(name, prm.default if prm else None)
            if items.values.get(name, _UNSET) != value:
                w.show(value)
                items.values[name] = value

    def _build_node(self, spec: NodeSpec) -> None:
        cls = self.model.registry.get(spec.type)
        pos = (float(spec.pos[0]), float(spec.pos[1]))
        if cls is None:
            label = f"? {spec.type}  [{spec.id}]"
        elif spec.type == COMMENT_TYPE:
            label = f"note  [{spec.id}]"
        else:
            label = f"{cls.title or cls.type_id}  [{spec.id}]"
        tag = dpg.add_node(label=label, parent=self.editor, pos=[pos[0] + self.pan[0], pos[1] + self.pan[1]],
                           user_data=spec.id)
        items = _NodeItems(tag, spec.type, pos)
        self._nodes[spec.id] = items
        if cls is None:
            self._build_placeholder(spec, items)
        else:
            self._build_ports(spec, cls, items)
        with dpg.node_attribute(parent=tag, attribute_type=dpg.mvNode_Attr_Static, show=False) as attr:
            items.problem_text = dpg.add_text("", wrap=260, color=theme.ERROR)
        items.problem_attr = attr
        if cls is None:
            items.theme = self.themes.placeholder_node
        elif spec.type == COMMENT_TYPE:
            items.theme = self.themes.comment_node
        else:
            items.theme = self.themes.family_theme(cls.family)
        dpg.bind_item_theme(tag, items.theme)

    def _build_placeholder(self, spec: NodeSpec, items: _NodeItems) -> None:
        """Unknown type: drawn with the ports its links use, so they stay visible."""
        with dpg.node_attribute(parent=items.tag, attribute_type=dpg.mvNode_Attr_Static):
            dpg.add_text("unknown node type: kept as it is,\nsaved unchanged", color=theme.WARNING)
        ins = sorted({l.dst[1] for l in self.model.patch.links if l.dst[0] == spec.id})
        outs = sorted({l.src[1] for l in self.model.patch.links if l.src[0] == spec.id})
        for side, names in (("in", ins), ("out", outs)):
            for name in names:
                kind = dpg.mvNode_Attr_Input if side == "in" else dpg.mvNode_Attr_Output
                with dpg.node_attribute(parent=items.tag, attribute_type=kind) as attr:
                    dpg.add_text(name, color=theme.DIM)
                self._attrs[attr] = (spec.id, name, side)
                self._port_attr[(spec.id, name, side)] = attr

    def _build_ports(self, spec: NodeSpec, cls, items: _NodeItems) -> None:
        input_names = {p.name for p in cls.inputs}
        for port in cls.inputs:
            with dpg.node_attribute(parent=items.tag, attribute_type=dpg.mvNode_Attr_Input,
                                    shape=self.themes.shape(port.kind)) as attr:
                dpg.bind_item_theme(attr, self.themes.pin[port.kind])
                with dpg.group(horizontal=True) as row:
                    prm = cls.param(port.name)
                    if prm is not None and port.kind == "signal":
                        self._param(spec, prm, items, row)
                    else:
                        dpg.add_text(port.name + (f" ({port.unit})" if port.unit else ""))
                    if port.kind == "signal":
                        self.meters.add(spec.id, port.name, "in", port.kind, row)
            self._attrs[attr] = (spec.id, port.name, "in")
            self._port_attr[(spec.id, port.name, "in")] = attr
        loose = [p for p in cls.params if p.name not in input_names]
        items.fold_outputs = len(cls.outputs) > FOLD_OUTPUTS
        items.fold_params = len(loose) > FOLD_PARAMS
        items.loose = tuple(p.name for p in loose)
        if items.fold_outputs or items.fold_params:
            with dpg.node_attribute(parent=items.tag, attribute_type=dpg.mvNode_Attr_Static,
                                    before=self._first_child(items.tag)):
                items.toggle = dpg.add_button(label="", small=True, user_data=spec.id,
                                              callback=lambda s, a, u: self.toggle_expanded(u))
        if loose:
            with dpg.node_attribute(parent=items.tag, attribute_type=dpg.mvNode_Attr_Static) as attr:
                for prm in loose:
                    self._param(spec, prm, items, attr)
            items.params_attr = attr
        for port in cls.outputs:
            with dpg.node_attribute(parent=items.tag, attribute_type=dpg.mvNode_Attr_Output,
                                    shape=self.themes.shape(port.kind)) as attr:
                dpg.bind_item_theme(attr, self.themes.pin[port.kind])
                with dpg.group(horizontal=True) as row:
                    if port.name == "applied" and cls.family == "sinks":
                        self.meters.add_strength(spec.id, port.name, row)
                    else:
                        self.meters.add(spec.id, port.name, "out", port.kind, row)
                    dpg.add_text(port.name, color=theme.KIND_COLOURS[port.kind])
            self._attrs[attr] = (spec.id, port.name, "out")
            self._port_attr[(spec.id, port.name, "out")] = attr
            items.outputs[port.name] = attr
        self._fold(items)

    @staticmethod
    def _first_child(tag):
        children = dpg.get_item_children(tag, 1)
        return children[0] if children else 0

    def toggle_expanded(self, node_id: str) -> None:
        items = self._nodes.get(node_id)
        if items is not None:
            items.expanded = not items.expanded
            self._fold(items)

    def _fold(self, items: _NodeItems) -> None:
        """Compact nodes show their linked outputs only and hide long param lists."""
        hidden = 0
        if items.fold_outputs:
            nid = self._node_id_of(items)
            for name, attr in items.outputs.items():
                show = items.expanded or name in items.linked_outputs
                hidden += not show
                dpg.configure_item(attr, show=show)
                self.meters.set_shown(nid, name, "out", show)
        if items.fold_params and items.params_attr is not None:
            dpg.configure_item(items.params_attr, show=items.expanded)
            hidden += 0 if items.expanded else len(items.loose)
        if items.toggle is not None:
            dpg.configure_item(items.toggle, label="- compact" if items.expanded
                               else f"+ {hidden} more" if hidden else "+ show all")

    def _node_id_of(self, items: _NodeItems) -> str:
        return dpg.get_item_user_data(items.tag)

    def _param(self, spec: NodeSpec, prm, items: _NodeItems, parent) -> None:
        value = spec.params.get(prm.name, prm.default)
        checked, reason = prm.check(value)
        w = param_widgets.build(prm, prm.default if reason else checked, node_id=spec.id,
                                parent=parent, on_change=self.on_param, on_special=self.on_special)
        items.params[prm.name] = w
        items.values[prm.name] = value
        if w.text_input:
            self.text_inputs.add(w.tag)

    # -- problems drawn on nodes -----------------------------------------------------------------
    def show_problems(self, by_node: dict[str, list]) -> None:
        """Write each node's compile problems on it; clear the rest."""
        for nid, items in self._nodes.items():
            probs = by_node.get(nid, [])
            text = "\n".join(("warning: " if p.warning else "") + _what(p) for p in probs)
            if text == items.problem:
                continue
            items.problem = text
            dpg.set_value(items.problem_text, text)
            dpg.configure_item(items.problem_text,
                               color=theme.ERROR if any(not p.warning for p in probs) else theme.WARNING)
            dpg.configure_item(items.problem_attr, show=bool(text))
            errors = any(not p.warning for p in probs)
            dpg.bind_item_theme(items.tag, self.themes.error_node if errors else items.theme)

    def any_text_active(self) -> bool:
        """True while the user types in a node's text field (shortcuts stay off)."""
        return any(dpg.is_item_active(t) for t in self.text_inputs if dpg.does_item_exist(t))


_UNSET = object()


def _inside(pos: tuple[float, float], box) -> bool:
    return box[0] <= pos[0] < box[2] and box[1] <= pos[1] < box[3]


def _item(x) -> int:
    return x if isinstance(x, int) else dpg.get_alias_id(x)


def _what(p) -> str:
    return f"{p.what}: {p.message}" if p.what else p.message

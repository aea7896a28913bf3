"""Compile a Patch into a Plan: a flat, typed, preallocated list of calls.

compile_patch(patch, registry) checks everything once (node types, params
against their declared ranges, links against port kinds, one link per input,
cycles), sorts the graph, binds every input to its producer's Wire (or to a
constant Wire holding the port's default), calls each node's `prepare` in
order and freezes the channel lookups. Plan.run(t, dt) is then a loop down a
list of bound methods that allocates nothing of its own.

A recompiled Plan can take over the state of the previous one: nodes with the
same id and type keep the attributes they declare in `state`, so a spring
keeps its position while you edit something else. A param edit does not
recompile at all: edit.set_param changes the running node in
place, re-running its prepare only for params it lists in `reprepare`.

Imports neither torch nor dearpygui.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

from .channels import ChannelBank
from .frame import FrameParams
from .node import Node, PrepareContext, Registry, Wire
from .patch import Link, NodeSpec, Patch
from .plan import Plan, SlotTable  # the compiled result; re-exported here
from .prepare_cache import AnalysisCache, CacheMiss, cache_for
from .problems import CompileError, Problem, ctx_problems
from .wiring import _bind, bind_inputs, carry_state

# -- checking -----------------------------------------------------------------

_CHECKED: dict[tuple, dict[str, Any]] = {}  # (type, params) -> validated values, no problems
_CHECKED_MAX = 4096


def _check_params(spec: NodeSpec, cls: type[Node], out: list[Problem]) -> dict[str, Any]:
    """Validated params (defaults filled). Params that checked clean before
    are not checked again: a recompile after an edit re-validates only the
    nodes whose params changed. The node gets its own dict (set_param writes it)."""
    try:
        key = (cls, tuple((k, type(v), tuple(map(_typed, v)) if type(v) is list else v)
                          for k, v in spec.params.items()))  # types too: True == 1 in Python
        hash(key)
    except TypeError:  # a value that is not plain data: check it the long way
        return _check_params_fully(spec, cls, out)
    found = _CHECKED.get(key)
    if found is not None:
        return dict(found)
    problems: list[Problem] = []
    values = _check_params_fully(spec, cls, problems)
    out += problems
    if not problems:
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        _CHECKED[key] = dict(values)
    return values


def _typed(x):
    return (type(x), x)


def _check_params_fully(spec: NodeSpec, cls: type[Node], out: list[Problem]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for prm in cls.params:
        raw = spec.params.get(prm.name, prm.default)
        value, reason = prm.check(raw)
        if reason:
            out.append(Problem(spec.id, f"param '{prm.name}'", reason))
        values[prm.name] = value
    for name in spec.params:
        if cls.param(name) is None:
            out.append(Problem(spec.id, f"param '{name}'",
                               f"{cls.type_id} has no such param; it is kept but ignored", True))
    return values


def _check_link(link: Link, classes: dict[str, type[Node] | None], out: list[Problem]) -> bool:
    """True when the link is usable. Links to placeholders are kept, not used."""
    (src, sport), (dst, dport) = link.src, link.dst
    for nid in (src, dst):
        if nid not in classes:
            out.append(Problem(nid, f"link {link}", "no node with this id"))
            return False
    if classes[src] is None or classes[dst] is None:
        return False  # placeholder end: already reported, link preserved on save
    s, d = classes[src].port(sport), classes[dst].port(dport)
    if s is None or s[0] != "out":
        out.append(Problem(src, f"port '{sport}'", f"{classes[src].type_id} has no output '{sport}' "
                           f"(link {link})"))
        return False
    if d is None or d[0] != "in":
        out.append(Problem(dst, f"port '{dport}'", f"{classes[dst].type_id} has no input '{dport}' "
                           f"(link {link})"))
        return False
    if s[1].kind != d[1].kind:
        out.append(Problem(dst, f"port '{dport}'", f"cannot link {s[1].kind} output {src}.{sport} "
                           f"to {d[1].kind} input (kinds must match)"))
        return False
    return True


def _find_cycle(ids: list[str], edges: dict[str, list[str]]) -> list[str]:
    """Return one cycle (as node ids, in order) among `ids`, by DFS."""
    colour = dict.fromkeys(ids, 0)
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        colour[n] = 1
        stack.append(n)
        for m in edges.get(n, []):
            if colour.get(m) == 1:
                return stack[stack.index(m):]
            if colour.get(m) == 0:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        colour[n] = 2
        return None

    for n in ids:
        if colour[n] == 0:
            found = visit(n)
            if found:
                return found
    return ids


def _topo_order(ids: list[str], links: list[Link], classes, out: list[Problem]) -> list[str]:
    """Kahn's sort, stable in file order. Links into feedback nodes (Delay)
    do not constrain the order: that is what makes feedback legal there."""
    edges: dict[str, list[str]] = {n: [] for n in ids}
    indeg = dict.fromkeys(ids, 0)
    for l in links:
        if getattr(classes[l.dst[0]], "feedback", False):
            continue
        edges[l.src[0]].append(l.dst[0])
        indeg[l.dst[0]] += 1
    ready = [n for n in ids if indeg[n] == 0]
    order: list[str] = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for m in edges[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    if len(order) < len(ids):
        left = [n for n in ids if n not in set(order)]
        cycle = _find_cycle(left, edges)
        out.append(Problem(cycle[0], None, "cycle through " + " -> ".join(cycle + cycle[:1])
                           + "; break it with a Delay node"))
    return order


@dataclass
class Checked:
    classes: dict[str, type[Node] | None]
    params: dict[str, dict[str, Any]]
    links: list[Link]
    order: list[str]
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]


def check(patch: Patch, registry: Registry) -> Checked:
    """All static checks, without building anything. Never raises."""
    problems: list[Problem] = []
    classes: dict[str, type[Node] | None] = {}
    params: dict[str, dict[str, Any]] = {}
    for spec in patch.nodes:
        if spec.id in classes:
            problems.append(Problem(spec.id, None, "duplicate id"))
            continue
        cls = registry.get(spec.type)
        classes[spec.id] = cls
        if cls is None:
            problems.append(Problem(spec.id, None, f"unknown node type {spec.type!r}: kept as a "
                                    "placeholder (its params and links are saved unchanged)", True))
            continue
        params[spec.id] = _check_params(spec, cls, problems)
    usable: list[Link] = []
    taken: dict[tuple[str, str], Link] = {}
    for link in patch.links:
        if not _check_link(link, classes, problems):
            continue
        if link.dst in taken:
            problems.append(Problem(link.dst[0], f"port '{link.dst[1]}'",
                                    f"input has two links ({taken[link.dst]} and {link})"))
            continue
        taken[link.dst] = link
        usable.append(link)
    live = [n for n, c in classes.items() if c is not None]
    order = _topo_order(live, usable, classes, problems)
    return Checked(classes, params, usable, order, problems)


# -- building -------------------------------------------------------------------

def carry_plan_state(plan: Plan, previous: Plan | None) -> None:
    """Take over a previous plan's state: every node's declared state, and a
    Scene version past the previous one (an engine that saw the old Scene
    must apply the new one)."""
    if previous is None:
        return
    for nid, node in plan.nodes.items():
        carry_state(node, previous.nodes.get(nid))
    scene = plan.frame.scene
    scene.version = max(scene.version, previous.frame.scene.version + 1)


def _make_bank(source) -> ChannelBank:
    """A source is anything channels are read from: an offline Analysis (the
    default bank samples its arrays) or a live source that brings its own bank
    with the same interface (`make_bank()`), e.g. the causal live analyser."""
    make = getattr(source, "make_bank", None)
    return make() if make is not None else ChannelBank(source)


def compile_patch(patch: Patch, registry: Registry, *, analysis=None,
                  feature_mean: Callable[[str, int], float] | None = None,
                  fps: float = 50.0, previous: Plan | None = None,
                  base_dir: str | None = None, cached_only: bool = False,
                  control_hub=None) -> Plan:
    """Build a Plan, or raise CompileError listing every problem found.

    base_dir: the patch file's folder (relative paths in params start
    there); None: the current directory. cached_only: raise
    plan_cache.CacheMiss rather than compute per-track work not cached yet.
    control_hub: the running show's controller wires (control/hub.py); None:
    the plan gets a hub of its own that no controller writes (a render)."""
    checked = check(patch, registry)
    if checked.errors:
        raise CompileError(checked.errors)
    frame = FrameParams()
    bank = _make_bank(analysis)
    cache = cache_for(analysis) if analysis is not None else None
    if cache is None and cached_only:  # nothing cached without a track: every entry misses
        cache = AnalysisCache(None)    # (an osc.out name lookup goes to the builder too)
    ctx = PrepareContext(analysis=analysis, bank=bank, frame=frame,
                         feature_mean=feature_mean or (lambda block, fid: 1.0), fps=fps,
                         base_dir=os.fspath(base_dir) if base_dir else None,
                         cache=cache.cached_only() if cache is not None and cached_only else cache,
                         control_hub=control_hub)
    ctx.slots = SlotTable()
    links_to = {l.dst: l.src for l in checked.links}
    producers: dict[tuple[str, str], Wire] = {}
    nodes: dict[str, Node] = {}
    problems: list[Problem] = []
    for nid in checked.order:  # outputs first, so producers exist before consumers bind
        cls = checked.classes[nid]
        nodes[nid] = cls(nid, checked.params[nid])
        _bind(nodes[nid], cls, producers)
    for nid in checked.order:
        bind_inputs(nodes[nid], checked.classes[nid], links_to, lambda *k: producers[k])
    for nid in checked.order:
        ctx.node_id = nid
        try:
            nodes[nid].prepare(ctx)
        except (ValueError, KeyError) as e:
            problems.append(Problem(nid, None, str(e).strip("'\"")))
    ctx.node_id = None
    ctx.cache = cache  # later in-place edits (set_param) may build what they need
    if problems:
        raise CompileError(problems)
    if cached_only and getattr(bank, "uncached", lambda: [])():
        raise CacheMiss("channel tables")
    bank.freeze()
    static = [p for p in checked.problems if p.warning]
    plan = Plan(nodes, checked.order, frame, bank, [], [], [], ctx=ctx, links_to=links_to,
                static_warnings=static, node_warnings=ctx_problems(ctx))
    ctx.warnings = []
    plan.rebuild_steps()
    plan.rebuild_warnings()
    carry_plan_state(plan, previous)
    return plan

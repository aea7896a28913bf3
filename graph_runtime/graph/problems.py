"""What is wrong with a patch: one Problem per thing, naming the node and
the port, param or link; CompileError carries the ones that stop a compile.
Imports neither torch nor dearpygui.
"""
from __future__ import annotations

from dataclasses import dataclass

from .node import PrepareContext


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a patch, pointing at the node and port or param."""

    node: str | None
    what: str | None  # "port 'x'", "param 'y'", "link a.out -> b.in"
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = " ".join(x for x in (f"node {self.node}" if self.node else None, self.what) if x)
        kind = "warning: " if self.warning else ""
        return f"{kind}{where}: {self.message}" if where else f"{kind}{self.message}"


class CompileError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def ctx_problems(ctx: PrepareContext) -> dict[str, list[Problem]]:
    """The warnings nodes filed during prepare, by node id ("" for none)."""
    out: dict[str, list[Problem]] = {}
    for nid, message in ctx.warnings:
        prefix = f"node {nid}: "
        if nid and message.startswith(prefix):
            message = message[len(prefix):]
        out.setdefault(nid or "", []).append(Problem(nid, None, message, True))
    return out

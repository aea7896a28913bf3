"""The one exception the analysis raises at its boundary.

Every message is one line: the file it is about, what is wrong, what to do.
"""
from __future__ import annotations


class AnalysisError(Exception):
    """A track (or a stems folder, a checkpoint) cannot be analysed as asked."""

    def __init__(self, path, problem: str, fix: str = "") -> None:
        self.path = str(path) if path is not None else ""
        self.problem = problem
        self.fix = fix
        where = f"{self.path}: " if self.path else ""
        tail = f"; {fix}" if fix else ""
        super().__init__(f"{where}{problem}{tail}")

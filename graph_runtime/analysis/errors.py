"""The one exception the analysis raises at its boundary.

Every message is one line: the file it is about, what is wrong, what to do.
"""
from __future__ import annotations

from ..media.path_problem import PathProblem


class AnalysisError(PathProblem):
    """A track (or a stems folder, a checkpoint) cannot be analysed as asked."""

"""The one-line error of a file the user named: `path: what is wrong; what to do`.

AudioFileError (media/audio_file.py) and AnalysisError (analysis/errors.py)
are kinds of it; each keeps its own type so callers still tell them apart.
"""
from __future__ import annotations


class PathProblem(Exception):
    def __init__(self, path, problem: str, fix: str = "") -> None:
        self.path = str(path) if path is not None else ""
        self.problem = problem
        self.fix = fix
        where = f"{self.path}: " if self.path else ""
        tail = f"; {fix}" if fix else ""
        super().__init__(f"{where}{problem}{tail}")

"""Stage timing and progress reporting for the pipeline.

progress(stage, done, total) is called when a stage starts (done 0), as it
advances (per stem, per pair) and when it ends (done == total). The CLI turns
it into tqdm bars (a stage whose size is known only once it runs, as
Demucs' segments, reports a new total with set()); the bench reads `timings` (wall seconds per stage) and
`cpu_timings` (CPU seconds over all threads: on a shared machine the wall
time depends on the neighbours, the CPU time much less).
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable

Progress = Callable[[str, int, int], None]


class Stages:
    def __init__(self, progress: Progress | None = None) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}       # wall seconds per stage
        self.cpu_timings: dict[str, float] = {}   # CPU seconds (all threads) per stage

    def _say(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)

    @contextmanager
    def stage(self, name: str, total: int = 1):
        """Time a stage; the body may call step() to advance it."""
        start, cpu = time.perf_counter(), time.process_time()
        self._say(name, 0, total)
        counter = _Counter(self, name, total)
        try:
            yield counter
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start
            self.cpu_timings[name] = self.cpu_timings.get(name, 0.0) + time.process_time() - cpu
        self._say(name, total, total)


class _Counter:
    def __init__(self, stages: Stages, name: str, total: int) -> None:
        self.stages, self.name, self.total, self.done = stages, name, total, 0

    def step(self, n: int = 1) -> None:
        self.done = min(self.total, self.done + n)
        self.stages._say(self.name, self.done, self.total)

    def set(self, done: int, total: int) -> None:
        """Progress as (done, total) when the total is learnt inside the stage."""
        self.total, self.done = max(1, total), min(max(1, total), done)
        self.stages._say(self.name, self.done, self.total)

"""Drive the chunks of one or many RenderJobs through Ray, one progress bar.

Every chunk of every job is submitted at once, so a cluster stays busy across
track boundaries; results are taken as they arrive (any order), and a job is
joined and written as soon as its last chunk is in. A chunk whose worker dies
is retried by Ray (ray_env.RETRIES); a chunk that fails for a reason of its
own (a bad scene, an engine error) fails its job alone. Ctrl-C cancels every
task still pending and removes every output not yet complete.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graph_runtime.render.request import RenderError, RenderInterrupted

from .render_job import RenderJob


@dataclass
class Fault:
    """Tests: the first attempt of chunk `chunk` of job `job` kills its worker."""

    job: int
    chunk: int
    marker: str


def run_jobs(ray, render_chunk, jobs: list[RenderJob], *, chunk_frames: int,
             progress: bool = True, fault: Fault | None = None) -> list[Any]:
    """Returns, per job, its RenderResult or the RenderError that stopped it."""
    from tqdm import tqdm

    outcome: list[Any] = [None] * len(jobs)
    pending: dict[Any, tuple[int, int]] = {}  # ref -> (job index, frames)
    left = [0] * len(jobs)
    for j, job in enumerate(jobs):
        arts = ray.put(job.arts) if job.arts else None  # album art: once per job, as bytes
        for c, (a, b) in enumerate(job.chunks(chunk_frames)):
            marker = fault.marker if fault and (fault.job, fault.chunk) == (j, c) else None
            ref = render_chunk.remote(job.spec, job.track.slice(a, b), a, job.kind, marker, arts)
            pending[ref] = (j, b - a)
            left[j] += 1
    bar = tqdm(total=sum(job.frames for job in jobs), unit="frame", disable=not progress,
               dynamic_ncols=True, desc="render (ray)")
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                j, frames = pending.pop(ref)
                bar.update(frames)
                if outcome[j] is not None:
                    continue  # that job already failed
                _take(ray, ref, jobs[j], j, outcome, pending)
                left[j] -= 1
                if left[j] == 0 and outcome[j] is None:
                    outcome[j] = _finish(jobs[j])
    except KeyboardInterrupt:
        for ref in pending:
            ray.cancel(ref, force=True)
        for j, job in enumerate(jobs):
            if outcome[j] is None:
                job.abort()
        stopped = RenderInterrupted("interrupted: the Ray tasks were cancelled; no partial "
                                    "output was left")
        stopped.outcome = outcome  # the jobs finished before Ctrl-C (a batch lists them)
        raise stopped from None
    finally:
        bar.close()
    return outcome


def _take(ray, ref, job: RenderJob, j: int, outcome: list, pending: dict) -> None:
    try:
        job.take(ray.get(ref))
    except Exception as e:  # a chunk failed for good (after Ray's retries)
        outcome[j] = RenderError(f"{job.req.track}: a chunk failed: {_reason(e)}", code=1)
        for other, (k, _f) in list(pending.items()):
            if k == j:
                ray.cancel(other, force=True)
        job.abort()


def _finish(job: RenderJob):
    try:
        return job.finish()
    except RenderError as e:
        job.abort()
        return e


def _reason(e: Exception) -> str:
    """The worker's own error, not Ray's wrapper around it."""
    cause = getattr(e, "cause", None)
    text = str(cause if cause is not None else e).strip().splitlines()
    return text[-1] if text else type(e).__name__

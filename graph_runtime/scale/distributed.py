"""The distributed commands: render on Ray, batch many tracks, analyse a library.

    ray_render(req, registry, address=None)        one track, chunks in parallel
    batch(reqs, registry, address=None)            many tracks, one progress bar
    analyse_library(paths, address=None)           one Ray task per track -> the cache

address None starts Ray on this machine; "auto" or "ray://HOST:10001" joins a
cluster. Workers take a GPU each where the cluster has GPUs (the engine on
CUDA), else a CPU each (the engine on torch with one thread).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from graph_runtime.render.request import (
    RenderError,
    RenderInterrupted,
    RenderRequest,
    RenderResult,
    _analyse,
    _load_patch,
)

from . import ray_env
from .chunk_render import EngineSpec
from .render_job import RenderJob
from .runner import Fault, run_jobs

DEFAULT_CHUNK_SECONDS = 10.0


@dataclass
class Cluster:
    ray: Any
    info_fn: Any
    chunk_fn: Any
    analyse_fn: Any
    gpus: int
    slots: int
    _info: dict = field(default_factory=dict)

    @classmethod
    def connect(cls, address: str | None, *, num_cpus: int | None = None) -> "Cluster":
        ray = ray_env.connect(address, num_cpus=num_cpus)
        gpus = ray_env.gpu_count(ray)
        info, chunk, analyse = ray_env.remote_functions(ray, gpus=gpus)
        return cls(ray, info, chunk, analyse, gpus, ray_env.worker_slots(ray))

    def spec(self, model: str, size: int, device: str | None,
             cpu_threads: int | None = None) -> EngineSpec:
        """CPU workers run side by side, so each engine gets one torch thread
        unless told otherwise. oneDNN's sums depend on the thread count: CPU
        frames equal a one-process render made with the same --cpu-threads."""
        if self.gpus:
            return EngineSpec(model, size, device, None)
        return EngineSpec(model, size, device, cpu_threads or 1)

    def engine_info(self, spec: EngineSpec) -> dict:
        """SAE means and model names, asked of a worker once per engine spec."""
        if spec not in self._info:
            self._info[spec] = self.ray.get(self.info_fn.remote(spec))
        return self._info[spec]


def _spec_for(cluster: Cluster, req: RenderRequest, registry) -> EngineSpec:
    patch = _load_patch(req.patch, registry)
    size = int(patch.engine.get("size", 512))
    model = req.model or str(patch.engine.get("model", "auto"))
    return cluster.spec(model, size, req.device, req.cpu_threads)


def plan_job(cluster: Cluster, req: RenderRequest, registry, *, analysis=None,
             say: Callable[[str], None] = print) -> RenderJob:
    if analysis is None:
        analysis = _analyse(req, say)
    spec = _spec_for(cluster, req, registry)
    return RenderJob.plan(req, registry, analysis, spec, cluster.engine_info(spec), say)


def ray_render(req: RenderRequest, registry, *, address: str | None = None,
               chunk_seconds: float = DEFAULT_CHUNK_SECONDS, progress: bool = True,
               analysis=None, say: Callable[[str], None] = print, num_cpus: int | None = None,
               fault: Fault | None = None,
               warn: Callable[[str], None] | None = None) -> RenderResult:
    """Render one track on Ray; the same frames as render(req) in one process.
    `warn` (default: say) gets what must be seen even under -q (a refused scene)."""
    if not chunk_seconds > 0:
        raise RenderError(f"--chunk-seconds {chunk_seconds:g}: give a positive number of seconds")
    cluster = _connect(address, num_cpus)
    say(f"ray: {cluster.slots} {'GPU' if cluster.gpus else 'CPU'} worker slot(s)")
    t0 = time.perf_counter()
    job = plan_job(cluster, req, registry, analysis=analysis, say=say)
    job.warn = warn or say
    say(f"control track: {job.frames} frames in {job.control_s:.2f} s")
    outcome = run_jobs(cluster.ray, cluster.chunk_fn, [job], progress=progress, fault=fault,
                       chunk_frames=max(1, round(chunk_seconds * req.fps)))[0]
    if isinstance(outcome, RenderError):
        raise outcome
    outcome.stats = {"wall_s": time.perf_counter() - t0, "control_phase_s": job.control_s,
                     "fps": job.frames / max(time.perf_counter() - t0, 1e-9)}
    return outcome


def _connect(address: str | None, num_cpus: int | None) -> Cluster:
    try:
        return Cluster.connect(address, num_cpus=num_cpus)
    except ray_env.RayMissing as e:
        raise RenderError(str(e), code=1) from None
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise RenderError(f"cannot reach the Ray cluster at {address}: {e}; check the address "
                          "(ray status on the head node) or leave --ray empty to run here",
                          code=1) from None


@dataclass
class BatchRow:
    track: str
    frames: int = 0
    seconds: float = 0.0
    output: str = ""
    error: str = ""
    interrupted: bool = False  # Ctrl-C stopped the batch before this track was finished


def batch(reqs: list[RenderRequest], registry, *, address: str | None = None,
          chunk_seconds: float = DEFAULT_CHUNK_SECONDS, progress: bool = True,
          say: Callable[[str], None] = print, num_cpus: int | None = None,
          warn: Callable[[str], None] | None = None) -> list[BatchRow]:
    """Analyse every track on Ray, plan each, render all chunks together.
    A track that cannot be read or rendered fails alone, with its reason."""
    cluster = _connect(address, num_cpus)
    rows = [BatchRow(r.track) for r in reqs]
    analyses = analyse_library([r.track for r in reqs], cluster=cluster, progress=progress,
                               say=say, stems=[r.stems_dir for r in reqs])
    jobs, owners = [], []
    for i, req in enumerate(reqs):
        found = analyses[i]
        if isinstance(found, str):
            rows[i].error = found
            continue
        try:
            jobs.append(plan_job(cluster, req, registry, analysis=found, say=say))
            name, out = os.path.basename(req.track), warn or say
            jobs[-1].warn = lambda line, name=name, out=out: out(f"{name}: {line}")
            owners.append(i)
        except RenderError as e:
            rows[i].error = "; ".join(e.problems)
    try:
        outcome = run_jobs(cluster.ray, cluster.chunk_fn, jobs, progress=progress,
                           chunk_frames=max(1, round(chunk_seconds * reqs[0].fps))) if jobs else []
    except RenderInterrupted as e:  # Ctrl-C: the tracks joined before it stay; say the rest
        outcome = e.outcome
    for i, got in zip(owners, outcome):
        if got is None:
            rows[i].error, rows[i].interrupted = "interrupted: cancelled, nothing kept", True
        elif isinstance(got, RenderError):
            rows[i].error = "; ".join(got.problems)
        else:
            rows[i].frames, rows[i].seconds, rows[i].output = got.frames, got.seconds, got.path
    return rows


def analyse_library(paths: list[str], *, address: str | None = None, cluster: Cluster | None = None,
                    progress: bool = True, say: Callable[[str], None] = print,
                    stems: list[str | None] | None = None, num_cpus: int | None = None) -> list:
    """Analyse every track (one Ray task each) into the analysis cache.

    Returns per track its Analysis, or a one-line reason it failed. The audio
    travels to the worker as bytes and the Analysis comes back to this
    process, which writes the cache: workers need no shared filesystem."""
    from tqdm import tqdm

    from ..analysis import cache
    from ..analysis.decode import check_path
    from ..analysis.errors import AnalysisError
    from ..analysis.pipeline import plan_for

    cluster = cluster or _connect(address, num_cpus)
    out: list[Any] = [None] * len(paths)
    pending: dict[Any, tuple[int, str, str]] = {}
    for i, path in enumerate(paths):
        stems_dir = stems[i] if stems else None
        try:
            path = check_path(path)
            plan = plan_for(path, stems_dir=stems_dir)
            key = cache.cache_key(cache.file_hash(path), plan.settings())
        except (AnalysisError, OSError) as e:
            out[i] = f"{path}: {e}"
            continue
        where = cache.cache_path(path, key)
        found = cache.lookup(where, key)
        if found is not None:
            out[i] = found
            continue
        with open(path, "rb") as f:
            data = f.read()
        ref = cluster.analyse_fn.remote(os.path.basename(path), data, stems_dir)
        pending[ref] = (i, where, key)
    bar = tqdm(total=len(paths), initial=len(paths) - len(pending), unit="track",
               disable=not progress, desc="analyse (ray)", dynamic_ncols=True)
    try:
        while pending:
            ready, _ = cluster.ray.wait(list(pending), num_returns=1)
            for ref in ready:
                i, where, key = pending.pop(ref)
                out[i] = _store(cluster.ray, ref, paths[i], where, key)
                bar.update(1)
    except KeyboardInterrupt:
        for ref in pending:
            cluster.ray.cancel(ref, force=True)
        raise
    finally:
        bar.close()
    return out


def _store(ray, ref, path: str, where: str, key: str):
    from ..analysis import cache

    try:
        analysis = ray.get(ref)
    except Exception as e:
        cause = getattr(e, "cause", None) or e
        return f"{path}: {str(cause).strip().splitlines()[-1] if str(cause).strip() else cause}"
    analysis.meta.update(cache_key=key, cache_path=where, cache_hit=False)
    cache.store(analysis, where)
    return analysis

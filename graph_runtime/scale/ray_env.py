"""Ray, optional: one place that imports it, starts or joins a cluster, and
defines the remote functions.

`connect(None)` starts Ray on this machine (a laptop); `connect("ray://host:10001")`
or `connect("auto")` joins a running cluster. Workers load the engine once per
process (chunk_render caches it) and render many chunks.
"""
from __future__ import annotations

import os

INSTALL_HINT = ("Ray is not installed: pip install 'hambajuba[ray]' "
                "(or run without --ray to use this machine only)")
RETRIES = 3  # a worker that dies mid-chunk: Ray runs the chunk again elsewhere


class RayMissing(RuntimeError):
    pass


def require_ray():
    try:
        import ray
    except ModuleNotFoundError:
        raise RayMissing(INSTALL_HINT) from None
    return ray


def connect(address: str | None, *, num_cpus: int | None = None):
    """Start Ray here (address None) or join `address`; returns the ray module."""
    ray = require_ray()
    if not ray.is_initialized():
        # workers import graph_runtime from the same installed environment
        # (a cluster's image must have hambajuba installed, as for any Ray job)
        ray.init(address=address, num_cpus=num_cpus if address is None else None,
                 include_dashboard=False, log_to_driver=False, configure_logging=False)
    return ray


def gpu_count(ray) -> int:
    return int(ray.cluster_resources().get("GPU", 0))


def worker_slots(ray) -> int:
    gpus = gpu_count(ray)
    return gpus if gpus else max(1, int(ray.cluster_resources().get("CPU", 1)))


def _render_chunk(spec, track, start, kind, fault_marker=None, arts=None):
    if fault_marker is not None and not os.path.exists(fault_marker):
        # tests: this attempt's worker dies mid-chunk, as a killed machine would
        with open(fault_marker, "w") as f:
            f.write(str(os.getpid()))
        os._exit(1)
    from .chunk_render import render_chunk

    return render_chunk(spec, track, start, kind, arts)


def _engine_info(spec):
    from .chunk_render import engine_info

    return engine_info(spec)


def _analyse_bytes(name: str, data: bytes, stems_dir=None):
    import tempfile

    from ..analysis.pipeline import analyze

    with tempfile.TemporaryDirectory(prefix="hambajuba-ray-") as tmp:
        path = os.path.join(tmp, os.path.basename(name))
        with open(path, "wb") as f:
            f.write(data)
        analysis = analyze(path, stems_dir=stems_dir, use_cache=False)
    return analysis


def remote_functions(ray, *, gpus: int):
    """(engine_info, render_chunk, analyse_bytes) as Ray remote functions.
    Engine work takes a whole GPU where the cluster has GPUs, a CPU otherwise."""
    engine_opts = {"num_gpus": 1} if gpus else {"num_cpus": 1}
    info = ray.remote(max_retries=RETRIES, **engine_opts)(_engine_info)
    chunk = ray.remote(max_retries=RETRIES, **engine_opts)(_render_chunk)
    analyse = ray.remote(max_retries=RETRIES, num_cpus=1)(_analyse_bytes)
    return info, chunk, analyse


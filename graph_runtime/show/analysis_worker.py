"""Track analysis in a separate, lower-priority process, so the window keeps its frame rate.

On a 2-core machine an analysis thread inside the window's process took the
window from ~19 to ~11 fps: it competes for the GIL between numpy calls and
for both cores at the window's own priority. Here the pipeline runs in a
spawned child process (fork is unsafe once torch or the window's threads
exist) that lowers itself to nice NICE (5: the window wins contested time
slices about 3:1, yet a CPU engine or other work at nice 0 slows the
analysis, never stalls it) and leaves a core to the window (torch and BLAS
on cpus - 1 threads, at least 1). The child writes the
Analysis to a temporary .npz (allow_pickle=False on the way back) and
reports progress on a queue; the parent loads it. Its errors come back as
one line.

`analyze_in_background(path, progress, duration)` has the signature the
Transport's loader thread calls, so it replaces the in-process analysis
without the Transport knowing. HAMBAJUBA_ANALYSIS_IN_PROCESS=1 keeps the
old in-process path (debugging).
"""
from __future__ import annotations

import os
import queue
import tempfile
from typing import Callable

NICE = 5  # the child's niceness (the window runs at 0)
POLL_S = 0.2  # seconds between looks at the child while waiting
START_TIMEOUT_S = 120.0  # a child that says nothing for this long (not even "started") is stuck
LAST_CHILD: dict = {}  # pid, nice, threads of the last child (tests and the bench read it)


def _threads() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


def _die_with_parent() -> None:
    """The window gone (even killed): this process goes too (Linux prctl, else a watcher)."""
    import ctypes
    import signal
    import threading
    import time

    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        return
    except (OSError, AttributeError):
        pass
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _child(path: str, out: str, q) -> None:
    """In the spawned process: lower priority, limit threads, analyse, save."""
    _die_with_parent()
    try:
        os.nice(NICE)
    except OSError:
        pass
    n = str(_threads())
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, n)
    # torch reads OMP_NUM_THREADS when the pipeline imports it
    q.put(("started", {"pid": os.getpid(), "nice": os.nice(0), "threads": int(n)}))
    try:
        from graph_runtime.analysis.pipeline import analyze

        def progress(*args, **kwargs):
            vals = [a for a in list(args) + list(kwargs.values())
                    if isinstance(a, (str, int, float)) and not isinstance(a, bool)]
            q.put(("progress", tuple(vals)))

        analysis = analyze(path, progress=progress)
        analysis.save(out)
        q.put(("done", out))
    except BaseException as e:  # noqa: BLE001 - everything goes back as one line
        text = str(e).strip().splitlines()
        q.put(("error", text[0] if text else type(e).__name__))


def analyze_in_background(path: str, progress: Callable[..., None], duration: float):
    """(analysis, notice): the pipeline's analysis, computed in a niced child process."""
    import multiprocessing as mp

    from graph_runtime.analysis.store import Analysis

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    fd, out = tempfile.mkstemp(prefix="hambajuba-analysis-", suffix=".npz")
    os.close(fd)
    proc = ctx.Process(target=_child, args=(os.fspath(path), out, q), daemon=True,
                       name="hambajuba-analysis")
    try:
        proc.start()
        result = _wait(proc, q, progress)
        return Analysis.load(result), ""
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(5)
        try:
            os.unlink(out)
        except OSError:
            pass


def _wait(proc, q, progress) -> str:
    """Relay progress until the child is done; its saved file, or RuntimeError."""
    import time

    started, last = False, time.monotonic()
    while True:
        try:
            kind, value = q.get(timeout=POLL_S)
        except queue.Empty:
            if not proc.is_alive():
                raise RuntimeError(f"the analysis process ended (exit {proc.exitcode}) "
                                   "without a result") from None
            if not started and time.monotonic() - last > START_TIMEOUT_S:
                raise RuntimeError("the analysis process did not start") from None
            continue
        if kind == "started":
            started = True
            LAST_CHILD.clear()
            LAST_CHILD.update(value)
        elif kind == "progress":
            progress(*value)
        elif kind == "done":
            return value
        elif kind == "error":
            raise RuntimeError(value)


def in_process_analyze(path: str, progress: Callable[..., None], duration: float):
    """(analysis, notice): the pipeline in this process; the notice is always ""."""
    from graph_runtime.analysis.pipeline import analyze

    return analyze(path, progress=progress), ""


def default_analyze(path: str, progress: Callable[..., None], duration: float):
    """The Transport's analysis: the pipeline in a niced process (in this
    process with HAMBAJUBA_ANALYSIS_IN_PROCESS=1)."""
    if os.environ.get("HAMBAJUBA_ANALYSIS_IN_PROCESS") == "1":
        return in_process_analyze(path, progress, duration)
    return analyze_in_background(path, progress, duration)

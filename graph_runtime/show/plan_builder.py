"""One worker thread that builds plans off the window's main thread.

A structural edit (a node or link added or removed) needs a new Plan. With
the per-track work cached (graph_runtime/graph/prepare_cache.py) building one costs
about a millisecond, but a new cache entry (an ensemble with new ranks on a
long track) can take far longer, and the window must keep drawing. So the
build runs here; the main thread waits for it only a short budget and
otherwise keeps running the old plan, swapping when the new one is ready,
always between two frames (LiveSession.update).

One build at a time, one result slot: the LiveSession starts the next build
only after taking the previous result. No dearpygui.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from graph_runtime.graph import prepare_cache


class PlanBuilder:
    def __init__(self) -> None:
        # builds on this worker share the per-analysis caches with the main thread
        prepare_cache.share_between_threads(threading.RLock())
        self._cond = threading.Condition()
        self._job: Callable[[], Any] | None = None
        self._result: Any = None
        self._busy = False
        self._stop = False
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def ready(self) -> bool:
        """A finished build waits in the result slot."""
        return not self._busy and self._result is not None

    def start(self, job: Callable[[], Any]) -> None:
        """Run job() on the worker; its return value (or the exception it
        raised) comes back from take()."""
        with self._cond:
            if self._busy:
                raise RuntimeError("a plan build is already running")
            self._job, self._result, self._busy = job, None, True
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="hambajuba-plan-builder",
                                                daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def wait(self, timeout: float) -> bool:
        """Block at most `timeout` seconds for the running build; True when done."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._busy, timeout)

    def take(self) -> Any:
        """The finished build's result once (None while running or taken)."""
        with self._cond:
            if self._busy:
                return None
            result, self._result = self._result, None
            return result

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._job is not None or self._stop)
                if self._stop:
                    return
                job, self._job = self._job, None
            try:
                result = job()
            except BaseException as e:  # handed to the main thread, which reports it
                result = e
            with self._cond:
                self._result, self._busy = result, False
                self._cond.notify_all()

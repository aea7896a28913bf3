"""Prepare work shared across compiles: one AnalysisCache per analysis.

Editing a patch recompiles it (a structural edit) or re-prepares one node
(a param edit). What a node computes from the whole track depends only on
(analysis, node type, params), and so do the channel tables the ChannelBank
interpolates: both are built once per analysis here and shared by every plan
compiled against it (the plan, its meter twin `monitor`, every recompile),
so an edit on a 60-minute track costs what it costs on a 30-second one.

Two kinds of entry:

    table   ChannelTable: every signal channel any plan asked for, one row
            per channel, (capacity, n + 1) float64; rows are only ever added.
    memo    key -> value for prepare work (PrepareContext.cached): the
            ensemble's prominence table, the noise walk's angle, trigger
            pulse counts. Values are shared: read them, never write them.

A compile may run "cached only" (compile_patch(..., cached_only=True)): any
entry missing raises CacheMiss instead of being built, so the caller can do
a cheap compile on the window's main thread and hand only the expensive
ones (a new track, an ensemble with new ranks) to a worker thread.

The cache lives as long as its analysis (a weak reference): loading another
track drops it. Single-threaded by contract, until the show shares it: the
window's plan builder (graph_runtime/show/plan_builder.py) compiles on its own
thread, and hands this module a lock (`share_between_threads`) before that
thread starts; from then on every cache takes it around its dictionaries.
Building happens outside the lock (two threads may build the same entry once
each; the first stored wins).

Imports only numpy: the lock comes from the show, so graph/ imports no threads.
"""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np

FIRST_ROWS = 64  # channels a table holds before it grows (doubling)


class CacheMiss(Exception):
    """A cached-only compile needed an entry nobody has built yet."""


class _OneThread:
    """The lock while only one thread compiles: entering it costs a call."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> bool:
        return False


_lock: Any = _OneThread()  # every cache's lock, looked up at each use


def share_between_threads(lock) -> None:
    """From now on caches may be used by several threads at once: `lock` (a
    re-entrant lock, e.g. threading.RLock()) guards every cache's dictionaries.
    Call it before the second thread starts; the first lock given stays."""
    global _lock
    if isinstance(_lock, _OneThread):
        _lock = lock


class ChannelTable:
    """Rows of signal channels, each padded to n + 1 frames with its last
    value (so frame i + 1 exists for every i < n). Column-major: a row is
    one channel, contiguous; np.zeros leaves rows never written uncommitted,
    so capacity costs no memory until used."""

    def __init__(self, analysis, source) -> None:
        self._source = source  # () -> the analysis: a weak reference, the cache must not keep it
        n = int(getattr(analysis, "n_frames", 0) or 0) if analysis is not None else 0
        self.n = max(n, 1)  # frames; an empty or absent analysis reads one silent frame
        self._index: dict[str, int] = {}
        self.data = np.zeros((FIRST_ROWS, self.n + 1))

    def missing(self, names) -> list[str]:
        with _lock:
            return [n for n in names if n not in self._index]

    def rows_for(self, names: list[str]) -> tuple[list[int], np.ndarray]:
        """Row of each channel (added when new) and the array they are all in.

        The array stays valid for the caller: growing allocates a new one and
        copies the used rows; adding a row writes only that row."""
        missing = [n for n in dict.fromkeys(names) if n not in self._index]
        columns = {n: self._column(n) for n in missing}  # built outside the lock
        with _lock:
            for name, col in columns.items():
                if name in self._index:
                    continue
                row = len(self._index)
                if row >= self.data.shape[0]:
                    grown = np.zeros((2 * self.data.shape[0], self.n + 1))
                    grown[:row] = self.data[:row]
                    self.data = grown
                self.data[row] = col
                self._index[name] = row
            return [self._index[n] for n in names], self.data

    def _column(self, name: str) -> np.ndarray:
        c = _channel(self._source(), name).astype(np.float64)[: self.n]
        out = np.empty(self.n + 1)
        out[: len(c)] = c
        out[len(c):] = c[-1] if len(c) else 0.0
        return out


class AnalysisCache:
    def __init__(self, analysis) -> None:
        try:
            self.source = weakref.ref(analysis) if analysis is not None else (lambda: None)
        except TypeError:  # not weakly referenceable: this cache is never shared
            self.source = lambda: analysis
        self.table = ChannelTable(analysis, self.source)
        self._memo: dict = {}

    def memo(self, key, build, *, cached_only: bool = False):
        with _lock:
            if key in self._memo:
                return self._memo[key]
        if cached_only:
            raise CacheMiss(key)
        value = build()
        with _lock:
            return self._memo.setdefault(key, value)

    def has(self, key) -> bool:
        with _lock:
            return key in self._memo

    def cached_only(self) -> "CachedOnly":
        return CachedOnly(self)

    def counts(self, name: str) -> list[int]:
        """Pulses of trigger channel `name` up to and including each frame."""
        return self.memo(("channel.counts", name),
                         lambda: np.cumsum(_channel(self.source(), name) > 0.5).tolist())

    def entries(self) -> int:
        return len(self._memo)


class CachedOnly:
    """The cache as a cached-only compile sees it: a missing entry raises."""

    def __init__(self, cache: AnalysisCache) -> None:
        self.cache = cache

    def memo(self, key, build):
        return self.cache.memo(key, build, cached_only=True)

    def cached_only(self) -> "CachedOnly":
        return self


def _channel(analysis, name: str) -> np.ndarray:
    if analysis is None:
        return np.zeros(1, dtype=np.float32)
    return analysis.channel_or_zeros(name)


_caches: dict[int, AnalysisCache] = {}


def cache_for(analysis) -> AnalysisCache:
    """The cache of this analysis object (by identity), made on first use.

    An object that cannot be weakly referenced gets a fresh, unshared cache."""
    if analysis is None:
        return AnalysisCache(None)
    key = id(analysis)
    with _lock:
        found = _caches.get(key)
        if found is not None and found.source() is analysis:
            return found
        cache = AnalysisCache(analysis)
        try:
            weakref.finalize(analysis, _drop, key, cache)
        except TypeError:
            return cache
        _caches[key] = cache
        return cache


def _drop(key: int, cache: AnalysisCache) -> None:
    with _lock:
        if _caches.get(key) is cache:
            del _caches[key]

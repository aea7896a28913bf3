"""The hand-off from the MIDI/OSC threads to the frame: one preallocated slot per source.

A source is one thing a controller can move: a CC on a channel of a port,
a note, an OSC address. Its slot holds the newest value, when it arrived,
and two running totals the producer only ever adds to: `count` (messages
posted) and `total` (sum of relative deltas, for endless encoders). The
main thread drains once at the start of each frame and sees, per source
that moved, the last value plus how many messages and how much relative
travel arrived since it last looked. So a flood of 10,000 messages a
second to one fader costs the frame one slot read: values coalesce per
source, and nothing grows.

Why no lock on the hot path: each slot has exactly one writer thread (a
MIDI port's callback thread, or the one OSC receive thread), the GIL makes
each list store atomic, and the producer writes the value before it bumps
`posted`. The drain reads `posted` first, then the value, so it sees a
value at least as new as the sequence number it records. A message that
lands mid-drain bumps `posted` again and is picked up next frame.

Only allocating a slot for a source never seen before takes a lock; the
table is bounded (CAPACITY) and refuses new sources past it, counting them.

OSC addresses come from anyone who can send a datagram, so they do not get
slots on their say-so: `post_osc` gives a slot only to an address the show
knows (`osc_known`, set by the control session: params, commands, scenes,
bindings, osc.in nodes). Any other address is counted (`unknown`) and goes
into a small ring of strays (STRAYS, overwritten oldest first) that the
session reads for learn and for its "unknown address" report. So a sweep of
a million addresses costs nothing but a counter, and known controls never
starve.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Hashable, Iterator

CAPACITY = 4096  # distinct sources; a show uses tens (MIDI keys and known OSC addresses)
STRAYS = 16  # unknown OSC messages kept for the session to look at (the newest)


class Inbox:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = int(capacity)
        self._index: dict[Hashable, int] = {}
        self.keys: list[Hashable] = [None] * self.capacity
        self.values: list[Any] = [None] * self.capacity
        self.stamps: list[float] = [0.0] * self.capacity  # time.perf_counter() s of the last post
        self.totals: list[float] = [0.0] * self.capacity  # running sum of relative deltas
        self.counts: list[int] = [0] * self.capacity  # messages posted (producer-owned)
        self._taken_count: list[int] = [0] * self.capacity  # drain-owned twins
        self._taken_total: list[float] = [0.0] * self.capacity
        self.n = 0  # slots in use
        self.refused = 0  # posts dropped because the table was full
        self._grow = threading.Lock()
        self.osc_known: Callable[[str], bool] | None = None  # None: every address (no session)
        self.unknown = 0  # OSC messages to addresses the show does not know (no slot taken)
        self.strays: list[tuple[str, Any, bool] | None] = [None] * STRAYS  # (address, args, bad)

    # -- producer side (any one thread per source) --------------------------------
    def slot(self, key: Hashable) -> int:
        """The slot index of a source, allocated on first use; -1 when full."""
        i = self._index.get(key)
        if i is not None:
            return i
        with self._grow:
            i = self._index.get(key)
            if i is not None:
                return i
            if self.n >= self.capacity:
                return -1
            i = self.n
            self.keys[i] = key
            self._index[key] = i
            self.n = i + 1  # published last: the drain never sees a half-made slot
            return i

    def post(self, key: Hashable, value: Any, delta: float = 0.0,
             stamp: float | None = None) -> bool:
        """Latest value of a source (and a relative delta to add). False when refused."""
        i = self.slot(key)
        if i < 0:
            self.refused += 1
            return False
        self.values[i] = value
        self.stamps[i] = time.perf_counter() if stamp is None else stamp
        if delta:
            self.totals[i] += delta
        self.counts[i] += 1  # last: marks the slot dirty for the drain
        return True

    def post_osc(self, address: str, args: Any, *, bad: bool = False) -> bool:
        """An OSC message (one receive thread): a slot only for an address the show knows.
        bad: args failed a check (NaN); `args` is then the reason text."""
        key = ("oscbad" if bad else "osc", address)
        known = self.osc_known
        if key in self._index or known is None or known(address):
            return self.post(key, args)
        n = self.unknown
        self.strays[n % STRAYS] = (address, args, bad)
        self.unknown = n + 1  # last: the stray is in place when the session sees the count
        return False

    def new_strays(self, seen: int) -> Iterator[tuple[str, Any, bool]]:
        """The unknown messages after the first `seen` (at most STRAYS of them, newest kept)."""
        n = self.unknown
        for i in range(max(seen, n - STRAYS), n):
            stray = self.strays[i % STRAYS]
            if stray is not None:
                yield stray

    # -- consumer side (the main thread, once per frame) ---------------------------
    def drain(self) -> Iterator[tuple[Hashable, Any, int, float, float]]:
        """Yield (key, value, new_messages, new_delta, stamp) per source that moved."""
        counts, taken = self.counts, self._taken_count
        for i in range(self.n):
            c = counts[i]
            if c == taken[i]:
                continue
            total = self.totals[i]
            value, stamp = self.values[i], self.stamps[i]
            new, delta = c - taken[i], total - self._taken_total[i]
            taken[i] = c
            self._taken_total[i] = total
            yield self.keys[i], value, new, delta, stamp

    def pending(self) -> int:
        """Sources with unread messages (what the flood test watches: <= n, never more)."""
        return sum(1 for i in range(self.n) if self.counts[i] != self._taken_count[i])

    def posted(self) -> int:
        return sum(self.counts[: self.n])

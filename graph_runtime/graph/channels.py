"""ChannelBank: samples every analysis channel a plan reads, once per frame.

Nodes ask for channels in `prepare` (`ctx.bank.signal("drums/energy_smooth")`)
and get a Wire; at the start of each frame the plan calls `bank.update(t)`,
which interpolates all requested signal channels in one vectorised step into
a preallocated buffer, then sets the wires. Trigger channels (transient,
beat, layer_entry) are not interpolated: a pulse fires on the first frame
whose time passes it, whatever the frame rate, so a 30 fps render and a
60 fps window see the same beats.

The tables themselves are shared (plan_cache): a channel's padded frames
are built once per analysis, so a recompile, the meter twin and a node
re-prepared by a param edit only look up row numbers. Channels asked for
after freeze() (a re-prepared source now reads another stem) are picked up
by calling freeze() again.

Imports only numpy.
"""
from __future__ import annotations

import numpy as np

from .node import Wire
from .prepare_cache import cache_for


class ChannelBank:
    def __init__(self, analysis=None) -> None:
        self.analysis = analysis
        self.fps = float(getattr(analysis, "fps", 50.0))
        self._cache = cache_for(analysis)
        self._signal_names: list[str] = []
        self._signal_index: dict[str, int] = {}
        self._signal_wires: list[Wire] = []
        self._trigger_names: list[str] = []
        self._trigger_wires: list[Wire] = []
        self._flat = np.zeros(2)  # the shared table, flattened: row r starts at r * (n + 1)
        self._starts = np.zeros(0, dtype=np.intp)  # flat index of each signal's frame 0
        self._idx = np.zeros(0, dtype=np.intp)
        self._a = np.zeros(0)
        self._b = np.zeros(0)
        self._counts: list[list[int]] = []  # per trigger: pulses up to frame i
        self._last_index = -1
        self._n = 1

    # -- compile time ------------------------------------------------------------
    def signal(self, name: str) -> Wire:
        """A wire carrying channel `name`, linearly interpolated at t.

        A channel the track lacks (no vocals stem) reads as silence."""
        found = self._signal_index.get(name)
        if found is not None:
            return self._signal_wires[found]
        wire = Wire(0.0)
        self._signal_index[name] = len(self._signal_names)
        self._signal_names.append(name)
        self._signal_wires.append(wire)
        return wire

    def trigger(self, name: str) -> Wire:
        """A wire that is True on the frame where a pulse of `name` is passed."""
        if name in self._trigger_names:
            return self._trigger_wires[self._trigger_names.index(name)]
        wire = Wire(False)
        self._trigger_names.append(name)
        self._trigger_wires.append(wire)
        return wire

    def array(self, name: str) -> np.ndarray:
        """The whole channel (for nodes that precompute per track)."""
        if self.analysis is None:
            return np.zeros(1, dtype=np.float32)
        return self.analysis.channel_or_zeros(name)

    def uncached(self) -> list[str]:
        """Channels whose shared tables are not built yet (freeze() would build them)."""
        out = self._cache.table.missing(self._signal_names)
        return out + [n for n in self._trigger_names if not self._cache.has(("channel.counts", n))]

    def mark(self) -> tuple[int, int]:
        return len(self._signal_names), len(self._trigger_names)

    def rewind(self, mark: tuple[int, int]) -> None:
        """Forget channels asked for since mark() (a re-prepare that was undone)."""
        for name in self._signal_names[mark[0]:]:
            del self._signal_index[name]
        del self._signal_names[mark[0]:], self._signal_wires[mark[0]:]
        del self._trigger_names[mark[1]:], self._trigger_wires[mark[1]:]

    @property
    def channel_count(self) -> int:
        """Channels asked for so far (a change means freeze() is due again)."""
        return len(self._signal_names) + len(self._trigger_names)

    def freeze(self) -> None:
        """Look up the shared tables; after this, update() allocates nothing.
        Calling it again after more channels were asked for is cheap."""
        table = self._cache.table
        rows, data = table.rows_for(self._signal_names)
        stride = table.n + 1
        self._n = table.n
        self._flat = data.reshape(-1)
        self._starts = np.asarray(rows, dtype=np.intp) * stride
        self._idx = np.empty_like(self._starts)
        self._a = np.zeros(len(rows))
        self._b = np.zeros(len(rows))
        self._counts = [self._cache.counts(name) for name in self._trigger_names]

    # -- per frame -----------------------------------------------------------------
    def update(self, t: float) -> None:
        x = t * self.fps
        if x < 0.0:
            x = 0.0
        elif x > self._n - 1:
            x = float(self._n - 1)
        i = int(x)
        f = x - i
        if self._signal_wires:
            idx, a, b = self._idx, self._a, self._b
            np.add(self._starts, i, out=idx)
            np.take(self._flat, idx, out=a, mode="clip")  # "clip": no buffer; indices are in range
            np.add(idx, 1, out=idx)
            np.take(self._flat, idx, out=b, mode="clip")
            np.multiply(a, 1.0 - f, out=a)
            np.multiply(b, f, out=b)
            np.add(a, b, out=a)
            item = a.item
            for j, w in enumerate(self._signal_wires):
                w.v = item(j)
        if self._trigger_wires:
            last = self._last_index
            for counts, w in zip(self._counts, self._trigger_wires):
                if last < 0:  # first frame after a seek: only a pulse on this frame
                    w.v = counts[i] > (counts[i - 1] if i > 0 else 0)
                else:  # any pulse passed since the previous frame; none going back
                    w.v = i > last and counts[i] > counts[last]
            self._last_index = i

    def seek(self) -> None:
        """Forget the previous frame (after a jump, no pulse fires for the gap)."""
        self._last_index = -1

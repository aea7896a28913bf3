"""ChannelBank: samples every analysis channel a plan reads, once per frame.

Nodes ask for channels in `prepare` (`ctx.bank.signal("drums/energy_smooth")`)
and get a Wire; at the start of each frame the plan calls `bank.update(t)`,
which interpolates all requested signal channels in one vectorised step into
a preallocated buffer, then sets the wires. Trigger channels (transient,
beat, layer_entry) are not interpolated: a pulse fires on the first frame
whose time passes it, whatever the frame rate, so a 30 fps render and a
60 fps window see the same beats.

Imports only numpy.
"""
from __future__ import annotations

import numpy as np

from .node import Wire


class ChannelBank:
    def __init__(self, analysis=None) -> None:
        self.analysis = analysis
        self.fps = float(getattr(analysis, "fps", 50.0))
        self._signal_names: list[str] = []
        self._signal_wires: list[Wire] = []
        self._trigger_names: list[str] = []
        self._trigger_wires: list[Wire] = []
        self._table = np.zeros((2, 0))  # (n_frames + 1, n_signals) float64
        self._buf = np.zeros(0)
        self._tmp = np.zeros(0)
        self._counts: list[list[int]] = []  # per trigger: pulses up to frame i
        self._last_index = -1
        self._n = 0

    # -- compile time ------------------------------------------------------------
    def signal(self, name: str) -> Wire:
        """A wire carrying channel `name`, linearly interpolated at t.

        A channel the track lacks (no vocals stem) reads as silence."""
        if name in self._signal_names:
            return self._signal_wires[self._signal_names.index(name)]
        wire = Wire(0.0)
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

    def freeze(self) -> None:
        """Build the lookup tables; after this, update() allocates nothing."""
        cols = [self.array(n).astype(np.float64) for n in self._signal_names]
        n = max((len(c) for c in cols), default=1)
        n = max(n, len(self.array(self._trigger_names[0])) if self._trigger_names else 1)
        self._n = n
        table = np.zeros((n + 1, len(cols)))
        for j, c in enumerate(cols):
            table[: len(c), j] = c
            table[len(c):, j] = c[-1] if len(c) else 0.0
        self._table = table
        self._buf = np.zeros(len(cols))
        self._tmp = np.zeros(len(cols))
        self._counts = []
        for name in self._trigger_names:
            pulses = self.array(name) > 0.5
            self._counts.append(np.cumsum(pulses).tolist())
        self._last_index = -1

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
            table = self._table
            np.multiply(table[i], 1.0 - f, out=self._buf)
            np.multiply(table[i + 1], f, out=self._tmp)
            np.add(self._buf, self._tmp, out=self._buf)
            item = self._buf.item
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

"""The ensemble's prominence on live input: the table's formula frame by frame.

Offline the Ensemble computes a whole-track table once per compile. A live
source has no track, only the newest row of its channel ring (graph_runtime/
live/bank.py), so the live Ensemble binds the same channels as bank wires at
compile time (energy_smooth, activity, novelty_short, and for auto stems
layer_entry and novelty_medium; lock_index and call_response of every
same-rank pair, coupling computed live by graph_runtime/live/coupling.py) and
runs the table's recurrences causally, as the table itself is causal:

    novelty   rise of novelty_short per second / NOVELTY_RISE_FULL, held with an
              exponential release of NOVELTY_HOLD_S
    gate      activity >= 0.5, released over GATE_RELEASE_S
    surprise  a layer entry or novelty_medium crossing the trigger, released
              over surprise_s / 3
    coupling  the closest same-rank peer's lock_index above LOCK_THRESHOLD
    call/resp the peer with the most call_response: x(1 + CALL_GAIN cr) for the
              louder stem, x(1 - RESPONSE_CUT cr) for the quieter

A release of tau seconds decays by exp(-dt / tau) over a frame of dt seconds.
Per frame: Python scalar arithmetic over the ranked stems and their peers
(at most 9 x 8 pairs), no containers built, no numpy objects.
"""
from __future__ import annotations

import math

from graph_runtime.analysis.store import STEMS, pair_key

from .ensemble_rules import (
    CALL_GAIN,
    GATE_RELEASE_S,
    LOCK_THRESHOLD,
    NOVELTY_HOLD_S,
    NOVELTY_RISE_FULL,
    RANKS,
    RESPONSE_CUT,
)


def _clip01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


class _Stem:
    """One ranked stem's wires and running state."""

    __slots__ = ("out", "base", "auto", "energy", "activity", "nov_s", "layer", "nov_m", "peers",
                 "e", "prev_nov", "nov_hold", "gate", "surprise", "above", "coupling", "factor")

    def __init__(self, out, base: float, auto: bool, wire) -> None:
        self.out, self.base, self.auto = out, base, auto
        self.energy, self.activity, self.nov_s = (wire("energy_smooth"), wire("activity"),
                                                  wire("novelty_short"))
        self.layer, self.nov_m = (wire("layer_entry"), wire("novelty_medium")) if auto else (None, None)
        self.peers: tuple = ()
        self.e = self.prev_nov = self.nov_hold = self.gate = self.surprise = 0.0
        self.coupling, self.factor = 0.0, 1.0     # this frame's, set by LiveEnsemble._peers
        self.above = False


class LiveEnsemble:
    def __init__(self, ranks: dict[str, str], p: dict, bank, outputs: dict) -> None:
        """ranks: stem -> rank choice; p: the node's params; bank: the live bank (its
        signal(name) wires); outputs: stem -> output wire, plus "energy"."""
        self.p = p
        self.energy_out = outputs["energy"]
        ranked = [s for s in STEMS if ranks[s] != "off"]
        self.stems = tuple(
            _Stem(outputs[s], RANKS[ranks[s]], ranks[s] == "auto",
                  lambda c, s=s: bank.signal(f"{s}/{c}")) for s in ranked)
        by_name = dict(zip(ranked, self.stems))
        for s, st in by_name.items():
            rank = ranks[s]
            st.peers = tuple(
                (bank.signal(f"coupling/{pair_key(s, q)}/lock_index"),
                 bank.signal(f"coupling/{pair_key(s, q)}/call_response"), by_name[q])
                for q in ranked if q != s and ranks[q] == rank and rank != "auto")
        self.first = True

    def reset(self) -> None:
        for st in self.stems:
            st.e = st.prev_nov = st.nov_hold = st.gate = st.surprise = 0.0
            st.above = False
        self.first = True

    def step(self, t: float, dt: float) -> None:
        p = self.p
        dt = dt if dt > 0.0 else 0.0
        r_nov = math.exp(-dt / NOVELTY_HOLD_S)
        r_gate = math.exp(-dt / GATE_RELEASE_S)
        r_sur = math.exp(-dt / (p["surprise_s"] / 3.0))
        for st in self.stems:
            st.e = _clip01(st.energy.v)
        w_sum = we_sum = 0.0
        for st in self.stems:
            nov_s = st.nov_s.v
            rise = 0.0 if (self.first or dt <= 0.0) else (nov_s - st.prev_nov) / dt
            st.prev_nov = nov_s
            held = st.nov_hold * r_nov
            x = _clip01(rise / NOVELTY_RISE_FULL)
            st.nov_hold = x if x > held else held
            novelty = min(st.nov_hold, 1.0) * p["novelty_max"]
            self._peers(st)
            g = st.gate * r_gate
            st.gate = 1.0 if st.activity.v >= 0.5 else g
            surprise = 0.0
            if st.auto:
                above = st.nov_m.v >= p["novelty_trigger"]
                event = st.layer.v >= 0.5 or (above and not st.above)
                st.above = above
                s = st.surprise * r_sur
                st.surprise = p["surprise_peak"] if event and p["surprise_peak"] > s else s
                surprise = st.surprise
            prom = _clip01(st.base * (1.0 + novelty + st.coupling) * st.factor * min(st.gate, 1.0) + surprise)
            st.out.v = prom
            w_sum += prom
            we_sum += prom * st.e
        self.energy_out.v = we_sum / w_sum if w_sum > 1e-6 else 0.0
        self.first = False

    def _peers(self, st: _Stem) -> None:
        """st.coupling and st.factor from the closest same-rank peer (none: 0 and 1)."""
        if not st.peers:
            st.coupling, st.factor = 0.0, 1.0
            return
        lock, best_cr, best_peer = -1.0, -1.0, None
        for lock_w, cr_w, peer in st.peers:
            if lock_w.v > lock:
                lock = lock_w.v
            cr = _clip01(cr_w.v)
            if cr > best_cr:
                best_cr, best_peer = cr, peer
        st.coupling = _clip01((lock - LOCK_THRESHOLD) / (1.0 - LOCK_THRESHOLD)) * self.p["coupling_max"]
        st.factor = (1.0 + CALL_GAIN * best_cr) if st.e >= best_peer.e else (1.0 - RESPONSE_CUT * best_cr)

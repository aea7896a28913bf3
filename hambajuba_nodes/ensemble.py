"""The dancer ensemble: how much of the stage each stem gets, frame by frame.

The user ranks stems (R1 lead ... R4 subtle, or Auto); the music modulates:

    prominence = base * (1 + novelty + coupling) * call_response * gate + surprise

clamped to [0, 1], where
    base          rank weight: R1 1.0, R2 0.65, R3 0.40, R4 0.25, Auto 0.05
    novelty       up to +0.30 while the stem's short novelty is rising
    coupling      up to +0.50 when a stem of the same rank is locked with it
                  (lock index above 0.5, full bonus at 1.0)
    call_response x0.6..x1.3 for same-rank stems that alternate: the louder
                  (calling) one up to x1.3, the answering one down to x0.6
    gate          0..1: closes below -40 dB (the activity channel), fading out
                  over 300 ms instead of cutting
    surprise      Auto stems only: jumps to 0.7 on a layer entry or a strong
                  medium-scale novelty, then decays over about 3 s

Everything here depends only on the analysis and the params, so the whole
table is computed once per compile (vectorised over frames) and a frame is
one interpolated row. On live input there is no track to tabulate: the same
formula runs frame by frame on the live bank's channels (ensemble_live.py).
The `energy` output is the prominence-weighted energy of the ranked stems: what a reactive prompt destination follows.
"""
from __future__ import annotations

import numpy as np

from graph_runtime.analysis.store import STEMS, pair_key
from graph_runtime.graph.node import Node, Param, signal

from .ensemble_live import LiveEnsemble
from .ensemble_rules import (  # noqa: F401 (re-exported)
    CALL_GAIN,
    COUPLING_MAX,
    GATE_RELEASE_S,
    LOCK_THRESHOLD,
    NOVELTY_HOLD_S,
    NOVELTY_MAX,
    NOVELTY_RISE_FULL,
    RANK_CHOICES,
    RANKS,
    RESPONSE_CUT,
)


def prominence(base: float, novelty: float, coupling: float, call_response: float,
               gate: float, surprise: float) -> float:
    """The formula, for one stem and one frame."""
    p = base * (1.0 + novelty + coupling) * call_response * gate + surprise
    return 0.0 if p < 0.0 else 1.0 if p > 1.0 else p


def decay_hold(x: np.ndarray, tau_frames: float) -> np.ndarray:
    """y[i] = max(x[i], y[i-1] * r), r = exp(-1/tau): instant attack,
    exponential release, without a Python loop. In logs,
    log y[i] = max over j <= i of (log x[j] - (i - j) / tau)."""
    x = np.maximum(np.asarray(x, dtype=np.float64), 0.0)
    if x.size == 0:
        return x
    lr = -1.0 / max(tau_frames, 1e-9)
    idx = np.arange(x.size, dtype=np.float64)
    with np.errstate(divide="ignore"):
        lx = np.log(x)
    best = np.maximum.accumulate(lx - idx * lr)
    return np.exp(best + idx * lr)


def _row_views(table: np.ndarray) -> list[np.ndarray]:
    """(n, k) -> n + 1 read-only row views, the last row repeated."""
    full = np.vstack([table, table[-1:]])
    full.flags.writeable = False  # shared by every plan of the track
    return list(full)


def _rising_edges(x: np.ndarray, level: float) -> np.ndarray:
    above = x >= level
    prev = np.concatenate(([False], above[:-1]))
    return above & ~prev


class Ensemble(Node):
    type_id = "ensemble.prominence"
    family = "ensemble"
    title = "Ensemble (prominence)"
    doc = ("Ranks the stems (R1 lead, R2 support, R3 background, R4 subtle, auto: only "
           "surprise promotion, off) and outputs each one's prominence in [0, 1] per frame: "
           "rank weight modulated by novelty, coupling, call-response, an activity gate and "
           "surprise. Multiply a block's strength by it (the sink's gain input).")
    outputs = tuple(signal(s, doc=f"prominence of {s}") for s in STEMS) + (
        signal("energy", doc="prominence-weighted energy of the ranked stems"),)
    params = tuple(Param(f"rank_{s}", "choice", "off", choices=RANK_CHOICES, doc=f"rank of {s}")
                   for s in STEMS) + (
        Param("novelty_max", "float", NOVELTY_MAX, 0.0, 1.0, doc="largest novelty boost"),
        Param("coupling_max", "float", COUPLING_MAX, 0.0, 1.0, doc="largest coupling bonus"),
        Param("surprise_peak", "float", 0.7, 0.0, 1.0, doc="where a surprise lifts an auto stem"),
        Param("surprise_s", "float", 3.0, 0.1, 30.0, unit="s", doc="surprise has faded by then"),
        Param("novelty_trigger", "float", 0.8, 0.0, 1.0,
              doc="medium novelty above this counts as a surprise"),
    )
    reprepare = None  # every param shapes the per-track table (cached per params)

    def prepare(self, ctx) -> None:
        self._ranks = {s: self.p[f"rank_{s}"] for s in STEMS}
        a = ctx.analysis
        self._wires = tuple(getattr(self, s) for s in STEMS) + (self.energy,)
        if a is not None and callable(getattr(a, "make_bank", None)):
            # live input: no track to tabulate; the same formula on the bank's wires,
            # frame by frame (the live coupling and activity, ensemble_live.py)
            outs = {s: getattr(self, s) for s in STEMS}
            outs["energy"] = self.energy
            self._live = LiveEnsemble(self._ranks, self.p, ctx.bank, outs)
            for s in STEMS:
                outs[s].v = 0.0
            self.process = self._live.step
            return
        self._live = None
        self.__dict__.pop("process", None)   # a recompile on a track after live input
        # (n + 1, 10): an extra last row so row i + 1 always exists; the row
        # views are made here so a frame creates no numpy objects at all.
        # Built once per (track, params): recompiles and the meter twin share it
        if a is not None:
            key = (self.type_id, tuple(sorted(self.p.items())))
            self._rows = ctx.cached(key, lambda: _row_views(self.table(a)))
        else:
            self._rows = _row_views(np.zeros((1, len(STEMS) + 1)))
        self._fps = a.fps if a is not None else ctx.fps
        self._n = len(self._rows) - 1
        self._buf = np.zeros(len(self._rows[0]))
        self._tmp = np.zeros(len(self._rows[0]))

    # -- per track ---------------------------------------------------------------------
    def table(self, a) -> np.ndarray:
        """(n_frames, 10): prominence of each stem, then the weighted energy."""
        n, fps, p = a.n_frames, a.fps, self.p
        ch = lambda s, c: np.nan_to_num(a.channel_or_zeros(f"{s}/{c}").astype(np.float64)[:n])
        ranked = [s for s in STEMS if self._ranks[s] != "off"]
        out = np.zeros((n, len(STEMS) + 1))
        energy = {s: np.clip(ch(s, "energy_smooth"), 0.0, 1.0) for s in ranked}
        for s in ranked:
            rank = self._ranks[s]
            peers = [q for q in ranked if q != s and self._ranks[q] == rank and rank != "auto"]
            nov = self._novelty(ch(s, "novelty_short"), fps) * p["novelty_max"]
            coup, cr = self._peers(a, s, peers, energy, n)
            gate = np.minimum(decay_hold(ch(s, "activity") >= 0.5, GATE_RELEASE_S * fps), 1.0)
            surprise = self._surprise(ch(s, "layer_entry"), ch(s, "novelty_medium"), fps) \
                if rank == "auto" else 0.0
            prom = RANKS[rank] * (1.0 + nov + coup) * cr * gate + surprise
            out[:, STEMS.index(s)] = np.clip(prom, 0.0, 1.0)
        if ranked:
            w = out[:, [STEMS.index(s) for s in ranked]]
            e = np.stack([energy[s] for s in ranked], axis=1)
            total = w.sum(axis=1)
            out[:, -1] = np.where(total > 1e-6, (w * e).sum(axis=1) / np.maximum(total, 1e-6), 0.0)
        return np.nan_to_num(out)

    @staticmethod
    def _novelty(novelty: np.ndarray, fps: float) -> np.ndarray:
        """0..1 while novelty is rising (doing something new), held briefly."""
        rise = np.diff(novelty, prepend=novelty[:1]) * fps
        return np.minimum(decay_hold(np.clip(rise / NOVELTY_RISE_FULL, 0.0, 1.0),
                                     NOVELTY_HOLD_S * fps), 1.0)

    def _peers(self, a, s: str, peers: list[str], energy: dict, n: int):
        """Coupling bonus and call-response factor from the closest same-rank peer."""
        if not peers:
            return 0.0, 1.0
        pair = lambda q, c: np.nan_to_num(
            a.channel_or_zeros(f"coupling/{pair_key(s, q)}/{c}").astype(np.float64)[:n])
        lock = np.max([pair(q, "lock_index") for q in peers], axis=0)
        coup = np.clip((lock - LOCK_THRESHOLD) / (1.0 - LOCK_THRESHOLD), 0.0, 1.0)
        coup = coup * self.p["coupling_max"]
        cr_all = np.stack([np.clip(pair(q, "call_response"), 0.0, 1.0) for q in peers])
        louder = np.stack([energy[s] >= energy[q] for q in peers])
        best = np.argmax(cr_all, axis=0)
        cr = np.take_along_axis(cr_all, best[None], 0)[0]
        calls = np.take_along_axis(louder, best[None], 0)[0]
        factor = np.where(calls, 1.0 + CALL_GAIN * cr, 1.0 - RESPONSE_CUT * cr)
        return coup, factor

    def _surprise(self, layer_entry: np.ndarray, novelty: np.ndarray, fps: float) -> np.ndarray:
        events = (layer_entry >= 0.5) | _rising_edges(novelty, self.p["novelty_trigger"])
        tau = self.p["surprise_s"] / 3.0 * fps  # 3 time constants: ~5% left
        return decay_hold(events * self.p["surprise_peak"], tau)

    def reset(self) -> None:
        if getattr(self, "_live", None) is not None:
            self._live.reset()

    # -- per frame --------------------------------------------------------------------
    def process(self, t: float, dt: float) -> None:
        x = t * self._fps
        x = 0.0 if x < 0.0 else (self._n - 1.0 if x > self._n - 1 else x)
        i = int(x)
        f = x - i
        rows, buf = self._rows, self._buf
        np.multiply(rows[i], 1.0 - f, out=buf)
        np.multiply(rows[i + 1], f, out=self._tmp)
        np.add(buf, self._tmp, out=buf)
        item = buf.item
        for j, w in enumerate(self._wires):
            w.v = item(j)


NODES = (Ensemble,)

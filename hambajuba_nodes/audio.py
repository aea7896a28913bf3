"""Where the music enters the patch: one analysed stem's channels, and the beat grid.

An Audio source copies the channels the ChannelBank sampled for this frame
onto its output wires; it computes nothing. Its `stem` output is a handle
(StemHandle) that nodes needing several channels of the same stem (blended
physics, dance, masks) read once in prepare. A stem the track lacks reads as
silence, never an error.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from graph_runtime.analysis.store import ALL_STEMS, CLASS_NAMES
from graph_runtime.graph.node import Node, Param, signal, stem, trigger

# output port -> analysis channel (per stem unless marked global)
STEM_CHANNELS = {
    "energy_smooth": "energy_smooth",
    "envelope": "envelope",
    "transient": "transient",
    "flux": "flux",
    "flash": "flash",
    "sustain": "sustain",
    "brightness": "brightness",
    "flatness": "flatness",
    "harmonic_ratio": "harmonic_ratio",
    "pitch": "pitch_normalized",
    "pitch_hz": "pitch_hz",
    "pitch_confidence": "pitch_confidence",
    "novelty_short": "novelty_short",
    "novelty_medium": "novelty_medium",
    "novelty_long": "novelty_long",
    "activity": "activity",
}
GLOBAL_PORTS = {"tension": "tension", "tonal_distance": "tonal_distance"}
STEM_DOCS = {
    "mix": "the whole track, analysed like a stem",
    "drums_low": "kick band of the drums", "drums_mid": "snare band", "drums_high": "hats band",
    "other_mid": "guitars / keys band of 'other'", "other_high": "shimmer / air band of 'other'",
}


@dataclass(frozen=True)
class StemHandle:
    """What a `stem` wire carries: the stem's name and its classification.

    Consumers ask the bank for `handle.channel("pitch_hz")` in prepare."""

    name: str
    classification: dict = field(default_factory=dict)  # CLASS_NAMES -> [0, 1]
    present: bool = True  # False: the track has no such stem (reads as silence)

    def channel(self, name: str) -> str:
        return f"{self.name}/{name}"

    def weight(self, class_name: str) -> float:
        return float(self.classification.get(class_name, 0.0))


def stem_handle(analysis, name: str) -> StemHandle:
    if analysis is None:
        return StemHandle(name, dict.fromkeys(CLASS_NAMES, 0.0), False)
    present = name in analysis.stems
    return StemHandle(name, analysis.classification(name), present)


class AudioSource(Node):
    type_id = "audio.source"
    family = "audio"
    title = "Audio source"
    doc = ("One analysed stem (or the whole track, 'mix'): its channels as signals, its hits "
           "and layer entries as triggers, the track's tension and tonal distance, and a "
           "`stem` handle for nodes that read several channels of it.")
    outputs = tuple(signal(p, doc=f"{ch} of the stem") for p, ch in STEM_CHANNELS.items()) + (
        signal("tension", doc="roughness of the mix (track-wide)"),
        signal("tonal_distance", doc="distance from the home key (track-wide)"),
        trigger("hit", doc="true on the frame a transient is passed"),
        trigger("layer_entry", doc="true on the frame a new layer of this stem enters"),
        stem("stem", doc="handle to this stem for physics, dance and masks"),
    )
    params = (Param("stem", "choice", "bass", choices=ALL_STEMS,
                    doc="stem to read: bass, drums, vocals, other, the five sub-bands, or mix"),)
    reprepare = ("stem",)  # binds the bank's channels; readers of `stem` re-prepare with it

    def prepare(self, ctx) -> None:
        name = self.p["stem"]
        bank = ctx.bank
        pairs = [(getattr(self, port), bank.signal(f"{name}/{ch}"))
                 for port, ch in STEM_CHANNELS.items()]
        pairs += [(getattr(self, port), bank.signal(f"global/{ch}"))
                  for port, ch in GLOBAL_PORTS.items()]
        pairs += [(self.hit, bank.trigger(f"{name}/transient")),
                  (self.layer_entry, bank.trigger(f"{name}/layer_entry"))]
        self._pairs = tuple(pairs)
        a = ctx.analysis
        handle = ctx.cached(("stem_handle", name), lambda: stem_handle(a, name)) \
            if a is not None else stem_handle(None, name)
        if ctx.analysis is not None and not handle.present:
            ctx.warn(f"node {self.id}: the track has no stem {name!r}; it reads as silence")
        self.stem.v = handle

    def process(self, t: float, dt: float) -> None:
        for out, src in self._pairs:
            v = src.v
            if v - v != 0.0:  # NaN or inf from the analysis: replace and count
                self.nan_count += 1
                v = 0.0
            out.v = v


def _grid(times) -> list[float]:
    """Beat times as a sorted list of finite, distinct floats."""
    return sorted({float(x) for x in times if math.isfinite(float(x))})


class Beat(Node):
    """Phases come from the beat list itself (bisect on a Python list), not
    from interpolating a sawtooth channel, which would read 0.5 halfway
    through the wrap between two frames."""

    type_id = "audio.beat"
    family = "audio"
    title = "Beat"
    doc = ("The track's beat grid: a trigger on each beat and downbeat, the phase inside the "
           "beat and the bar (0..1), and the tempo. Without a track: a 120 BPM grid.")
    outputs = (trigger("beat"), trigger("downbeat"),
               signal("beat_phase", doc="0 on the beat, rising to 1 just before the next"),
               signal("bar_phase", doc="0 on the downbeat, rising to 1 at the end of the bar"),
               signal("bpm", unit="BPM"))

    def prepare(self, ctx) -> None:
        a = ctx.analysis
        self._bpm = ctx.bpm
        period = 60.0 / self._bpm
        beats = _grid(getattr(a, "beats", ())) if a is not None else []
        downs = _grid(getattr(a, "downbeats", ())) if a is not None else []
        self._beats = beats if len(beats) >= 2 else [0.0, period]
        self._downs = downs if len(downs) >= 2 else [0.0, 4.0 * period]
        self._beat_w = ctx.bank.trigger("global/beat")
        self._down_w = ctx.bank.trigger("global/downbeat")
        self.bpm.v = self._bpm
        self._last_beat = self._last_bar = 1.0
        if a is None:  # no track: the triggers follow the 120 BPM grid's wraps
            self.process = self._process_free
        elif callable(getattr(a, "make_bank", None)):
            # a live source has no beat list: its bank streams the tracker's grid,
            # predicted to the time the frame is seen
            self._live = (ctx.bank.signal("global/beat_phase"), ctx.bank.signal("global/bar_phase"),
                          ctx.bank.signal("global/bpm_local"))
            self.process = self._process_live

    def _process_live(self, t: float, dt: float) -> None:
        beat_phase, bar_phase, bpm = self._live
        self.beat.v = self._beat_w.v
        self.downbeat.v = self._down_w.v
        self.beat_phase.v = beat_phase.v
        self.bar_phase.v = bar_phase.v
        self.bpm.v = bpm.v if bpm.v > 0.0 else self._bpm

    @staticmethod
    def _phase(grid: list[float], t: float) -> float:
        """Position of t inside its grid interval; extrapolated past either end."""
        k = bisect.bisect_right(grid, t) - 1
        if k < 0:
            k = 0
        elif k >= len(grid) - 1:
            k = len(grid) - 2
        start, period = grid[k], grid[k + 1] - grid[k]
        if period <= 0.0:
            return 0.0
        x = (t - start) / period
        return x - math.floor(x)

    def process(self, t: float, dt: float) -> None:
        self.beat.v = self._beat_w.v
        self.downbeat.v = self._down_w.v
        self.beat_phase.v = self._phase(self._beats, t)
        self.bar_phase.v = self._phase(self._downs, t)

    def _process_free(self, t: float, dt: float) -> None:
        ph, bar = self._phase(self._beats, t), self._phase(self._downs, t)
        self.beat.v = ph < self._last_beat
        self.downbeat.v = bar < self._last_bar
        self._last_beat, self._last_bar = ph, bar
        self.beat_phase.v = ph
        self.bar_phase.v = bar

    def reset(self) -> None:
        self._last_beat = self._last_bar = 1.0


NODES = (AudioSource, Beat)

"""Analysis: everything the patch can react to, for one track, on one frame grid.

This module is the contract between the offline pipeline (which fills it) and
the nodes (which read it). It imports only numpy, so the graph core and the
node tests can use it without torch.

Keys (all channels float32, shape (n_frames,), on the grid `times`):

    times                      float64 (n_frames,), seconds, = arange(n) / fps
    <stem>/<channel>           per-stem channels, stem in STEMS + ("mix",)
    global/<channel>           track-wide channels (GLOBAL_CHANNELS)
    coupling/<a>+<b>/<channel> per stem pair (COUPLING_CHANNELS), a < b by STEMS order
    beats, downbeats           float64 seconds
    class/<stem>               float32 (5,) in CLASS_NAMES order
    bpm                        scalar, the median local tempo (global/bpm_local: per frame)
    meta (beat grid)           tempo_candidates [{bpm, ratio, score, chosen}], bpm_range [5th,
                               95th percentile], beats_per_bar, downbeat_confidence; after a
                               user correction (analysis/beat_grid_correction.py) grid_correction, grid_raw

Channel meanings and ranges are documented in CHANNEL_DOCS.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np

from graph_runtime.media.atomic import open_atomic

from .beat_order import strictly_increasing

FPS = 50.0
SOURCE_STEMS = ("bass", "drums", "vocals", "other")
VIRTUAL_STEMS = ("drums_low", "drums_mid", "drums_high", "other_mid", "other_high")
STEMS = SOURCE_STEMS + VIRTUAL_STEMS
ALL_STEMS = STEMS + ("mix",)  # "mix" is the whole track, analysed like a stem

# name -> (range, meaning)
CHANNEL_DOCS = {
    "envelope": ("[0,1]", "RMS of the stem over 46 ms, divided by the stem's loudest frame "
                 "(never by less than the -40 dB gate, so a near-silent stem stays near 0)"),
    "energy_smooth": ("[0,1]", "envelope through an asymmetric attack/release follower "
                      "(per-stem preset, analysis/envelope.py: drums 2/100 ms, vocals 15/150 ms)"),
    "flash": ("[0,1]", "fast layer of the dual envelope (2 ms / 50 ms) on the envelope's rise: "
              "the immediate pop of a hit; a held note lets it fall"),
    "sustain": ("[0,1]", "slow layer of the dual envelope (20 ms / 200 ms) on the level: the trailing glow"),
    "flux": ("[0,1]", "spectral flux (positive change of the log spectrum), / its 99th percentile"),
    "transient": ("{0,1}", "1 on frames where flux peaks above its adaptive threshold (>= 50 ms apart)"),
    "brightness": ("[0,1]", "spectral centroid, log-mapped 50 Hz..16 kHz -> 0..1; 0 when inactive"),
    "flatness": ("[0,1]", "spectral flatness over the band the stem occupies: 0 tonal, ~1 noise"),
    "harmonic_ratio": ("[0,1]", "harmonic share of energy from HPSS over ~0.2 s (1 = all harmonic)"),
    "pitch_hz": ("Hz >= 0", "fundamental frequency, 0 where unvoiced (pitched stems: vocals, bass, "
                 "other, other_mid, mix = vocals else other; 0 for drums and air bands)"),
    "pitch_confidence": ("[0,1]", "confidence of pitch_hz (voiced at >= 0.5 while active)"),
    "pitch_normalized": ("[0,1]", "log map of pitch_hz over the stem's range (bass 30..400 Hz, vocals "
                         "80..1200 Hz, others 60..2000 Hz); holds last voiced value"),
    "novelty_short": ("[0,1]", "how different the next half-beat sounds from the last (1 beat window)"),
    "novelty_medium": ("[0,1]", "the same over 8 beats (phrase boundaries; 4 s at 120 BPM)"),
    "novelty_long": ("[0,1]", "the same over 32 beats (sections, drops; 16 s at 120 BPM)"),
    "layer_entry": ("{0,1}", "1 on the frame the stem enters: after >= 1 s of silence, or a phrase "
                    "novelty peak while it gets louder (debounced 500 ms)"),
    "activity": ("{0,1}", "1 where the stem is above -40 dB of the mix's loudest frame"),
}
GLOBAL_DOCS = {
    "tension": ("[0,1]", "Sethares/Plomp-Levelt roughness of the strongest partials of the mix "
                "without drums (loudness-independent; dyads: fifth ~0.07, tritone ~0.22, m2 ~0.56)"),
    "tonal_distance": ("[0,1]", "Jensen-Shannon distance (sqrt of the base-2 divergence) of the "
                       "frame's chroma (0.5 s) from the track's mean chroma: 0 at home"),
    "beat_phase": ("[0,1)", "position inside the current beat"),
    "bar_phase": ("[0,1)", "position inside the current bar"),
    "beat": ("{0,1}", "1 on the frame nearest each beat"),
    "downbeat": ("{0,1}", "1 on the frame nearest each downbeat"),
    "bpm_local": ("BPM >= 0", "local tempo: 60 / the inter-beat interval around the frame (median "
                  "of 3 neighbouring intervals), held before the first and after the last beat; "
                  "follows tempo changes and rubato, while `bpm` is the median local tempo; 0 "
                  "without beats"),
    "downbeat_confidence": ("[0,1]", "how sure the bar's phase is around the frame (analysis/meter.py: "
                            "the chosen downbeat's margin over the other phases within +-4 bars); "
                            "1 where the user set the downbeat (grid correction)"),
    **{f"chroma_{i}": ("[0,1]", f"chroma energy of pitch class {i} (0 = C)") for i in range(12)},
}
COUPLING_DOCS = {
    "plv": ("[0,1]", "phase-locking value of the two envelopes around the beat rate (8 beats)"),
    "lock_index": ("[0,1]", "0.4 envelope correlation + 0.35 PLV + 0.25 onset synchrony "
                   "(>0.7 in the pocket, <0.3 independent)"),
    "call_response": ("[0,1]", "XOR of the two activity masks averaged over 8 beats"),
}
CHANNELS = tuple(CHANNEL_DOCS)
GLOBAL_CHANNELS = tuple(GLOBAL_DOCS)
COUPLING_CHANNELS = tuple(COUPLING_DOCS)
CLASS_NAMES = ("percussive", "harmonic", "melodic", "harmony", "texture")
FORMAT_VERSION = 1


def pair_key(a: str, b: str) -> str:
    """Canonical coupling key for a stem pair, order-independent."""
    order = {s: i for i, s in enumerate(ALL_STEMS)}
    a, b = sorted((a, b), key=lambda s: order.get(s, 99))
    return f"{a}+{b}"


@dataclass
class Analysis:
    fps: float
    times: np.ndarray
    data: dict[str, np.ndarray]
    bpm: float = 120.0
    beats: np.ndarray = field(default_factory=lambda: np.zeros(0))
    downbeats: np.ndarray = field(default_factory=lambda: np.zeros(0))
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # beats and downbeats are strictly increasing, whoever built the analysis
        # (an older cache, a checkpoint, a hand-made one): beat_order.py
        self.beats = strictly_increasing(self.beats)
        self.downbeats = strictly_increasing(self.downbeats)

    @property
    def n_frames(self) -> int:
        return int(self.times.shape[0])

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps

    @property
    def stems(self) -> tuple[str, ...]:
        found = {k.split("/", 1)[0] for k in self.data if "/" in k}
        return tuple(s for s in ALL_STEMS if s in found)

    def has(self, name: str) -> bool:
        return name in self.data

    def channel(self, name: str) -> np.ndarray:
        """A channel by key ('drums/energy_smooth'); KeyError names what exists."""
        try:
            return self.data[name]
        except KeyError:
            raise KeyError(f"analysis has no channel {name!r}") from None

    def channel_or_zeros(self, name: str) -> np.ndarray:
        """Missing stems read as silence (a track without vocals is not an error)."""
        arr = self.data.get(name)
        if arr is None:
            arr = np.zeros(self.n_frames, dtype=np.float32)
        return arr

    def classification(self, stem: str) -> dict[str, float]:
        vec = self.data.get(f"class/{stem}")
        if vec is None:
            return dict.fromkeys(CLASS_NAMES, 0.0)
        return {n: float(v) for n, v in zip(CLASS_NAMES, vec)}

    # -- disk ----------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Atomic: write a temp file beside it, fsync, rename. No half caches."""
        path = os.fspath(path)
        arrays = dict(self.data)
        arrays["times"] = self.times
        arrays["beats"] = np.asarray(self.beats, dtype=np.float64)
        arrays["downbeats"] = np.asarray(self.downbeats, dtype=np.float64)
        arrays["bpm"] = np.asarray(self.bpm, dtype=np.float64)
        arrays["fps"] = np.asarray(self.fps, dtype=np.float64)
        meta = dict(self.meta, format_version=FORMAT_VERSION)
        arrays["meta_json"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
        for k, v in arrays.items():
            if v.dtype.kind == "f" and not np.all(np.isfinite(v)):
                raise ValueError(f"analysis channel {k!r} has NaN or inf; refusing to cache it")
        with open_atomic(path) as f:
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Analysis":
        with np.load(os.fspath(path), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(bytes(arrays.pop("meta_json")).decode())
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path}: analysis cache format {meta.get('format_version')} "
                             f"is not {FORMAT_VERSION}; re-run `hambajuba analyze`")
        return cls(
            fps=float(arrays.pop("fps")),
            times=arrays.pop("times"),
            bpm=float(arrays.pop("bpm")),
            beats=arrays.pop("beats"),
            downbeats=arrays.pop("downbeats"),
            data=arrays,
            meta=meta,
        )


class Sampler:
    """Channels at any time t, by linear interpolation on the frame grid.

    `value(name, t)` reads one channel (np.interp). For many channels at one
    t, build a Sampler with their names: the columns sit side by side in one
    (n_frames + 1, k) table, and `sample(t)` blends two rows in place, with
    no Python loop over frames or channels and no allocation when `out` is
    given. Times before 0 read frame 0, after the end the last frame. A name
    the analysis lacks reads 0 (a track without vocals is not an error).
    """

    def __init__(self, analysis: "Analysis", names: tuple[str, ...] | list[str] = ()) -> None:
        self.analysis = analysis
        self.names = tuple(names)
        self.fps = float(analysis.fps)
        n = max(analysis.n_frames, 1)
        self._n = n
        table = np.zeros((n + 1, len(self.names)), dtype=np.float64)
        for j, name in enumerate(self.names):
            col = analysis.channel_or_zeros(name)
            m = min(len(col), n)
            table[:m, j] = col[:m]
            table[m:, j] = col[m - 1] if m else 0.0
        self._table = table
        self._tmp = np.zeros(len(self.names))

    def _index(self, t: float) -> tuple[int, float]:
        x = min(max(float(t) * self.fps, 0.0), float(self._n - 1))
        i = int(x)
        return i, x - i

    def sample(self, t: float, out: np.ndarray | None = None) -> np.ndarray:
        """All of `names` at time t (s): (k,) float64, written into `out` if given."""
        i, f = self._index(t)
        out = np.empty(len(self.names)) if out is None else out
        np.multiply(self._table[i], 1.0 - f, out=out)
        np.multiply(self._table[i + 1], f, out=self._tmp)
        np.add(out, self._tmp, out=out)
        return out

    def sample_many(self, times: np.ndarray) -> np.ndarray:
        """All of `names` at each of `times`: (len(times), k), vectorised over times."""
        x = np.clip(np.asarray(times, dtype=np.float64) * self.fps, 0.0, float(self._n - 1))
        i = x.astype(np.int64)
        f = (x - i)[:, None]
        return self._table[i] * (1.0 - f) + self._table[i + 1] * f

    def value(self, name: str, t: float) -> float:
        """One channel at time t (works for any name, not only `names`)."""
        col = self.analysis.channel_or_zeros(name)
        if len(col) == 0:
            return 0.0
        grid = np.arange(len(col)) / self.fps
        return float(np.interp(t, grid, col))


def synthetic(duration: float = 10.0, *, bpm: float = 120.0, fps: float = FPS,
              channels: dict[str, np.ndarray] | None = None,
              stems: tuple[str, ...] = STEMS + ("mix",)) -> Analysis:
    """A hand-made Analysis for tests and the preview: beats on the grid,
    every channel of every stem zero unless given in `channels`."""
    n = int(round(duration * fps))
    times = np.arange(n, dtype=np.float64) / fps
    data: dict[str, np.ndarray] = {}
    for s in stems:
        for c in CHANNELS:
            data[f"{s}/{c}"] = np.zeros(n, dtype=np.float32)
    for c in GLOBAL_CHANNELS:
        data[f"global/{c}"] = np.zeros(n, dtype=np.float32)
    period = 60.0 / bpm
    beats = np.arange(0.0, duration, period)
    downbeats = beats[::4]
    phase = (times / period) % 1.0
    data["global/beat_phase"] = phase.astype(np.float32)
    data["global/bar_phase"] = ((times / (4 * period)) % 1.0).astype(np.float32)
    data["global/bpm_local"] = np.full(n, bpm, dtype=np.float32)
    for name, idx in (("beat", beats), ("downbeat", downbeats)):
        pulse = np.zeros(n, dtype=np.float32)
        pulse[np.clip(np.round(idx * fps).astype(int), 0, max(n - 1, 0))] = 1.0
        data[f"global/{name}"] = pulse
    for k, v in (channels or {}).items():
        v = np.asarray(v, dtype=np.float32)
        if v.shape != (n,):
            raise ValueError(f"synthetic channel {k!r}: shape {v.shape}, expected ({n},)")
        data[k] = v
    return Analysis(fps=fps, times=times, data=data, bpm=bpm, beats=beats,
                    downbeats=downbeats, meta={"source": "synthetic"})

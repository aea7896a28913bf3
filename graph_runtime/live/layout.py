"""Where each live channel sits in a row of the channel ring.

A row is one analysis frame: every offline channel name (per stem, global
and coupling, analysis/store.py) has a column, and so has each stem's
running classification (class/<stem>/<class name>), then the pulse counters of the
trigger channels (so a reader that skips rows still sees every pulse), then
the beat clock and status values the bank and the window read.

Row width is fixed at import; the bank resolves names to columns once, at
compile time.
"""
from __future__ import annotations

import itertools

from ..analysis.store import ALL_STEMS, CHANNELS, CLASS_NAMES, COUPLING_CHANNELS, GLOBAL_CHANNELS, STEMS

TRIGGERS = ("transient", "layer_entry")            # per-stem pulse channels
GLOBAL_TRIGGERS = ("beat", "downbeat")
STATUS = ("frame_time",      # s: centre of the frame on the stream clock
          "half",            # 0: the frame's first row (stems), 1: its complete row
          "bpm",             # the tracker's current estimate, 0 before the first
          "tempo_confidence",  # [0, 1]
          "tempo_holding",   # 1 while the tempo holds through silence
          "next_beat",       # s: the predicted next beat on the stream clock
          "period",          # s per beat, 0 before the first estimate
          "bar_pos",         # beats from the last downbeat to the next beat
          "meter",           # beats per bar
          "level_db",        # input peak over the last frame, dBFS
          "published_at",    # time.monotonic() when the row was written
          "tempo_locked",    # 1 when the tracker's level has held and its comb is clear
          "tempo_lead",      # 0 the tracker, 1 a tapped tempo, 2 a MIDI clock
          "level_share",     # [0, 1] the current metrical level's share of the tempo votes
          "last_correction",  # s on the stream clock of the last level change or half-beat move (-1 none)
          "tempo_moving",    # 1 while the clock follows a moving tempo (a rubato, a ramp: live/motion.py)
          "under_gate_s")    # s the input has been under the beat tracker's gate (analyser.BEAT_GATE_DBFS)

NAMES: list[str] = [f"{s}/{c}" for s in ALL_STEMS for c in CHANNELS]
NAMES += [f"global/{c}" for c in GLOBAL_CHANNELS]
# every pair of STEMS, a before b (analysis/store.pair_key's order): coupling/<a>+<b>/<channel>
COUPLING_PAIRS = list(itertools.combinations(STEMS, 2))
NAMES += [f"coupling/{a}+{b}/{c}" for a, b in COUPLING_PAIRS for c in COUPLING_CHANNELS]
# the classification offline is one (5,) vector per stem (class/<stem>); live it is a
# running estimate, one column per class: class/<stem>/<class name>
NAMES += [f"class/{s}/{n}" for s in ALL_STEMS for n in CLASS_NAMES]
COUNT_NAMES = [f"{s}/{c}" for s in ALL_STEMS for c in TRIGGERS] + \
              [f"global/{c}" for c in GLOBAL_TRIGGERS]
INDEX = {n: i for i, n in enumerate(NAMES)}
COUNT_INDEX = {n: len(NAMES) + i for i, n in enumerate(COUNT_NAMES)}
STATUS_INDEX = {n: len(NAMES) + len(COUNT_NAMES) + i for i, n in enumerate(STATUS)}
WIDTH = len(NAMES) + len(COUNT_NAMES) + len(STATUS)


def stem_columns(channel: str) -> list[int]:
    """Columns of one per-stem channel, in ALL_STEMS order."""
    return [INDEX[f"{s}/{channel}"] for s in ALL_STEMS]


# Live channels that are approximations of the offline ones, and how (shown in the
# window and in docs/live-analysis.md).
APPROXIMATIONS = {
    "stems": "causal HPSS + band weights on each frame (no separation model)",
    "envelope": "scaled by the loudest frame so far, not the track's",
    "flux": "scaled by the 99th percentile of the last 10 s",
    "transient": "marks the rise, not the peak (no look-ahead)",
    "harmonic_ratio": "the mix's causal HPSS mask, 0.1 s smoothing",
    "novelty_*": "last half window vs the one before: peaks half a window later",
    "layer_entry": "novelty crossing instead of a peak",
    "pitch_*": "harmonic sum over the masked spectrum (93 ms window, 25 fps), not PESTO",
    "beat/downbeat/bpm": "online tracker, predicted ahead; tempo locks after ~2-4 s, the bar after ~8-16 s",
    "tension": "186 ms window ending at the frame: ~70 ms later than offline",
    "tonal_distance": "home = mean chroma so far, not the whole track's",
    "coupling/*": "trailing 8-beat window ending at the frame (offline: centred): 4 beats later",
    "class/*": "running estimate over the last ~30 s, updated once a second",
}

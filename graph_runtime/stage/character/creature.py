"""The creature: what hambajuba has heard, kept in the user's data folder.

`creature.json` under `$XDG_DATA_HOME/hambajuba` (or ~/.local/share/hambajuba)
accumulates seconds of activity per stem, tracks and minutes played, the
tempo range (and a histogram of tempi), and the SAE features he has been
steered by most. His flowers and garden are drawn from it (compositor.py), so
two users' characters differ after a week of music.

`perform` grows him (CreatureGrower: a few float adds per frame, an atomic
save every SAVE_EVERY_S and at the end); `render` reads a snapshot and never
writes, and its sidecar records the snapshot's sha256. A damaged file gives a
warning and a fresh creature, never a crash; the damaged file is set aside
(creature.json.damaged) before he is next saved, so nothing is lost.
Imports the standard library only.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import random
from dataclasses import dataclass, field
from datetime import datetime, timezone

from graph_runtime.media.atomic import write_atomic

FORMAT = "hambajuba.creature"
VERSION = 1
FILE_NAME = "creature.json"
MAX_BYTES = 1 << 20  # a creature is a few kB; a bigger file is not one of ours
MAX_TRACKS = 2000  # distinct tracks remembered (oldest forgotten first)
MAX_FEATURES = 64  # steering features remembered (the least used forgotten)
STEMS = ("bass", "drums", "vocals", "other")
TEMPO_BINS = (60, 80, 100, 120, 140, 160, 180, 200)  # histogram edges, BPM
SAVE_EVERY_S = 30.0


def user_data_dir() -> str:
    """$XDG_DATA_HOME/hambajuba, else ~/.local/share/hambajuba (worked out when used)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                             "share")
    return os.path.join(base, "hambajuba")


def creature_path() -> str:
    return os.path.join(user_data_dir(), FILE_NAME)


@dataclass
class Creature:
    seed: int = 0  # picked at birth: where his garden's flowers sit
    born: str = ""
    stem_seconds: dict = field(default_factory=lambda: {s: 0.0 for s in STEMS})
    tracks: dict = field(default_factory=dict)  # track key (content hash prefix) -> plays
    minutes: float = 0.0
    tempo_min: float = 0.0  # BPM; 0 until he has heard a beat
    tempo_max: float = 0.0
    tempo_hist: list = field(default_factory=lambda: [0.0] * (len(TEMPO_BINS) + 1))  # minutes
    features: dict = field(default_factory=dict)  # "block#id" -> seconds steered

    # -- what the drawing reads -------------------------------------------------------------
    @property
    def tracks_played(self) -> int:
        return len(self.tracks)

    def petals(self, stem: str, base: int) -> int:
        """A flower gains a petal for every doubling of the stem's heard time (from 30 s)."""
        s = float(self.stem_seconds.get(stem, 0.0))
        return int(min(base + 7, base + math.floor(math.log2(1.0 + s / 30.0))))

    def garden(self) -> int:
        """Small flowers growing inside him: one per 3 minutes of music, at most 40."""
        return int(min(40, self.minutes // 3))

    def top_features(self, n: int = 3) -> list[str]:
        return [k for k, _ in sorted(self.features.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]

    def stem_weights(self) -> list[float]:
        total = sum(self.stem_seconds.get(s, 0.0) for s in STEMS)
        return [self.stem_seconds.get(s, 0.0) / total if total else 0.25 for s in STEMS]

    # -- growing ----------------------------------------------------------------------------------
    def track_started(self, key: str) -> None:
        self.tracks[key] = int(self.tracks.pop(key, 0)) + 1  # most recent last
        while len(self.tracks) > MAX_TRACKS:
            self.tracks.pop(next(iter(self.tracks)))

    def heard(self, seconds: float, active: dict, bpm: float) -> None:
        """`seconds` of music; `active`: stem -> seconds it was active in them."""
        self.minutes += seconds / 60.0
        for s in STEMS:
            self.stem_seconds[s] = float(self.stem_seconds.get(s, 0.0)) + float(active.get(s, 0.0))
        if bpm > 0:
            self.tempo_min = bpm if self.tempo_min <= 0 else min(self.tempo_min, bpm)
            self.tempo_max = max(self.tempo_max, bpm)
            i = sum(1 for e in TEMPO_BINS if bpm >= e)
            self.tempo_hist[i] += seconds / 60.0

    def steered(self, key: str, seconds: float) -> None:
        self.features[key] = float(self.features.get(key, 0.0)) + seconds
        if len(self.features) > MAX_FEATURES:
            least = min(self.features.items(), key=lambda kv: (kv[1], kv[0]))[0]
            del self.features[least]

    # -- the file ------------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "seed": self.seed, "born": self.born,
                "stem_seconds": {s: round(float(self.stem_seconds.get(s, 0.0)), 3)
                                 for s in STEMS},
                "tracks": self.tracks, "minutes": round(self.minutes, 4),
                "tempo": {"min": round(self.tempo_min, 2), "max": round(self.tempo_max, 2),
                          "bins_bpm": list(TEMPO_BINS),
                          "minutes": [round(m, 4) for m in self.tempo_hist]},
                "features": {k: round(v, 3) for k, v in self.features.items()}}

    def text(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, indent=1) + "\n"

    def sha256(self) -> str:
        """The snapshot's hash, as a render's sidecar records it."""
        return hashlib.sha256(self.text().encode("utf-8")).hexdigest()

    def save(self, path: str | None = None) -> str:
        path = path or creature_path()
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        write_atomic(path, self.text())
        return path


def fresh(seed: int | None = None) -> Creature:
    return Creature(seed=random.SystemRandom().randrange(1 << 31) if seed is None else seed,
                    born=datetime.now(timezone.utc).isoformat(timespec="seconds"))


class CreatureDamaged(ValueError):
    pass


def load(path: str | None = None) -> tuple[Creature, str | None]:
    """(creature, warning): a missing file is a newborn (no warning); a damaged
    one gives a warning line and a fresh creature. Never raises for the file's content."""
    path = path or creature_path()
    try:
        if os.path.getsize(path) > MAX_BYTES:
            raise CreatureDamaged(f"larger than {MAX_BYTES >> 10} kB")
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        return parse(doc), None
    except FileNotFoundError:
        return fresh(), None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, CreatureDamaged) as e:
        why = e.msg if isinstance(e, json.JSONDecodeError) else str(e)
        return fresh(), (f"{path}: the creature file is damaged ({why}); starting a fresh "
                         f"creature (the old file is kept as {os.path.basename(path)}.damaged "
                         "when he is next saved)")


def _num(v, where: str, lo: float = 0.0, hi: float = 1e9) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
        raise CreatureDamaged(f"{where}: {v!r} is not a number in {lo:g}..{hi:g}")
    return float(v)


def parse(doc) -> Creature:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CreatureDamaged(f"not a {FORMAT} file")
    if doc.get("version") != VERSION:
        raise CreatureDamaged(f"version {doc.get('version')!r} is not one this build reads")
    try:
        stems, tempo = doc["stem_seconds"], doc["tempo"]
        tracks, features = doc["tracks"], doc["features"]
        if not all(isinstance(x, dict) for x in (stems, tempo, tracks, features)):
            raise CreatureDamaged("stem_seconds, tempo, tracks and features must be objects")
        hist = tempo["minutes"]
        if not isinstance(hist, list) or len(hist) != len(TEMPO_BINS) + 1:
            raise CreatureDamaged("tempo.minutes: wrong length")
        c = Creature(seed=int(_num(doc["seed"], "seed", 0, 2 ** 31)), born=str(doc["born"])[:40],
                     stem_seconds={s: _num(stems.get(s, 0.0), f"stem_seconds.{s}")
                                   for s in STEMS},
                     tracks={str(k)[:80]: int(_num(v, "tracks")) for k, v in
                             list(tracks.items())[-MAX_TRACKS:]},
                     minutes=_num(doc["minutes"], "minutes"),
                     tempo_min=_num(tempo["min"], "tempo.min", 0, 1000),
                     tempo_max=_num(tempo["max"], "tempo.max", 0, 1000),
                     tempo_hist=[_num(m, "tempo.minutes") for m in hist],
                     features={str(k)[:40]: _num(v, "features") for k, v in
                               list(features.items())[:MAX_FEATURES]})
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, CreatureDamaged):
            raise
        raise CreatureDamaged(f"missing or bad field {e}") from None
    return c


def open_snapshot(spec: str | None) -> tuple[Creature, str | None]:
    """For renders: None (the user's creature), "fresh" (a newborn with seed 0, the
    same every time), or a PATH. Read only; (creature, warning)."""
    if spec == "fresh":
        return Creature(seed=0, born="fresh"), None
    if spec is not None and not os.path.isfile(spec):
        raise FileNotFoundError(f"--creature {spec}: no such file; give `fresh` or a "
                                "creature.json")
    return load(spec)


class CreatureGrower:
    """`perform` grows him: per frame a few adds (no allocation), a save every
    SAVE_EVERY_S seconds of music and on close."""

    def __init__(self, path: str | None = None, say=print) -> None:
        self.path = path or creature_path()
        self.creature, warning = load(self.path)
        self.damaged = warning is not None
        if warning:
            say(warning)
        self.say = say
        self._seconds = 0.0
        self._active = {s: 0.0 for s in STEMS}
        self._bpm_seconds = 0.0  # beat-weighted tempo of the pending stretch
        self._bpm = 0.0

    def track(self, key: str) -> None:
        self.creature.track_started(key)

    def frame(self, dt: float, active: tuple, bpm: float) -> None:
        """dt seconds played; active: per STEMS, truthy where the stem sounds."""
        if dt <= 0 or dt > 1.0:  # paused, or a seek/hiccup: not music heard
            return
        self._seconds += dt
        for s, a in zip(STEMS, active):
            if a:
                self._active[s] += dt
        if bpm > 0:
            self._bpm = bpm
        if self._seconds >= SAVE_EVERY_S:
            self.flush()

    def steered(self, key: str, dt: float) -> None:
        self.creature.steered(key, dt)

    def flush(self) -> None:
        if self._seconds <= 0:
            return
        self.creature.heard(self._seconds, self._active, self._bpm)
        self._seconds = 0.0
        for s in STEMS:
            self._active[s] = 0.0
        try:
            if self.damaged and os.path.exists(self.path):
                os.replace(self.path, self.path + ".damaged")
            self.damaged = False
            self.creature.save(self.path)
        except OSError as e:
            self.say(f"{self.path}: could not save the creature ({e.strerror}); he keeps "
                     "growing in memory")

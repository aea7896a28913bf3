"""Auto chain: pick a stem and a block, get a playing chain.

    audio.source -> physics.blend -> dance.dancer -> sae.block  (+ mask.paint)

as the write-up's auto mode derives it from the stem's classification:

    physics preset    bass stem: bass; percussive (>= 0.5): kick; melodic: vocals;
                      harmony or texture: ambient; otherwise linear
    intensity source  percussive high bands (drums_high, other_high) and texture:
                      flux (timbre changes); everything else energy_smooth
    mask              bass and the kick band: floor; high bands: ceiling;
                      melodic stems: center; otherwise none (the whole image)
    impulse           percussive stems kick their own physics on every hit

Without an analysis the classification falls back to what the stem's name
says (STEM_DEFAULTS); on live input the chain is chosen from the running
estimate once it has heard the stem (graph_runtime/live/classify.py), else
from the defaults. The blended physics' weights themselves are read from the
classification at compile time, so they follow the track, and on live input
every frame (hambajuba_nodes/physics_live.py), so they follow the music.
"""
from __future__ import annotations

from graph_runtime.analysis.store import ALL_STEMS, CLASS_NAMES
from graph_runtime.graph.frame import BLOCKS, SLOTS
from graph_runtime.graph.patch import Patch

COLUMN = 220.0  # px between columns in the editor
ROW = 150.0

# a typical classification per stem name, for when no analysis is loaded
STEM_DEFAULTS = {
    "bass": {"percussive": 0.3, "harmonic": 0.8, "melodic": 0.6, "harmony": 0.2, "texture": 0.1},
    "drums": {"percussive": 0.9, "harmonic": 0.1},
    "drums_low": {"percussive": 0.9, "harmonic": 0.1},
    "drums_mid": {"percussive": 0.9, "harmonic": 0.1},
    "drums_high": {"percussive": 0.85, "harmonic": 0.1, "texture": 0.3},
    "vocals": {"percussive": 0.1, "harmonic": 0.9, "melodic": 0.8, "harmony": 0.1},
    "other": {"percussive": 0.2, "harmonic": 0.8, "melodic": 0.3, "harmony": 0.6, "texture": 0.2},
    "other_mid": {"percussive": 0.2, "harmonic": 0.8, "melodic": 0.4, "harmony": 0.6},
    "other_high": {"percussive": 0.3, "harmonic": 0.6, "texture": 0.7},
    "mix": {"percussive": 0.5, "harmonic": 0.6, "harmony": 0.5},
}
LOW_STEMS = ("bass", "drums_low")
HIGH_STEMS = ("drums_high", "other_high")
# a plausible feature per block when none is given (ids from the write-ups' examples)
DEFAULT_FEATURES = {"down.2.1": 412, "mid.0": 2960, "up.0.0": 4977, "up.0.1": 801}


def classification(stem: str, analysis=None) -> dict[str, float]:
    if analysis is not None and f"class/{stem}" in analysis.data:
        return analysis.classification(stem)
    if analysis is not None and callable(getattr(analysis, "make_bank", None)):
        running = analysis.classification(stem)     # live: 0 until the stem was heard
        if max(running.values(), default=0.0) > 0.0:
            return running
    base = dict.fromkeys(CLASS_NAMES, 0.0)
    base.update(STEM_DEFAULTS.get(stem, {}))
    return base


def choose(stem: str, cls: dict[str, float]) -> dict[str, str | None]:
    """The auto-mode decisions for one stem: preset, intensity source, mask."""
    perc = cls.get("percussive", 0.0)
    tonal = {k: cls.get(k, 0.0) for k in ("melodic", "harmony", "texture")}
    leading = max(tonal, key=tonal.get) if max(tonal.values()) > 0.0 else None
    percussive = perc >= 0.5
    if stem == "bass":
        preset = "bass"
    elif percussive:
        preset = "kick"
    elif leading == "melodic":
        preset = "vocals"
    elif leading in ("harmony", "texture"):
        preset = "ambient"
    else:
        preset = "linear"
    texture = leading == "texture" and not percussive
    intensity = "flux" if (percussive and stem in HIGH_STEMS) or texture else "energy_smooth"
    if stem in LOW_STEMS:
        mask = "floor"
    elif stem in HIGH_STEMS:
        mask = "ceiling"
    elif leading == "melodic" and not percussive:
        mask = "center"
    else:
        mask = None
    return {"preset": preset, "intensity": intensity, "mask": mask,
            "impulse": "hit" if percussive else None}


def _free_row(patch: Patch) -> float:
    return max((n.pos[1] for n in patch.nodes), default=-ROW) + ROW


def auto_chain(patch: Patch, stem: str, block: str, analysis=None, feature_id: int | None = None,
               pos: tuple[float, float] | None = None) -> list[str]:
    """Add the chain to `patch` (in place); return the ids of the nodes added.

    An existing audio.source for the stem is reused. Raises ValueError for an
    unknown stem or block, or a block that already carries SLOTS sinks."""
    if stem not in ALL_STEMS:
        raise ValueError(f"unknown stem {stem!r} (stems: {', '.join(ALL_STEMS)})")
    if block not in BLOCKS:
        raise ValueError(f"unknown block {block!r} (blocks: {', '.join(BLOCKS)})")
    used = sum(1 for n in patch.nodes
               if n.type == "sae.block" and n.params.get("block", "down.2.1") == block)
    if used >= SLOTS:
        raise ValueError(f"block {block} already carries {SLOTS} features")
    feature_id = DEFAULT_FEATURES[block] if feature_id is None else int(feature_id)
    x0, y0 = pos if pos is not None else (0.0, _free_row(patch))
    pick = choose(stem, classification(stem, analysis))
    added: list[str] = []

    def add(type_id: str, role: str, params: dict, col: int) -> str:
        nid, i = f"{stem}_{role}", 2
        while patch.node(nid) is not None:
            nid, i = f"{stem}_{role}_{i}", i + 1
        patch.add_node(type_id, params, (x0 + col * COLUMN, y0), node_id=nid)
        added.append(nid)
        return nid

    src = next((n.id for n in patch.nodes
                if n.type == "audio.source" and n.params.get("stem", "bass") == stem), None)
    if src is None:
        src = add("audio.source", "source", {"stem": stem}, 0)
    phys = add("physics.blend", "physics", {"preset": pick["preset"], "weighting": "classification",
                                 "spring_kick": 2.0 if pick["impulse"] else 0.0}, 1)
    dance = add("dance.dancer", "dance",
                {"intensity_source": "input", "position_source": "right"}, 2)
    sink = add("sae.block", "sink", {"block": block, "feature_id": feature_id}, 4)
    patch.connect((src, pick["intensity"]), (phys, "target"))
    patch.connect((src, "stem"), (phys, "stem"))
    if pick["impulse"]:
        patch.connect((src, pick["impulse"]), (phys, "impulse"))
    patch.connect((phys, "out"), (dance, "intensity"))
    patch.connect((src, "stem"), (dance, "stem"))
    patch.connect((dance, "out"), (sink, "strength"))
    if pick["mask"]:
        m = add("mask.paint", "mask", {"preset": pick["mask"]}, 3)
        patch.connect((m, "out"), (sink, "mask"))
    return added

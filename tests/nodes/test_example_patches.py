"""The shipped patches: reproducible, valid, compiling, playing; bad input handled."""
import math

import numpy as np
import pytest
from nodes_helpers import DT, FPS, compile_

from graph_runtime.analysis.store import STEMS, pair_key, synthetic
from graph_runtime.graph.compiler import CompileError, check
from graph_runtime.graph.frame import BLOCKS
from graph_runtime.graph.patch import PatchError, dumps, load, loads
from hambajuba_nodes.content.examples import COLUMN, EXAMPLES, PATCH_DIR, build_all
from hambajuba_nodes.registry import default_registry

NAMES = sorted(EXAMPLES)


def busy_track(seconds=20.0, bpm=124.0, seed=0, stems=STEMS + ("mix",)):
    """A synthetic track with every channel moving, coupling and classification."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FPS)
    t = np.arange(n) / FPS
    ch = {}
    for i, s in enumerate(stems):
        ch[f"{s}/energy_smooth"] = 0.5 + 0.4 * np.sin(2 * np.pi * (0.2 + 0.05 * i) * t)
        ch[f"{s}/envelope"] = np.clip(ch[f"{s}/energy_smooth"] + 0.1 * rng.standard_normal(n), 0, 1)
        ch[f"{s}/flux"] = rng.random(n)
        ch[f"{s}/transient"] = (rng.random(n) < 0.06).astype(float)
        ch[f"{s}/layer_entry"] = (rng.random(n) < 0.002).astype(float)
        ch[f"{s}/activity"] = (ch[f"{s}/energy_smooth"] > 0.15).astype(float)
        ch[f"{s}/pitch_hz"] = 110 * 2 ** (2 * np.sin(t * (0.3 + 0.1 * i)) + 1)
        ch[f"{s}/pitch_confidence"] = rng.random(n)
        ch[f"{s}/pitch_normalized"] = 0.5 + 0.5 * np.sin(t * 0.7)
        for c in ("novelty_short", "novelty_medium", "brightness", "flatness", "sustain", "flash"):
            ch[f"{s}/{c}"] = rng.random(n)
    ch["global/tension"] = 0.5 + 0.5 * np.sin(2 * np.pi * t / 7)
    ch["global/tonal_distance"] = 0.5 + 0.5 * np.sin(2 * np.pi * t / 11)
    for k in range(12):
        ch[f"global/chroma_{k}"] = rng.random(n)
    a = synthetic(seconds, bpm=bpm, stems=stems, channels=ch)
    for i, s in enumerate(stems):
        a.data[f"class/{s}"] = rng.random(5).astype(np.float32)
        for q in stems[i + 1:]:
            for c in ("lock_index", "call_response", "plv"):
                a.data[f"coupling/{pair_key(s, q)}/{c}"] = rng.random(n).astype(np.float32)
    return a


@pytest.mark.parametrize("name", NAMES)
def test_committed_file_is_what_the_generator_builds(name):
    path = PATCH_DIR / f"{name}.patch"
    assert path.read_text(encoding="utf-8") == dumps(build_all()[name]), \
        "run `python -m hambajuba_nodes.content.examples` and commit patches/"


@pytest.mark.parametrize("name", NAMES)
def test_example_validates_compiles_and_plays(name):
    patch = load(PATCH_DIR / f"{name}.patch")
    checked = check(patch, default_registry())
    assert not checked.problems  # no errors, no warnings (no unknown params or types)
    plan = compile_(patch, busy_track())
    for i in range(500):
        frame = plan.run(i * DT, DT)
    assert np.all(np.isfinite(frame.vec))
    assert plan.nan_count() == 0
    assert np.any(frame.strength != 0.0)  # something is being steered
    for node in patch.nodes:  # laid out left to right on the column grid
        assert node.pos[0] % COLUMN == 0.0


@pytest.mark.parametrize("name", NAMES)
def test_example_compiles_without_a_track(name):
    plan = compile_(load(PATCH_DIR / f"{name}.patch"))
    for i in range(50):
        plan.run(i * DT, DT)
    assert np.all(np.isfinite(plan.frame.vec))


def test_default_patch_routing():
    patch = load(PATCH_DIR / "default.patch")
    by_id = {n.id: n for n in patch.nodes}
    feeds = {l.dst: l.src for l in patch.links}

    def upstream_stem(sink_id):
        """Follow strength back through dance and physics to the audio source."""
        frontier, seen = [sink_id], set()
        while frontier:
            nid = frontier.pop()
            seen.add(nid)
            if by_id[nid].type == "audio.source":
                return by_id[nid].params["stem"]
            frontier += [src for (dst, _), (src, _) in feeds.items()
                         if dst == nid and src not in seen and by_id[src].type != "ensemble.prominence"]
        return None

    route = {n.params["block"]: upstream_stem(n.id) for n in patch.nodes if n.type == "sae.block"}
    assert route == {"down.2.1": "bass", "up.0.0": "drums", "up.0.1": "vocals", "mid.0": "other"}
    types = {n.type for n in patch.nodes}
    assert {"ensemble.prominence", "dest.prompt", "noise.walk"} <= types
    for n in patch.nodes:
        if n.type == "sae.block":
            assert 0 <= n.params["feature_id"] < 5120 and n.params["block"] in BLOCKS


def test_bench_ready_default_patch_2000_frames():
    """What `hambajuba bench bridge` runs: it must not raise. (Speed is the bench's job.)"""
    plan = compile_(load(PATCH_DIR / "default.patch"), busy_track(45.0))
    for i in range(2000):
        plan.run(i * DT, DT)
    assert np.all(np.isfinite(plan.frame.vec))


# -- bad input ---------------------------------------------------------------------------------

def test_missing_stem_plays_as_silence():
    """An instrumental (no vocals): the default patch compiles and its vocal block is quiet."""
    no_vocals = tuple(s for s in STEMS + ("mix",) if s != "vocals")
    plan = compile_(load(PATCH_DIR / "default.patch"), busy_track(stems=no_vocals))
    assert any("vocals" in str(w) for w in plan.warnings)
    for i in range(300):
        frame = plan.run(i * DT, DT)
    assert frame.strength[BLOCKS.index("up.0.1"), 0] == 0.0
    assert frame.strength[BLOCKS.index("down.2.1"), 0] != 0.0


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf * 0 in the bank
def test_nan_in_the_track_is_counted_and_never_reaches_frame_params():
    a = busy_track()
    for s in ("bass", "drums", "vocals", "other", "mix"):
        x = a.data[f"{s}/energy_smooth"].copy()
        x[::7] = np.nan
        a.data[f"{s}/energy_smooth"] = x
        a.data[f"{s}/pitch_hz"][::5] = np.inf
    plan = compile_(load(PATCH_DIR / "default.patch"), a)
    for i in range(500):
        frame = plan.run(i * DT, DT)
        assert np.all(np.isfinite(frame.vec))
    assert plan.nan_count() > 0


def _with_param(node_id, name, value):
    text = (PATCH_DIR / "default.patch").read_text()
    patch = loads(text)
    patch.node(node_id).params[name] = value
    return patch


@pytest.mark.parametrize("node_id, name, value", [
    ("dance_bass", "stage_right", 1000.0),
    ("sink_drums", "feature_id", 5120),
    ("phys_drums", "preset", "trampoline"),
    ("ensemble", "rank_bass", "R5"),
    ("noise", "distance", -1.0),
    ("mask_vocals", "spread", 0.0),
])
def test_out_of_range_params_refused_naming_the_node(node_id, name, value):
    with pytest.raises(CompileError) as e:
        compile_(_with_param(node_id, name, value))
    assert node_id in str(e.value) and name in str(e.value)


def test_nan_param_refused_at_load():
    text = (PATCH_DIR / "default.patch").read_text().replace('"kick": 3.0', '"kick": NaN')
    with pytest.raises(PatchError) as e:
        loads(text)
    assert "phys_drums" in str(e.value)


def test_unconnected_inputs_use_documented_defaults():
    """Cut every link into the drums sink and dancer: they still compile and run."""
    patch = load(PATCH_DIR / "default.patch")
    patch.links = [l for l in patch.links if l.dst[0] not in ("sink_drums", "dance_drums")]
    plan = compile_(patch, busy_track())
    frame = plan.run(1.0, DT)
    b = BLOCKS.index("up.0.0")
    assert frame.strength[b, 0] == 0.0  # strength param default 0
    assert np.all(frame.masks[b, 0] == 1.0)  # mask default: everywhere
    assert math.isfinite(plan.nodes["dance_drums"].out.v)

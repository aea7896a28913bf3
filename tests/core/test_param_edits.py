"""edit.set_param (in place) must give what a recompile gives.

For every registered node type and every one of its params, two identical
plans run a lively synthetic track for a while; one takes the new value
through set_param, the other is recompiled with it (state carried, as the
editor did before in-place edits). The next frames must be the same: every
node's outputs, the FrameParams vector, the Scene's content and the
warnings. This is what keeps a node's `reprepare` list honest: a param read
in prepare but missing from it shows up here as a difference.

Tier 1: no torch.
"""
from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest

from graph_runtime.analysis.store import ALL_STEMS, CLASS_NAMES, STEMS, pair_key, synthetic
from graph_runtime.graph.compiler import CompileError, compile_patch
from graph_runtime.graph.edit import set_param
from graph_runtime.graph.frame import BLOCKS, SLOTS
from graph_runtime.graph.patch import Patch
from hambajuba_nodes.registry import default_registry

FPS = 50.0
WARMUP = 60  # frames run before the edit (springs moving, beats passed)
AFTER = 50  # frames compared after it (1 s: a slow LFO crosses a threshold)
REGISTRY = default_registry()


def lively_analysis(seconds: float = 8.0, seed: int = 3):
    """Every channel moving: smooth random levels, sparse pulses, a melody."""
    rng = np.random.default_rng(seed)
    a = synthetic(seconds, bpm=128.0)
    n = a.n_frames
    kernel = np.ones(15) / 15.0
    for name in list(a.data):
        last = name.rsplit("/", 1)[-1]
        if last in ("transient", "layer_entry", "beat", "downbeat", "flash"):
            a.data[name] = (rng.random(n) < 0.06).astype(np.float32)
        elif last == "pitch_hz":
            a.data[name] = (110.0 * 2 ** np.cumsum(rng.normal(0, 0.05, n))).astype(np.float32)
        elif last not in ("beat_phase", "bar_phase", "bpm_local"):
            a.data[name] = np.convolve(rng.random(n), kernel, mode="same").astype(np.float32)
    for s in ALL_STEMS:
        a.data[f"class/{s}"] = rng.uniform(0.2, 0.9, len(CLASS_NAMES)).astype(np.float32)
    for x, y in itertools.combinations(STEMS, 2):
        for c in ("lock_index", "call_response"):
            a.data[f"coupling/{pair_key(x, y)}/{c}"] = rng.random(n).astype(np.float32)
    return a


ANALYSIS = lively_analysis()


def other_values(prm, current, tmp_image: str) -> list:
    """New values to try for a param: all other choices, the other bool, a
    different number inside the range, other text."""
    d = current
    if prm.kind == "choice":
        return [c for c in prm.choices if c != d]
    if prm.kind == "bool":
        return [not d]
    if prm.kind == "mask":
        return [[float(i % 16) / 15.0 for i in range(256)]]
    if prm.kind in ("text", "path"):
        return [tmp_image, "nowhere/gone.png"] if prm.kind == "path" else ["a wholly new line\nand another"]
    out = []
    for v in (d * 1.5 + 0.25, d * 0.5 - 0.125, (prm.min or 0) + 1):
        v = int(round(v)) if prm.kind == "int" else v
        if v != d and prm.check(v)[1] is None:
            out.append(v)
    return out[:1]


def bases(cls) -> dict[str, dict]:
    """Starting params: the defaults, and every choice on its second and on
    its last option (a spring's m, k, c only matter with preset custom)."""
    out = {"defaults": {}}
    choices = [p for p in cls.params if p.kind == "choice"]
    if choices:
        out["second"] = {p.name: p.choices[1] for p in choices}
        out["last"] = {p.name: p.choices[-1] for p in choices}
    return out


def build(type_id: str, linked: bool, params: dict) -> Patch:
    """The node under test ('n'), fed by moving sources when `linked`, and
    readers of its mask and stem outputs (they read those at prepare time)."""
    cls = REGISTRY.get(type_id)
    p = Patch()
    p.add_node("audio.source", {"stem": "drums"}, node_id="src")
    p.add_node("time.lfo", {"rate": 0.7}, node_id="lfo")
    p.add_node("mask.pitch", {}, node_id="pm")
    p.connect(("src", "pitch"), ("pm", "pitch"))
    p.add_node(type_id, dict(params), node_id="n")
    if linked:
        feeds = {"signal": ("lfo", "out"), "trigger": ("src", "hit"), "mask": ("pm", "out"),
                 "stem": ("src", "stem")}
        for port in cls.inputs:
            p.connect(feeds[port.kind], ("n", port.name))
    for port in cls.outputs:
        if port.kind == "mask":
            p.add_node("sae.block", {"block": "mid.0", "feature_id": 3}, node_id=f"sink_{port.name}")
            p.connect(("n", port.name), (f"sink_{port.name}", "mask"))
            p.connect(("lfo", "out"), (f"sink_{port.name}", "strength"))
        elif port.kind == "stem":
            p.add_node("dance.dancer", {"intensity_source": "energy_smooth",
                                        "position_source": "pitch"}, node_id=f"dance_{port.name}")
            p.connect(("n", port.name), (f"dance_{port.name}", "stem"))
    return p


def feature_mean(block: str, fid: int) -> float:
    """Distinct per block and feature, as real SAE means are."""
    return 10.0 + BLOCKS.index(block) + 0.01 * fid


def run(plan, frames):
    for k in frames:
        plan.run((k + 0.5) / FPS, 1.0 / FPS)  # mid-frame: the same analysis frame either way


def snapshot(plan) -> dict:
    """Everything a frame hands on: node outputs, the vector, the Scene, warnings."""
    outs = {}
    for nid, node in plan.nodes.items():
        for port in type(node).outputs:
            v = getattr(node, port.name).v
            outs[(nid, port.name)] = v.tobytes() if isinstance(v, np.ndarray) else v
    fr = plan.frame
    scene = fr.scene
    slots = []  # slot positions may differ (a sink that moved block): compare per block, sorted
    for b in range(len(BLOCKS)):
        slots.append(sorted((int(scene.feature_ids[b, s]), float(fr.strength[b, s]),
                             fr.masks[b, s].tobytes()) for s in range(SLOTS)))
    rest = fr.vec[fr.masks.size + fr.strength.size:].tobytes()
    return {"outputs": outs, "slots": slots, "rest": rest,
            "scene": (scene.prompt_a, scene.prompt_b, scene.seed_a, scene.seed_b,
                      scene.latent_image),
            "warnings": sorted(str(w) for w in plan.warnings)}


def cases():
    for cls in REGISTRY:
        for prm in cls.params:
            for base in bases(cls):
                for linked in ((True, False) if base == "defaults" else (True,)):
                    yield pytest.param(cls.type_id, prm.name, base, linked,
                                       id=f"{cls.type_id}.{prm.name}-{base}-"
                                          f"{'linked' if linked else 'free'}")


@pytest.mark.parametrize("type_id,name,base,linked", list(cases()))
def test_set_param_equals_recompile(type_id, name, base, linked, tmp_path):
    image = tmp_path / "cover.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")  # the node checks the name and existence only
    cls = REGISTRY.get(type_id)
    params = bases(cls)[base]
    patch = build(type_id, linked, params)
    prm = cls.param(name)
    values = other_values(prm, params.get(name, prm.default), str(image))
    assert values, f"no other value to try for {type_id}.{name}"
    for value in values:
        kw = dict(analysis=ANALYSIS, fps=FPS, base_dir=str(tmp_path), feature_mean=feature_mean)
        in_place = compile_patch(patch, REGISTRY, **kw)
        reference = compile_patch(patch, REGISTRY, **kw)
        run(in_place, range(WARMUP))
        run(reference, range(WARMUP))
        assert snapshot(in_place) == snapshot(reference)  # the two start out the same
        reason = set_param(in_place, "n", name, value)
        edited = copy.deepcopy(patch)
        edited.node("n").params[name] = value
        try:
            recompiled = compile_patch(edited, REGISTRY, previous=reference, **kw)
        except CompileError as e:
            assert reason is not None, f"recompile refused ({e}) but set_param took it"
            continue
        assert reason is None, reason
        for k in range(WARMUP, WARMUP + AFTER):
            run(in_place, [k])
            run(recompiled, [k])
            a, b = snapshot(in_place), snapshot(recompiled)
            for key in a:
                assert a[key] == b[key], f"{type_id}.{name}={value!r}: {key} differs at frame {k}"

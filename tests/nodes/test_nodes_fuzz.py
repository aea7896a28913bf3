"""Fuzz the instrument's nodes: random params and links end in a CompileError
naming a node, or a plan whose FrameParams stay finite. Never another exception."""
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nodes_helpers import track

from graph_runtime.graph.compiler import CompileError, compile_patch
from graph_runtime.graph.patch import Patch
from hambajuba_nodes.registry import default_registry

REG = default_registry()
FAMILIES = ("audio.", "physics.", "dance.", "ensemble.", "mask.", "dest.", "noise.", "sae.")
TYPES = sorted(c.type_id for c in REG if c.type_id.startswith(FAMILIES))
TRACK = track(3.0, bass__energy_smooth=0.5, drums__transient=np.tile([1.0, 0, 0, 0, 0], 30),
              vocals__pitch_hz=440.0, vocals__pitch_confidence=0.9, bass__activity=1.0)


def param_value(prm):
    """Mostly valid values for the param, sometimes wild ones."""
    wild = st.one_of(st.none(), st.booleans(), st.text(max_size=5),
                     st.floats(allow_nan=False, allow_infinity=False), st.integers(-10**6, 10**6))
    if prm.kind == "float":
        good = st.floats(prm.min, prm.max, allow_nan=False)
    elif prm.kind == "int":
        good = st.integers(int(prm.min), int(prm.max))
    elif prm.kind == "bool":
        good = st.booleans()
    elif prm.kind == "choice":
        good = st.sampled_from(prm.choices)
    elif prm.kind == "mask":
        good = st.lists(st.floats(0, 1), min_size=256, max_size=256)
    else:
        good = st.text(max_size=30)
    return st.one_of(good, good, good, wild)


@st.composite
def patches(draw):
    p = Patch()
    n = draw(st.integers(1, 6))
    for i in range(n):
        cls = REG.get(draw(st.sampled_from(TYPES)))
        chosen = draw(st.lists(st.sampled_from(cls.params), max_size=4, unique_by=lambda x: x.name)) \
            if cls.params else []
        p.add_node(cls.type_id, {prm.name: draw(param_value(prm)) for prm in chosen},
                   node_id=f"n{i}")
    for _ in range(draw(st.integers(0, 8))):
        a, b = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        ca, cb = REG.get(p.nodes[a].type), REG.get(p.nodes[b].type)
        if not ca.outputs or not cb.inputs:
            continue
        out = draw(st.sampled_from(ca.outputs)).name
        inp = draw(st.sampled_from(cb.inputs)).name
        p.connect((f"n{a}", out), (f"n{b}", inp))
    return p


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patch=patches(), with_track=st.booleans(), nan_at=st.integers(0, 4))
def test_nodes_never_crash_and_never_leak_nan(patch, with_track, nan_at):
    try:
        plan = compile_patch(patch, REG, analysis=TRACK if with_track else None)
    except CompileError as e:
        assert e.problems and all(p.node for p in e.problems)
        return
    for i in range(5):
        if i == nan_at:  # poison every unconnected signal input for one frame
            for node in plan.nodes.values():
                for port in type(node).inputs:
                    w = getattr(node, port.name)
                    if port.kind == "signal" and not any(
                            l.dst == (node.id, port.name) for l in patch.links):
                        w.v = math.nan
        frame = plan.run(i * 0.02, 0.02)
        assert np.all(np.isfinite(frame.vec))

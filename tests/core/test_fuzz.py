"""Fuzz the loader and the compiler: any input ends in a Patch, a PatchError
or a CompileError, never another exception."""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph_runtime.graph import patch as P
from graph_runtime.graph.compiler import CompileError, compile_patch

TYPES = ["time.lfo", "shape.smooth", "shape.curve", "math.binary", "math.clamp",
         "logic.threshold", "logic.delay", "value.constant", "test.sink", "nope.unknown"]
PORTS = ["out", "x", "a", "b", "lo", "hi", "fire", "gate", "strength", "mask", "phase", "zz"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12)
param_dicts = st.dictionaries(st.sampled_from(["rate", "shape", "op", "b", "value", "lo",
                                               "threshold", "mode", "gamma", "block", "x"]),
                              json_values, max_size=4)


@st.composite
def patch_docs(draw):
    ids = draw(st.lists(st.sampled_from("abcdefgh"), min_size=0, max_size=8))
    nodes = [{"id": i, "type": draw(st.sampled_from(TYPES)), "params": draw(param_dicts),
              "pos": draw(st.one_of(st.just([0, 0]), json_values))} for i in ids]
    links = draw(st.lists(st.fixed_dictionaries({
        "from": st.tuples(st.sampled_from("abcdefghz"), st.sampled_from(PORTS)).map(list),
        "to": st.tuples(st.sampled_from("abcdefghz"), st.sampled_from(PORTS)).map(list)}),
        max_size=10))
    doc = {"format": draw(st.sampled_from([P.FORMAT, P.FORMAT, "x"])),
           "version": draw(st.sampled_from([1, 1, 1, 0, 2, "1", None])),
           "nodes": nodes, "links": links,
           "engine": draw(st.one_of(st.just({}), json_values)), "meta": {}}
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=patch_docs())
def test_loader_and_compiler_never_crash(registry, doc):
    try:
        text = json.dumps(doc)
    except ValueError:
        return
    try:
        patch = P.loads(text, "fuzz.patch")
    except P.PatchError as e:
        assert e.problems and all(p.startswith("fuzz.patch") for p in e.problems)
        return
    try:
        plan = compile_patch(patch, registry)
    except CompileError as e:
        assert e.problems and all(str(p) for p in e.problems)
        return
    for i in range(3):
        frame = plan.run(i * 0.02, 0.02)
    assert frame.vec.dtype.name == "float32"


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_loader_on_random_bytes(data):
    try:
        P.loads(data, "bytes.patch")
    except P.PatchError as e:
        assert e.problems


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=patch_docs())
def test_round_trip_of_anything_that_loads(doc):
    try:
        patch = P.loads(json.dumps(doc), "fuzz.patch")
    except (P.PatchError, ValueError):
        return
    try:
        text = P.dumps(patch)
    except ValueError:  # NaN in engine settings reached here only if json allowed it
        return
    assert P.loads(text) == patch

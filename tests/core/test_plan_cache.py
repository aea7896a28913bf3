"""Per-track prepare work is built once per analysis and shared by every
compile (the plan, its meter twin, every structural edit). Tier 1: no torch."""
from __future__ import annotations

import gc
import math

import numpy as np
import pytest

from graph_runtime.analysis.store import synthetic
from graph_runtime.graph import prepare_cache as plan_cache
from graph_runtime.graph.channels import ChannelBank
from graph_runtime.graph.compiler import compile_patch
from graph_runtime.graph.edit import set_param
from graph_runtime.graph.patch import Patch
from graph_runtime.graph.prepare_cache import CacheMiss, cache_for
from hambajuba_nodes import ensemble
from hambajuba_nodes import noise as noise_walk
from hambajuba_nodes.registry import default_registry

REG = default_registry()


def heavy_patch() -> Patch:
    p = Patch()
    p.add_node("audio.source", {"stem": "drums"}, node_id="src")
    p.add_node("ensemble.prominence", {"rank_drums": "R1", "rank_bass": "R2"}, node_id="ens")
    p.add_node("noise.walk", {"stem": "drums"}, node_id="walk")
    return p


def test_two_compiles_share_the_tables_and_build_them_once(monkeypatch):
    calls = {"ensemble": 0, "walk": 0}
    table, walk = ensemble.Ensemble.table, noise_walk.walk_angle

    def counted_table(self, a):
        calls["ensemble"] += 1
        return table(self, a)

    def counted_walk(*args):
        calls["walk"] += 1
        return walk(*args)

    monkeypatch.setattr(ensemble.Ensemble, "table", counted_table)
    monkeypatch.setattr(noise_walk, "walk_angle", counted_walk)
    a = synthetic(30.0)
    first = compile_patch(heavy_patch(), REG, analysis=a)
    second = compile_patch(heavy_patch(), REG, analysis=a)
    assert calls == {"ensemble": 1, "walk": 1}
    assert first.nodes["ens"]._rows is second.nodes["ens"]._rows
    assert first.bank._flat.base is second.bank._flat.base  # one channel table
    first.run(3.0, 0.02)
    second.run(3.0, 0.02)
    assert first.values("src") == second.values("src")
    other = compile_patch(heavy_patch(), REG, analysis=synthetic(30.0))  # another track
    assert calls == {"ensemble": 2, "walk": 2} and other.nodes["ens"]._rows is not first.nodes["ens"]._rows


def test_a_cached_only_compile_refuses_new_work_and_takes_cached_work():
    a = synthetic(10.0)
    with pytest.raises(CacheMiss):
        compile_patch(heavy_patch(), REG, analysis=a, cached_only=True)
    compile_patch(heavy_patch(), REG, analysis=a)
    plan = compile_patch(heavy_patch(), REG, analysis=a, cached_only=True)
    p = heavy_patch()
    p.node("ens").params["rank_vocals"] = "R3"  # new params: a new table
    with pytest.raises(CacheMiss):
        compile_patch(p, REG, analysis=a, cached_only=True)
    assert set_param(plan, "ens", "rank_other", "R4", cached_only=False) is None  # builds it


def test_set_param_cached_only_leaves_the_plan_as_it_was_on_a_miss():
    a = synthetic(10.0)
    plan = compile_patch(heavy_patch(), REG, analysis=a)
    count = plan.bank.channel_count
    with pytest.raises(CacheMiss):  # a stem nobody has read: its channel rows are missing
        set_param(plan, "src", "stem", "vocals", cached_only=True)
    assert plan.nodes["src"].p["stem"] == "drums" and plan.bank.channel_count == count
    assert set_param(plan, "src", "stem", "vocals") is None
    assert plan.nodes["src"].stem.v.name == "vocals"


def test_the_cache_goes_with_its_analysis():
    a = synthetic(5.0)
    compile_patch(heavy_patch(), REG, analysis=a)
    key = id(a)
    assert key in plan_cache._caches and cache_for(a).entries() > 0
    del a
    gc.collect()
    assert key not in plan_cache._caches


def test_a_bank_takes_new_channels_after_freeze_and_interpolates_them():
    ramp = np.arange(200, dtype=np.float32)
    a = synthetic(4.0, channels={"bass/envelope": ramp, "drums/envelope": 2 * ramp})
    bank = ChannelBank(a)
    bass = bank.signal("bass/envelope")
    bank.freeze()
    bank.update(1.01)
    assert math.isclose(bass.v, 50.5, rel_tol=1e-9)
    drums = bank.signal("drums/envelope")  # a source re-prepared onto another stem
    bank.freeze()
    bank.update(1.01)
    assert math.isclose(drums.v, 101.0, rel_tol=1e-9) and math.isclose(bass.v, 50.5, rel_tol=1e-9)
    mark = bank.mark()
    bank.signal("vocals/envelope")
    bank.rewind(mark)
    assert bank.uncached() == [] and bank.channel_count == 2


def test_params_checked_once_are_not_taken_for_lookalikes():
    from graph_runtime.graph.compiler import CompileError

    good = Patch()
    good.add_node("time.lfo", {"bipolar": True, "rate": 2.0}, node_id="lfo")
    compile_patch(good, REG)
    bad = Patch()
    bad.add_node("time.lfo", {"bipolar": 1, "rate": 2.0}, node_id="lfo")  # 1 == True in Python
    with pytest.raises(CompileError, match="bipolar"):
        compile_patch(bad, REG)
    grid = [1.0] * 256
    ok = Patch()
    ok.add_node("mask.paint", {"preset": "custom", "grid": grid}, node_id="m")
    compile_patch(ok, REG)
    ok.node("m").params["grid"] = [True] + grid[1:]
    with pytest.raises(CompileError, match="grid"):
        compile_patch(ok, REG)


def test_the_cache_is_locked_once_a_plan_builder_shares_it():
    """graph/ takes no lock of its own: one compiling thread needs none, and the
    window's plan builder hands the caches a lock before its thread starts."""
    import subprocess
    import sys

    code = ("from graph_runtime.graph import prepare_cache as c\n"
            "alone = type(c._lock).__name__\n"
            "from graph_runtime.show.plan_builder import PlanBuilder\n"
            "PlanBuilder()\n"
            "with c._lock:\n"
            "    with c._lock:\n"  # re-entrant: a finaliser may drop a cache while one is stored
            "        pass\n"
            "print(alone, type(c._lock).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["_OneThread", "RLock"]

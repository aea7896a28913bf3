"""Fixtures for the analysis tests: a private cache folder and the eval cases.

The eval cases (../shared/eval/cases) are analysed once per session, with
their true stems as user stems, so beat, downbeat and pitch tests share one
run per case.
"""
from __future__ import annotations

import os

import pytest
from analysis_helpers import CASES, EVAL, need_eval


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Every analysis in this session caches into a fresh folder."""
    folder = tmp_path_factory.mktemp("analysis-cache")
    old = os.environ.get("HAMBAJUBA_CACHE")
    os.environ["HAMBAJUBA_CACHE"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("HAMBAJUBA_CACHE", None)
    else:
        os.environ["HAMBAJUBA_CACHE"] = old


@pytest.fixture(scope="session", autouse=True)
def two_threads():
    try:
        import torch
        torch.set_num_threads(2)
    except ImportError:
        pass


@pytest.fixture(scope="session")
def eval_runs():
    """case -> Analysis of its mix, with its true stems as user stems (one run each)."""
    need_eval()
    from graph_runtime.analysis import analyze
    return {c: analyze(EVAL / c / "mix.flac", stems_dir=EVAL / c / "stems", use_cache=False)
            for c in CASES}

"""Engine tests run on the untrained preview model, on the CPU, eager.

Each test module builds its own preview engine once (module scope): tests
change its scene, so modules do not share one. Torch runs on one thread
here: the tiny model gains nothing from two, and on a shared 2-core machine
oversubscribed threads made the suite three times slower.
"""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def engine(one_torch_thread):
    from graph_runtime.engine.engine import Engine
    e = Engine.create("preview", device="cpu", compile="none", warmup=False)
    yield e
    e.close()

import pytest
from control_helpers import small_patch

from graph_runtime.show.headless_show import HeadlessShow
from hambajuba_nodes.registry import default_registry


@pytest.fixture
def registry():
    return default_registry()


@pytest.fixture
def show(registry):
    return HeadlessShow(small_patch(), registry=registry)

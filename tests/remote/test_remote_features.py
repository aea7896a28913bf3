"""The feature browser on a remote engine: labels come from the server and
"Neighbours" is ranked there (the decoder never travels), equal to what the
same engine gives in this process."""
from __future__ import annotations

import pytest

from graph_runtime.graph.frame import BLOCKS
from graph_runtime.remote.server import Server
from graph_runtime.render.engines import engine_factory
from hambajuba_nodes.editor.features import engine_index

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def local_and_remote():
    from graph_runtime.render.loop import create_engine

    local = create_engine("preview", 128)
    srv = Server(local, port=0, say=lambda _l: None).start()
    remote = engine_factory("auto", 128, address=f"127.0.0.1:{srv.port}")()   # the window's
    yield local, remote
    remote.close()
    srv.close()


def test_labels_come_from_the_server(local_and_remote):
    local, remote = local_and_remote
    assert remote.labels is not None and "from the engine server" in remote.labels.source
    for b in BLOCKS:
        mine = {i: (r.label, r.category) for i, r in local.labels.by_block.get(b, {}).items()}
        theirs = {i: (r.label, r.category) for i, r in remote.labels.by_block.get(b, {}).items()}
        assert theirs == mine
    here, there = engine_index(local), engine_index(remote)
    assert [r.label for r in there.search("", block=BLOCKS[1])[0]] == \
        [r.label for r in here.search("", block=BLOCKS[1])[0]]


def test_neighbours_work_on_a_remote_engine(local_and_remote):
    local, remote = local_and_remote
    here, there = engine_index(local), engine_index(remote)
    near_here = here.neighbours("mid.0", 17, k=20)
    near_there = there.neighbours("mid.0", 17, k=20)
    assert len(near_there) == 21 and near_there[0].id == 17        # itself first
    assert [r.id for r in near_there] == [r.id for r in near_here]
    assert [round(r.score, 4) for r in near_there] == [round(r.score, 4) for r in near_here]

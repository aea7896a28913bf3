"""A scene the remote server refuses is shown on the node that asked for it,
as a local refusal is (the window's handler: LiveSession.engine_refused)."""
from graph_runtime.graph.patch import Patch
from graph_runtime.show.headless_show import HeadlessShow
from hambajuba_nodes.registry import default_registry


def test_a_remote_refusal_names_the_node_in_the_window(tmp_path):
    p = Patch(meta={"title": "remote refusal"})
    p.add_node("time.lfo", {"rate": 1.0}, node_id="lfo")
    p.add_node("dest.latent", {"image": "cover.jpg", "mode": "driven"}, node_id="cover")
    p.add_node("sae.block", {"block": "mid.0", "feature_id": 100}, node_id="sink")
    p.connect(("lfo", "out"), ("cover", "drive"))
    show = HeadlessShow(p, registry=default_registry())
    show.tick(0.0)
    # what EngineWorker's guard reports for a RemoteEngine: the client's part, then the server's
    show.live.engine_refused("remote engine: latent image cover.jpg: not a readable image")
    assert [q.node for q in show.live.problems if "engine:" in q.message] == ["cover"]
    show.live.engine_refused("remote engine: block mid.0: feature id 100 out of range 0..63 (a smaller server model)")
    assert [q.node for q in show.live.problems if "engine:" in q.message] == ["sink"]

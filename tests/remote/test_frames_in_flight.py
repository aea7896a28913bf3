"""Frames in flight: up to N on the wire, newest wins, timing measured."""
from __future__ import annotations

import numpy as np
from remote_helpers import wait_until

from graph_runtime.graph.frame import FrameParams
from graph_runtime.remote.client import RemoteEngine
from graph_runtime.remote.proxy import DelayProxy


def test_submit_stops_at_the_in_flight_limit_and_the_newest_wins(null_server):
    eng = RemoteEngine(f"127.0.0.1:{null_server.port}", in_flight=3, codec="raw")
    try:
        proxy_free = FrameParams()
        ids = [eng.submit(proxy_free, at=float(i)) for i in range(3)]
        assert ids == [0, 1, 2]
        assert wait_until(lambda: eng.received == 3, 10.0)
        got = eng.poll()
        assert got.id == 2 and got.at == 2.0            # the newest, for its own time
        assert eng.dropped == 2 and eng.poll() is None   # the older two were never shown
        assert np.array_equal(got.rgba, null_server.engine._image)
    finally:
        eng.close()


def test_a_full_pipe_refuses_more_until_an_image_comes_back(null_server):
    proxy = DelayProxy("127.0.0.1", null_server.port, one_way_s=0.2).start()
    eng = RemoteEngine(f"127.0.0.1:{proxy.port}", in_flight=2)
    try:
        f = FrameParams()
        assert eng.submit(f, 0.0) is not None and eng.submit(f, 0.1) is not None
        assert eng.submit(f, 0.2) is None                # two on the wire already
        assert wait_until(lambda: eng.received >= 1, 10.0)
        assert eng.submit(f, 0.3) is not None
        assert wait_until(lambda: eng.received >= 3, 10.0)
        # the round trip through the proxy is measured, apart from the server's render
        assert eng.timing["rtt_ms"] > 300 and eng.timing["render_ms"] < eng.timing["rtt_ms"]
        assert eng.lookahead_s >= eng.timing["rtt_ms"] / 1e3
    finally:
        eng.close()
        proxy.close()


def test_feature_means_come_from_the_server(null_server):
    eng = RemoteEngine(f"127.0.0.1:{null_server.port}")
    try:
        assert eng.n_features == null_server.engine.n_features
        assert eng.feature_mean("mid.0", 17) == 1.0
        assert not eng.is_preview and "null engine" in eng.description
    finally:
        eng.close()

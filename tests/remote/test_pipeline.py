"""frame_pipe: the same submit/poll calls drive a local engine and a remote one."""
from __future__ import annotations

import numpy as np
from remote_helpers import wait_until

from graph_runtime.engine.null_engine import NullEngine
from graph_runtime.graph.frame import FrameParams
from graph_runtime.remote.client import RemoteEngine
from graph_runtime.remote.pipeline import LocalPipe, frame_pipe


def _drive(pipe, frames: int) -> list:
    """A worker's loop: keep the pipe full with the newest frame, collect what finishes."""
    frame, got, t = FrameParams(), [], 0.0
    while len(got) < frames:
        t += 0.01
        pipe.submit(frame, t, tag=("submitted", t))
        pipe.wait(0.05)
        done = pipe.poll()
        if done is not None:
            got.append((done.at, done.tag, done.rgba.copy()))
    return got


def test_a_local_engine_is_wrapped_and_renders_in_submit():
    eng = NullEngine(128)
    pipe = frame_pipe(eng)
    assert isinstance(pipe, LocalPipe)
    got = _drive(pipe, 3)
    assert [g[0] for g in got] == [g[1][1] for g in got]          # at and tag travel together
    assert eng.frames == 3 and np.array_equal(got[0][2], eng._image)


def test_a_remote_engine_is_its_own_pipe(null_server):
    eng = RemoteEngine(f"127.0.0.1:{null_server.port}", codec="raw", in_flight=2)
    try:
        assert frame_pipe(eng) is eng
        got = _drive(eng, 5)
        assert all(at == tag[1] for at, tag, _ in got)
        assert all(np.array_equal(img, null_server.engine._image) for _, _, img in got)
        ats = [g[0] for g in got]
        assert ats == sorted(ats)            # never an older frame after a newer one
        assert wait_until(lambda: not eng._sent, 5.0)
    finally:
        eng.close()

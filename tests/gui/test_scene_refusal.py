"""A Scene the engine refuses never stops the output.

Driven through the window's own EngineWorker: the main thread submits one
FrameParams (the plan's) every frame and the worker hands the engine its
rotating snapshot copies, exactly as in the window. The fake engine
behaves as the real one does: it applies a Scene when the object or its
version changes, and refuses one with an unreadable album image or a
feature id it does not have.
"""
from __future__ import annotations

import time

import numpy as np

from graph_runtime.engine.errors import EngineError
from graph_runtime.engine.null_engine import NullEngine
from graph_runtime.graph.frame import FrameParams
from graph_runtime.show.engine_thread import EngineWorker
from graph_runtime.show.live_plan import scene_node


class RefusingEngine(NullEngine):
    """Shows the applied Scene's seed_a as the image's red value; refuses a broken
    album image and a feature id out of range, as the real engine does."""

    def __init__(self) -> None:
        super().__init__(8, np.zeros((8, 8, 4), dtype=np.uint8), preview=True,
                         description="refusing test engine")
        self._seen = None
        self._version = None
        self.shown_seed = -1
        self.applies: list[tuple[int, str | None]] = []  # (seed_a, latent_image) tried

    def render(self, frame: FrameParams) -> np.ndarray:
        scene = frame.scene
        if scene is not self._seen or scene.version != self._version:
            self._seen, self._version = scene, scene.version
            self.applies.append((scene.seed_a, scene.latent_image))
            if scene.latent_image and "broken" in scene.latent_image:
                raise EngineError(f"latent image {scene.latent_image}", "not a readable image")
            if (scene.feature_ids > 5119).any():
                raise EngineError("block mid.0", "feature id 9000 out of range 0..5119")
            self.shown_seed = scene.seed_a
        image = super().render(frame)
        image[...] = self.shown_seed
        return image


def started():
    engine = RefusingEngine()
    worker = EngineWorker(lambda: engine)
    worker.start()
    deadline = time.monotonic() + 10.0
    while not worker.ready and time.monotonic() < deadline:
        time.sleep(0.01)
    assert worker.ready
    return worker, engine


def play(worker, frame: FrameParams, frames: int) -> list[int]:
    """Submit `frames` window frames; the seed each shown image carries."""
    shown = []
    for i in range(frames):
        worker.submit(frame, i / 60.0)
        deadline = time.monotonic() + 2.0
        res = worker.poll()
        while res is None and time.monotonic() < deadline:
            time.sleep(0.001)
            res = worker.poll()
        assert res is not None, f"no frame rendered ({worker.errors} errors: {worker.message})"
        shown.append(int(round(res.image[0, 0, 0] * 255)))
        worker.release(res)
    return shown


def set_scene(frame: FrameParams, seed: int, image: str | None = None, fid: int = 3) -> None:
    """What a recompile or a re-prepared node does: new content, version bumped."""
    frame.scene.seed_a = seed
    frame.scene.latent_image = image
    frame.scene.feature_ids[1, 0] = fid
    frame.scene.touch()


def test_a_refused_scene_keeps_the_last_good_one_rendering():
    worker, engine = started()
    try:
        frame = FrameParams()
        set_scene(frame, 11)
        assert play(worker, frame, 5) == [11] * 5 and worker.scene_refusal is None
        set_scene(frame, 22, image="/covers/broken.jpg")  # the engine cannot read it
        rendered = worker.rendered
        assert play(worker, frame, 30) == [11] * 30  # output never stops: the last good scene
        assert worker.rendered == rendered + 30 and worker.errors == 0
        assert engine.applies.count((22, "/covers/broken.jpg")) == 1  # refused once, not per frame
        assert "broken.jpg" in worker.scene_refusal
        set_scene(frame, 33, fid=9000)  # a feature id the SAE lacks
        assert play(worker, frame, 10) == [11] * 10 and "feature id 9000" in worker.scene_refusal
        set_scene(frame, 44)  # a good one again
        assert play(worker, frame, 5)[-1] == 44 and worker.scene_refusal is None
    finally:
        worker.stop()


def test_a_patch_refused_from_its_first_frame_shows_plain_noise():
    worker, engine = started()
    try:
        frame = FrameParams()
        set_scene(frame, 7, image="/covers/broken.png")
        assert play(worker, frame, 10) == [7] * 10  # same scene without its image
        assert engine.applies[:2] == [(7, "/covers/broken.png"), (7, None)]
        assert "broken.png" in worker.scene_refusal and worker.errors == 0
    finally:
        worker.stop()


def test_the_refusal_is_filed_under_the_node_that_asked_for_it():
    from graph_runtime.graph.compiler import compile_patch
    from graph_runtime.graph.patch import Patch
    from hambajuba_nodes.registry import default_registry

    p = Patch()
    p.add_node("sae.block", {"block": "mid.0", "feature_id": 12}, node_id="sink_a")
    p.add_node("sae.block", {"block": "mid.0", "feature_id": 40}, node_id="sink_b")
    p.add_node("dest.latent", {}, node_id="cover")
    plan = compile_patch(p, default_registry())
    assert scene_node(plan, "block mid.0: feature id 40 out of range 0..31") == "sink_b"
    assert scene_node(plan, "latent image a.png: not a readable image") == "cover"
    assert scene_node(plan, "CUDA out of memory") is None

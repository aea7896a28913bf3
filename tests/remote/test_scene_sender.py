"""When a scene goes to the server: only when it moved, and on every new link."""
from __future__ import annotations

import gc

from graph_runtime.graph.frame import Scene
from graph_runtime.remote.scene_sender import SceneSender


def test_a_scene_is_sent_when_it_moves_or_the_link_is_new():
    s = SceneSender()
    scene = Scene(prompt_a="a harbour")
    assert s.message(scene, 1)["prompt_a"] == "a harbour"
    assert s.message(scene, 1) is None                  # nothing moved
    scene.touch()
    assert s.message(scene, 1)["version"] == 1
    assert s.message(scene, 2) is not None              # a reconnected server knows nothing
    assert s.sent == 3


def test_a_new_plan_s_scene_at_the_same_version_is_sent_even_if_its_id_is_reused():
    s = SceneSender()
    for prompt in ("first patch", "second patch", "third patch"):
        msg = s.message(Scene(prompt_a=prompt), 1)     # each freed at once: ids may repeat
        gc.collect()
        assert msg is not None and msg["prompt_a"] == prompt

"""Play a track in the real window: null audio, engine on its thread, frames
delivered for the time they are seen, meters live, perform mode."""
from __future__ import annotations

import time

import dearpygui.dearpygui as dpg
import numpy as np
import pytest
from gui_harness import GradientEngine, step_until

pytestmark = pytest.mark.gui


def test_play_default_patch_with_engine_thread(make_app, tmp_path, wav):
    from hambajuba_nodes.cli.common import default_patch

    app = make_app(patch_path=default_patch(), engine=lambda: GradientEngine(128))
    app.open_track(wav(6.0))
    assert step_until(app, lambda: app.transport.track is not None and app.worker.ready)
    assert app.transport.loading is None
    progress_seen = app.transport.loads == 1
    app.transport.play()
    start, t_start = time.monotonic(), app.transport.time()
    while time.monotonic() - start < 3.0:
        app.step()
    played = app.transport.time() - t_start
    wall = time.monotonic() - start
    assert progress_seen and abs(played - wall) < 0.2  # the null output keeps wall time
    assert app.live.ok, [str(p) for p in app.live.problems]
    assert app.output.frames_shown > 3  # engine frames reached the texture
    assert app.output.size == (128, 128)
    assert app.delivery.lookahead() > 0.0
    # meters follow the music: some sparkline in the patch moved
    active = [m for m in app.meters._active if m.hist is not None]
    assert active and any(max(m.hist) != min(m.hist) for m in active)
    # the texture holds the stand-in's gradient, written in place
    assert app.output.buffer.max() > 0.5 and app.output.buffer[..., 3].min() == 1.0
    app.screenshot(str(tmp_path / "playing.png"))
    app.toggle_perform()
    app.step(3)
    assert app.output.performing and not dpg.is_item_shown(app.main)
    app.screenshot(str(tmp_path / "perform.png"))
    app.toggle_perform()
    app.step(2)
    assert dpg.is_item_shown(app.main)
    # seek and loop while playing
    app.seek(1.0)
    app.transport.set_loop(1.0, 1.5)
    app.step(5)
    end = time.monotonic() + 1.2
    while time.monotonic() < end:
        app.step()
        assert 0.95 <= app.transport.time() <= 1.55
    app.transport.pause()
    paused = app.transport.time()
    app.step(10)
    assert app.transport.time() == paused
    assert (tmp_path / "playing.png").stat().st_size > 10_000
    assert (tmp_path / "perform.png").stat().st_size > 1_000


def test_mask_painter_and_feature_pick(make_app, tmp_path):
    from hambajuba_nodes.editor.features import FeatureIndex

    app = make_app(engine=lambda: GradientEngine(64))
    view, model = app.view, app.model
    paint = view.add_node_at("mask.paint", (0, 0))
    sink = view.add_node_at("sae.block", (300, 0))
    view.on_link(view.editor, (view.attr_of(paint, "out", "out"), view.attr_of(sink, "mask", "in")))
    app.select_target(paint)
    app.select_target(sink)
    assert app.painter.node == paint and app.features.target == sink
    assert app.painter.apply_preset("floor") is None
    grid = model.param_value(paint, "grid")
    assert model.param_value(paint, "preset") == "custom"
    assert grid[0] == 0.0 and grid[-1] == 1.0  # row 0 is the top
    steps = len(model._undo)
    for c in range(16):  # one stroke across the top row
        app.painter.paint_cell(0, c, 1.0)
    app.painter._painting = True
    app.painter.end_stroke()
    assert len(model._undo) == steps + 1
    assert model.param_value(paint, "grid")[:16] == [1.0] * 16
    app.step(3)
    mask = app.live.plan.nodes[paint].out.v
    assert mask[0].min() == 1.0 and mask[8].min() == 1.0 and mask[4].max() == 0.0
    app.undo()
    app.step(2)
    assert app.painter.cells[:16] == [0.0] * 16

    class Labels:
        source = "test labels"
        by_block = {"up.0.0": {7: type("L", (), {"label": "fire and embers", "category": "texture",
                                                  "confidence": "high"})()}}

    dec = np.random.default_rng(0).normal(size=(32, 5120)).astype(np.float32)
    import torch

    app.features.set_index(FeatureIndex(Labels(), lambda b: torch.from_numpy(dec)))
    dpg.set_value(app.features.tags["search"], "fire")
    rows = app.features.refresh()
    assert [(r.block, r.id) for r in rows] == [("up.0.0", 7)]
    app.features.select(rows[0])
    assert app.features.pick() is None
    assert model.param_value(sink, "block") == "up.0.0" and model.param_value(sink, "feature_id") == 7
    near = app.features.show_neighbours()
    assert near[0].id == 7 and len(near) > 100
    assert step_until(app, lambda: app.worker.ready)
    assert app.features.preview() is None
    assert step_until(app, lambda: dpg.is_item_shown(app.features.tags["preview"]))
    app.screenshot(str(tmp_path / "mask_and_features.png"))


@pytest.mark.slow
def test_play_the_demo_track_with_the_real_analysis(make_app, tmp_path, monkeypatch):
    """The project's demo track, analysed by the real pipeline in the
    background (the window keeps drawing), then played with the null output."""
    from hambajuba_nodes.cli.common import default_patch
    from hambajuba_nodes.content.demo_track import ensure_demo
    from hambajuba_nodes.editor.transport import default_analyze

    monkeypatch.setenv("HAMBAJUBA_CACHE", str(tmp_path / "cache"))
    demo = ensure_demo(tmp_path / "cache")
    app = make_app(patch_path=default_patch(), engine=lambda: GradientEngine(128),
                   analyze=default_analyze)
    app.open_track(str(demo.path))
    frames_while_loading, stages = 0, set()
    end = time.monotonic() + 600
    while app.transport.track is None and time.monotonic() < end:
        job = app.transport.loading
        if job is not None:
            frames_while_loading += 1
            stages.add(job.stage)
            assert dpg.is_item_shown(app.bar.tags["progress"]) or frames_while_loading < 3
        app.step()
    assert app.transport.track is not None, app.last_status()
    assert frames_while_loading > 10 and len(stages) > 2  # responsive, with progress
    assert app.transport.analysis.bpm > 60
    assert step_until(app, lambda: app.worker.ready)
    app.seek(8.0)
    app.transport.play()
    start = time.monotonic()
    while time.monotonic() - start < 4.0:
        app.step()
    assert app.live.ok
    bass = app.live.meter_plan.nodes["src_bass"].energy_smooth.v
    moving = [m for m in app.meters._active if m.hist is not None and max(m.hist) - min(m.hist) > 1e-3]
    assert len(moving) >= 5 and bass >= 0.0  # the music moves the patch
    bar, beat, bpm = app.transport.beat_at(app.transport.time())
    assert bar >= 1 and 1 <= beat <= 4
    assert app.output.frames_shown > 3
    app.screenshot(str(tmp_path / "demo_playing.png"))

"""Files and bad input in the real window: every problem is a message in the
window, nothing is lost, the window keeps running."""
from __future__ import annotations

import json
import os

import dearpygui.dearpygui as dpg
import pytest
from gui_harness import GradientEngine, step_until

from graph_runtime.graph.patch import dumps

pytestmark = pytest.mark.gui


def test_bad_patches_and_tracks_leave_everything_as_it_was(make_app, tmp_path, wav):
    app = make_app()
    app.view.add_node_at("time.lfo", (0, 0))
    before = dumps(app.model.patch)
    corrupt = tmp_path / "broken.patch"
    corrupt.write_text('{"format": "hambajuba.patch", "version": 1, "nodes": [')
    problems = app.open_patch(str(corrupt))
    app.step(2)
    assert problems and "malformed JSON" in problems[0]
    assert dumps(app.model.patch) == before
    assert "Patch not opened" in app.dialogs.pending
    assert app.dialogs.answer("OK")
    newer = tmp_path / "newer.patch"
    newer.write_text(json.dumps({"format": "hambajuba.patch", "version": 99, "nodes": [], "links": []}))
    assert "newer" in app.open_patch(str(newer))[0]
    app.dialogs.answer("OK")

    # unknown node types open as placeholders: drawn, warned about, saved unchanged
    future = tmp_path / "future.patch"
    future.write_text(json.dumps({
        "format": "hambajuba.patch", "version": 1,
        "nodes": [{"id": "lfo", "type": "time.lfo", "params": {}, "pos": [0, 0]},
                  {"id": "warp", "type": "fx.warp_drive", "params": {"factor": 9}, "pos": [300, 0]}],
        "links": [{"from": ["lfo", "out"], "to": ["warp", "amount"]}]}))
    assert app.open_patch(str(future)) == []
    app.step(3)
    assert app.view.node_tag("warp") is not None
    assert app.view.attr_of("warp", "amount", "in") is not None  # its link stays visible
    assert app.live.ok and "unknown node type" in dpg.get_value(app.view._nodes["warp"].problem_text)
    out = tmp_path / "future_saved.patch"
    assert app.save_as(str(out)) is None
    saved = json.loads(out.read_text())
    assert {"from": ["lfo", "out"], "to": ["warp", "amount"]} in saved["links"]
    assert saved["nodes"][1]["params"] == {"factor": 9}

    # a file that is not audio, then a missing one: the playing track stays
    app.open_track(wav(2.0))
    assert step_until(app, lambda: app.transport.track is not None)
    good = app.transport.track
    notes = tmp_path / "notes.wav"
    notes.write_text("not audio at all")
    app.open_track(str(notes))
    assert step_until(app, lambda: app.transport.loading is None)
    app.step(2)
    assert app.transport.track is good
    assert "not an audio file" in app.last_status() and "still playing" in app.last_status()
    app.open_track(str(tmp_path / "missing.flac"))
    assert step_until(app, lambda: "no such file" in app.last_status())

    # an analysis that fails: message, the old track and analysis stay
    def failing(path, progress, duration):
        from graph_runtime.analysis.errors import AnalysisError
        raise AnalysisError(path, "the beat tracker found no beats", "try another track")
    app.transport.analyze = failing
    app.open_track(wav(1.0, "other.wav"))
    assert step_until(app, lambda: "analysis failed" in app.last_status())
    assert app.transport.track is good
    app.step(5)
    app.screenshot(str(tmp_path / "bad_input.png"))


def test_engine_that_cannot_start_is_a_message(make_app, tmp_path):
    def no_weights():
        from graph_runtime.engine.errors import EngineError
        raise EngineError("SDXL-Turbo", "weights not found; run `hambajuba models download`")

    app = make_app(engine=no_weights, model="sdxl-turbo")
    assert step_until(app, lambda: app.worker.state == "failed")
    app.step(3)
    assert "weights not found" in dpg.get_value(app.output.tags["model"])
    assert "SDXL-Turbo is not available" in app.dialogs.pending  # the preview is offered
    app.step(5)
    app.screenshot(str(tmp_path / "no_weights.png"))
    app._engine_arg = lambda: GradientEngine(64)  # what "Use the preview model" builds here
    assert app.dialogs.answer("Use the preview model")
    assert step_until(app, lambda: app.worker.ready)
    app.step(3)
    assert "PREVIEW" in dpg.get_value(app.output.tags["model"])


def test_autosave_and_the_unsaved_changes_prompt(make_app, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = tmp_path / "song.patch"
    app = make_app(autosave_every=0.0)
    app.view.add_node_at("time.lfo", (0, 0))
    assert app.save_as(str(path)) is None
    node = app.view.add_node_at("shape.smooth", (200, 0))  # an unsaved change...
    app.step(3)  # ...autosaved within a frame here (every 30 s in real use)
    side = app.files.side_path()
    assert os.path.exists(side) and node in open(side).read()
    assert str(path) in app.files.recent
    app.request_quit()  # the window's close button calls this
    app.step(1)
    assert "Unsaved changes" in app.dialogs.pending
    app.dialogs.answer("Cancel")
    app.step(2)
    assert not app._quit and app.model.dirty
    app.request_quit()
    app.step(1)
    app.dialogs.answer("Discard")
    assert app._quit
    assert not os.path.exists(side)  # a clean exit needs no recovery


def test_recovery_is_offered_after_a_crash(make_app, tmp_path, monkeypatch):
    from graph_runtime.graph import patch as patch_io
    from graph_runtime.graph.patch import Patch
    from graph_runtime.show.user_files import autosave_path

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    config = tmp_path / "config"
    path = tmp_path / "song.patch"
    saved = Patch()
    saved.add_node("time.lfo", {}, (0, 0))
    patch_io.save(saved, path)
    crashed = saved.copy()  # what the window had when it died: one more node
    crashed.add_node("shape.smooth", {}, (200, 0))
    side = autosave_path(str(path))  # the user's data folder, keyed by the patch's path
    os.makedirs(os.path.dirname(side))
    patch_io.save(crashed, side)
    os.utime(side, (os.path.getmtime(path) + 5, os.path.getmtime(path) + 5))

    app = make_app(patch_path=str(path), config=str(config))
    app.step(3)
    assert "Recover unsaved changes?" in app.dialogs.pending
    app.screenshot(str(tmp_path / "recovery.png"))
    app.dialogs.answer("Recover")
    app.step(3)
    assert app.model.patch.node("smooth_1") is not None and app.model.dirty
    assert app.files.path == str(path)
    assert app.view.node_tag("smooth_1") is not None


def test_recovery_is_asked_before_the_show_plays(make_app, tmp_path, monkeypatch, wav):
    """With an autosave to recover, nothing plays, records or opens on the projector
    until the question is answered: the audience never sees the wrong patch."""
    from graph_runtime.graph import patch as patch_io
    from graph_runtime.graph.patch import Patch
    from graph_runtime.show.user_files import autosave_path

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = tmp_path / "song.patch"
    saved = Patch()
    saved.add_node("time.lfo", {}, (0, 0))
    patch_io.save(saved, path)
    side = autosave_path(str(path))
    os.makedirs(os.path.dirname(side))
    patch_io.save(saved, side)
    os.utime(side, (os.path.getmtime(path) + 5, os.path.getmtime(path) + 5))
    app = make_app(patch_path=str(path), track_path=wav(), autoplay=True,
                   record=str(tmp_path / "show.mp4"))
    app.step(40)
    assert "Recover unsaved changes?" in app.dialogs.pending
    assert not app.transport.playing and not app.stage.recorder.recording
    app.dialogs.answer("Discard")
    assert step_until(app, lambda: app.transport.playing and app.stage.recorder.recording, 20)

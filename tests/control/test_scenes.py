"""Scenes: store, recall now / on the next beat / bar, crossfade, save/load."""
import pytest
from control_helpers import small_patch, strength

from graph_runtime.analysis.store import synthetic
from graph_runtime.control.beat_times import BeatGrid
from graph_runtime.graph import patch as P
from graph_runtime.show.headless_show import HeadlessShow


@pytest.fixture
def beat_show(registry):
    """120 BPM synthetic track: a beat every 0.5 s, a bar (downbeat) every 2 s."""
    return HeadlessShow(small_patch(), registry=registry, analysis=synthetic(20.0))


def two_scenes(show):
    show.control.store_scene("calm")
    show.model.set_params("sink", {"strength": 100.0, "feature_id": 99, "scale_by_mean": True})
    show.model.set_param("knob", "value", 1.0)
    show.control.store_scene("drop", ["sink", "knob"])
    show.control.recall("calm")
    show.tick(0.0)
    assert show.model.param_value("sink", "strength") == 0.0


def test_crossfade_on_the_next_beat_is_exact_at_0_half_and_1(beat_show):
    show = beat_show
    two_scenes(show)
    show.tick(0.30)
    assert show.control.recall("drop", "beat", beats=2.0) is None
    frame = show.tick(0.45)  # before the beat: nothing yet
    assert strength(frame) == 0.0 and frame.scene.feature_ids[0, 0] == 7
    frame = show.tick(0.50)  # the beat: p = 0; switches happen now
    assert strength(frame) == 0.0
    assert frame.scene.feature_ids[0, 0] == 99
    assert show.model.param_value("sink", "scale_by_mean") is True
    frame = show.tick(1.00)  # one of two beats: p = 1/2
    assert strength(frame) == 50.0
    assert show.model.param_value("knob", "value") == 0.75
    frame = show.tick(1.50)  # p = 1
    assert strength(frame) == 100.0 and show.model.param_value("knob", "value") == 1.0
    assert show.control.fade is None
    show.model.undo()  # the whole recall is one undo step
    assert show.model.param_value("sink", "strength") == 0.0


def test_recall_on_the_next_bar_and_over_seconds(beat_show):
    show = beat_show
    two_scenes(show)
    show.tick(2.10)
    show.control.recall("drop", "bar", seconds=1.0)
    assert show.control.fade.start_t == 4.0
    assert strength(show.tick(3.99)) == 0.0
    assert strength(show.tick(4.0)) == 0.0
    assert strength(show.tick(4.5)) == 50.0
    assert strength(show.tick(5.0)) == 100.0


def test_a_recall_cut_and_a_missing_scene(beat_show):
    show = beat_show
    two_scenes(show)
    show.control.recall("drop")
    assert strength(show.tick(0.1)) == 100.0
    assert "no scene 'nope'" in show.control.recall("nope")


def test_free_grid_without_a_track_follows_tap_tempo():
    grid = BeatGrid(bpm=100.0, phase_s=0.2)
    assert grid.next_beat(0.25) == pytest.approx(0.8)
    assert grid.next_bar(0.25) == pytest.approx(2.6)
    assert grid.next_beat(0.8) == pytest.approx(0.8)


def test_bindings_and_scenes_round_trip_through_save_and_load(beat_show, tmp_path):
    show = beat_show
    two_scenes(show)
    show.model.apply("bind", lambda p: p.bindings.extend([
        {"source": "cc", "channel": 0, "control": 21, "node": "sink", "param": "strength",
         "min": -5.0, "max": 5.0, "curve": "log", "takeover": "relative", "relative": "offset"},
        {"source": "note", "channel": 9, "control": 36, "node": "@scene", "param": "drop"},
        {"source": "osc", "channel": -1, "control": "/fader/1", "node": "gone", "param": "x"}]))
    path = tmp_path / "show.patch"
    P.save(show.model.patch, path)
    again = P.load(path)
    assert again.bindings == show.model.patch.bindings
    assert again.scenes == show.model.patch.scenes
    assert [s["name"] for s in again.scenes] == ["calm", "drop"]
    # the binding to a node that is not there is kept and reported, never dropped
    other = HeadlessShow(again, registry=show.registry)
    other.tick(0.0)
    assert len(other.control.bindings) == 3
    assert any("no node 'gone'" in r for r in other.control.reports)
    P.save(again, tmp_path / "again.patch")
    assert (tmp_path / "again.patch").read_text() == path.read_text()


def test_a_note_binding_recalls_a_scene(beat_show):
    show = beat_show
    two_scenes(show)
    show.model.apply("bind", lambda p: p.bindings.append(
        {"source": "note", "channel": 9, "control": 36, "node": "@scene", "param": "drop"}))
    show.control.inbox.post(("note", "pads", 9, 36), 100)  # what the MIDI handler posts
    assert strength(show.tick(0.1)) == 100.0


def test_a_midi_recall_is_logged_and_a_bar_recall_counts_down_as_heard(beat_show):
    """Recalls from a controller say who asked and when they land; the
    countdown is on the heard time (the render runs ahead of it)."""
    from graph_runtime.control.scenes import cue_text

    show = beat_show
    two_scenes(show)
    show.model.apply("bind", lambda p: p.bindings.append(
        {"source": "note", "channel": 9, "control": 36, "node": "@scene", "param": "drop"}))
    show.control.inbox.post(("note", "pads", 9, 36), 100)
    show.tick(0.1)
    assert any(r.startswith("note 36") and "scene 'drop' now" in r for r in show.control.reports), \
        list(show.control.reports)
    show.tick(2.1, lookahead=0.3)  # rendering 2.4 s while 2.1 s is heard
    assert show.control.recall("drop", "bar", beats=1.0, source="OSC /x") is None
    assert show.control.fade.start_t == 4.0
    assert "OSC /x: scene 'drop' on the next bar (track 4.00 s), fading over 1 beats" in \
        show.control.reports[-1]
    assert cue_text(show.control.countdown(2.1)) == "next: drop in 4 beats"  # 3.8 beats to go
    assert cue_text(show.control.countdown(3.6)) == "next: drop in 1 beat"
    show.tick(3.8, lookahead=0.3)  # the render is past the downbeat: the fade has started
    assert cue_text(show.control.countdown(3.8)) == "next: drop in 1 beat"  # not heard yet
    assert show.control.countdown(4.0) is None and cue_text(None) == ""

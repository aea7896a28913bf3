"""Stage timing in the real window (a recall on the bar, taps, tempo, pause).

Each test drives App under Xvfb through the path a performer uses (OSC over
UDP, MIDI through the inbox, the Control tab's buttons) and judges what the
audience would see: frames as the window shows them, at the track time heard.
"""
from __future__ import annotations

import time

import numpy as np
import pytest
from gui_harness import step_until

from graph_runtime.engine.null_engine import NullEngine
from graph_runtime.graph import patch as P
from graph_runtime.graph.patch import Patch

RENDER_S = 0.10  # the stand-in engine's render time: the window renders that far ahead


class SceneEngine(NullEngine):
    """A stand-in engine whose picture says which look is on: red = the first
    sink's feature id (switched at a fade's start), green = its strength."""

    def __init__(self, size=64, render_s=RENDER_S):
        super().__init__(size, np.zeros((size, size, 4), np.uint8), render_s=render_s,
                         preview=True, description="test engine (scene look)")
        self._image[..., 3] = 255

    def render(self, frame):
        out = super().render(frame)   # render_s, then the picture
        out[..., 0] = int(frame.scene.feature_ids[0, 0]) % 256
        strength = np.asarray(frame.strength)
        out[..., 1] = int(min(255.0, abs(float(strength[0, 0]))))
        out[..., 2] = int(min(255.0, abs(float(strength[1, 0]))))  # mid.0's first sink
        return out


def scene_patch(path) -> str:
    p = Patch()
    p.add_node("sae.block", {"block": "down.2.1", "feature_id": 7, "strength": 0.0,
                             "scale_by_mean": False}, node_id="sink")
    P.save(p, path)
    return str(path)


def watch_frames(app) -> list[tuple[float, int, int, int]]:
    """(track time heard when shown, red, green, blue) of every frame the window shows."""
    seen: list[tuple[float, int, int, int]] = []
    publish = app.stage.fanout.publish

    def spy(rgba, shown_at, track_t):
        seen.append((float(track_t), int(rgba[0, 0, 0]), int(rgba[0, 0, 1]), int(rgba[0, 0, 2])))
        return publish(rgba, shown_at, track_t)

    app.stage.fanout.publish = spy
    return seen


@pytest.mark.gui
def test_an_osc_bar_recall_changes_the_picture_on_the_downbeat_heard(make_app, wav, tmp_path):
    from pythonosc.udp_client import SimpleUDPClient

    app = make_app(engine=lambda: SceneEngine(), patch_path=scene_patch(tmp_path / "s.patch"),
                   track_path=wav(14.0), osc="127.0.0.1:0", autoplay=True)
    assert step_until(app, lambda: app.transport.playing and app.output.frames_shown > 5, 60)
    s = app.control.session
    s.store_scene("calm")
    app.model.set_params("sink", {"feature_id": 99, "strength": 200.0})
    s.store_scene("loud")
    s.recall("calm")
    app.step(3)
    downs = [float(d) for d in app.transport.analysis.downbeats]
    # send just after a downbeat, so the next one is well ahead of what is being rendered
    assert step_until(app, lambda: any(0.2 <= app.transport.time() - d <= 0.4 for d in downs), 20)
    sent_heard = app.transport.time()
    target = min(d for d in downs if d > sent_heard)
    seen = watch_frames(app)
    SimpleUDPClient("127.0.0.1", app.control.osc.port).send_message(
        "/hambajuba/scene/loud", ["bar", 2.0])
    cues = []

    import dearpygui.dearpygui as dpg
    trace = []

    def waiting():
        cues.append(dpg.get_value(app.bar.tags["beat"]))
        trace.append((round(time.monotonic(), 3), round(app.transport.time(), 3), app.delivery.shown,
                      app.delivery.dropped, app.worker.rendered))
        return app.transport.time() > target + 1.2

    assert step_until(app, waiting, 30)
    changed = [f for f in seen if f[1] == 99]
    before = [f for f in seen if f[1] != 99]
    assert changed and before, (seen, app.delivery.shown, app.delivery.dropped, app.output.frames_shown,
                                app.transport.time(), list(app.messages)[-6:])
    first, last_old = changed[0], max(f[0] for f in before)
    print(f"downbeat {target:.3f}: last old frame heard at {last_old:.3f}, "
          f"first new at {first[0]:.3f} (lead {app.delivery.lookahead():.3f} s)")
    # the look changes on the first frame shown at the downbeat heard: none of the new
    # look before it, none of the old after it (half a window frame either way: a frame
    # is shown when its time is within half a window frame)
    assert first[0] >= target - 1 / 60, "the new look was shown before the downbeat was heard"
    assert last_old <= target + 1 / 60, "the old look was still shown after the downbeat"
    assert first[0] - last_old <= 0.5, ("no frames around the downbeat", trace)
    # the performer saw it coming and the log says who asked
    assert any("next: loud in" in str(c) for c in cues), cues[:20]
    assert any("OSC /hambajuba/scene/loud: scene 'loud' on the next bar" in m[2]
               for m in app.messages), list(app.messages)[-5:]


def slow_window(app, frame_s=0.11):
    """The window at about 9 fps (a busy laptop): each frame takes frame_s."""
    tick = app.tick

    def slow():
        tick()
        time.sleep(frame_s)

    app.tick = slow


@pytest.mark.gui
def test_osc_taps_at_exact_times_read_their_tempo_with_the_window_at_9_fps(make_app, wav, tmp_path,
                                                                           monkeypatch):
    import threading

    from pythonosc.udp_client import SimpleUDPClient

    monkeypatch.setenv("HAMBAJUBA_CACHE", str(tmp_path / "cache"))
    app = make_app(engine=lambda: SceneEngine(render_s=0.01), track_path=wav(30.0),
                   osc="127.0.0.1:0", autoplay=True)
    assert step_until(app, lambda: app.transport.playing and app.output.frames_shown > 5, 60)
    slow_window(app)
    client = SimpleUDPClient("127.0.0.1", app.control.osc.port)

    def taps():
        # 0.625 s apart: 96.0 BPM, mid-way between two readings of the display's 0.1 BPM
        # (0.63 s gave 95.238, 0.012 BPM from reading 95.3: a CI run's taps, 0.3 ms late
        # at random on a loaded machine, read 95.25); stamped at a 9 fps frame instead of
        # at arrival, they would read several BPM off
        t0 = time.perf_counter() + 0.2
        for i in range(8):
            while time.perf_counter() < t0 + 0.625 * i:
                time.sleep(0.0005)
            client.send_message("/hambajuba/tap", [])

    sender = threading.Thread(target=taps)
    t_start = time.monotonic()
    sender.start()
    while sender.is_alive():
        app.step()
    app.step(3)
    fps = app.frames / max(time.monotonic() - t_start, 1e-3)
    s = app.control.session
    print(f"window {fps:.1f} fps; taps read {s.tempo.bpm:.2f} BPM")
    assert f"{s.tempo.bpm:.1f}" == "96.0", (s.tempo.bpm, list(s.tempo.taps))
    assert any("tap tempo: 96.0 BPM" in m[2] for m in app.messages)
    # the grid file is written once, after the tapping ends, not on every tap
    from graph_runtime.analysis.beat_grid_correction import correction_path

    path = correction_path(app.transport.path)
    import os

    assert not os.path.exists(path), "written while still tapping"
    step_until(app, lambda: os.path.exists(path), 10)
    assert os.path.exists(path)


def button(label):
    import dearpygui.dearpygui as dpg

    for item in dpg.get_all_items():
        if dpg.get_item_type(item).endswith("mvButton") and dpg.get_item_label(item) == label:
            return item
    raise AssertionError(f"no button {label!r}")


@pytest.mark.gui
def test_tempo_x2_applies_to_the_running_grid_at_once(make_app, wav, tmp_path, monkeypatch):
    import dearpygui.dearpygui as dpg

    monkeypatch.setenv("HAMBAJUBA_CACHE", str(tmp_path / "cache"))
    app = make_app(engine=lambda: SceneEngine(render_s=0.01), track_path=wav(30.0), autoplay=True)
    assert step_until(app, lambda: app.transport.playing and app.transport.time() > 3.2, 60)
    app.transport.pause()
    app.step(3)
    heard = app.transport.time()
    bar_before, _, bpm_before = app.transport.beat_at(heard)
    assert "120.0 BPM" in dpg.get_value(app.bar.tags["beat"])
    dpg.get_item_callback(button("tempo x2"))()  # what a click on the Control tab's button runs
    app.step(3)
    bar_after, _, bpm_after = app.transport.beat_at(heard)
    print(f"before: bar {bar_before} at {bpm_before:.1f} BPM; after: bar {bar_after} at {bpm_after:.1f}")
    assert abs(bpm_after - 240.0) < 2.0 and bar_after >= 2 * bar_before - 1
    assert "240.0 BPM" in dpg.get_value(app.bar.tags["beat"])
    assert app.control.session.grid.bpm == pytest.approx(bpm_after, rel=0.02)
    assert any("tempo x2" in m[2] and "playing now" in m[2] for m in app.messages)


def moving_patch(path) -> str:
    """A coupled oscillator (never settles, integrates dt) on the first sink; an LFO
    set to run while paused on the second."""
    p = Patch()
    p.add_node("physics.oscillator", {}, node_id="osc")
    p.add_node("math.map_range", {"in_lo": -2.0, "in_hi": 2.0, "out_lo": 0.0, "out_hi": 250.0},
               node_id="range")
    p.add_node("sae.block", {"block": "down.2.1", "feature_id": 7, "scale_by_mean": False},
               node_id="sink")
    p.add_node("time.lfo", {"rate": 0.7, "run_while_paused": True}, node_id="lfo")
    p.add_node("math.map_range", {"out_lo": 0.0, "out_hi": 250.0}, node_id="range2")
    p.add_node("sae.block", {"block": "mid.0", "feature_id": 9, "scale_by_mean": False},
               node_id="sink2")
    p.connect(("osc", "out"), ("range", "x"))
    p.connect(("range", "out"), ("sink", "strength"))
    p.connect(("lfo", "out"), ("range2", "x"))
    p.connect(("range2", "out"), ("sink2", "strength"))
    P.save(p, path)
    return str(path)


@pytest.mark.gui
def test_paused_the_picture_holds_except_what_runs_while_paused(make_app, wav, tmp_path):
    import dearpygui.dearpygui as dpg

    app = make_app(engine=lambda: SceneEngine(render_s=0.02), track_path=wav(20.0),
                   patch_path=moving_patch(tmp_path / "m.patch"), autoplay=True)
    assert step_until(app, lambda: app.transport.playing and app.transport.time() > 1.5, 60)
    seen = watch_frames(app)
    app.step(30)
    assert len({g for _, _, g, _ in seen}) > 3, "the oscillator should move while playing"
    dpg.get_item_callback(app.bar.tags["play"])()  # the Pause button
    # frames the engine was still rendering from before the pause arrive first (each
    # takes RENDER_S; on a loaded machine a few steps were not enough for them)
    settle = time.monotonic() + 0.5
    app.step(5)
    while time.monotonic() < settle:
        app.step()
    assert not app.transport.playing
    del seen[:]
    end = time.monotonic() + 3.0
    while time.monotonic() < end:
        app.step()
    greens, blues = {g for _, _, g, _ in seen}, {b for _, _, _, b in seen}
    print(f"paused: {len(seen)} frames shown, greens {sorted(greens)}, {len(blues)} blues")
    changes = [(k, seen[k - 1][2], g) for k, (_, _, g, _) in enumerate(seen) if k and g != seen[k - 1][2]]
    assert len(seen) >= 5 and len(greens) == 1, \
        f"the picture changed while paused: {sorted(greens)} (frame, from, to: {changes[:5]})"
    assert len(blues) > 3, "the LFO set to run while paused stood still"
    assert "paused: the picture holds (1 node runs while paused)" in dpg.get_value(app.bar.tags["beat"])


@pytest.mark.gui
def test_f11_shows_the_operator_line_never_in_the_output(make_app, wav, tmp_path):
    import dearpygui.dearpygui as dpg
    from gui_harness import xdo

    app = make_app(engine=lambda: SceneEngine(render_s=0.02), patch_path=scene_patch(tmp_path / "s.patch"),
                   track_path=wav(20.0), autoplay=True, record=str(tmp_path / "rec.mp4"))
    assert step_until(app, lambda: app.transport.playing and app.output.frames_shown > 5, 60)
    s = app.control.session
    s.store_scene("calm")
    app.model.set_params("sink", {"feature_id": 99, "strength": 200.0})
    s.store_scene("loud")
    s.recall("calm")
    vx, vy = dpg.get_viewport_pos()
    xdo(app, "mousemove", vx + 300, vy + 300)
    xdo(app, "key", "F11")
    assert app.output.performing
    s.recall("loud", "bar")
    watch_frames(app)
    frames = []
    spy = app.stage.fanout.publish
    app.stage.fanout.publish = lambda rgba, at, t: (frames.append(rgba.copy()), spy(rgba, at, t))[1]
    ov = app.stage.overlay
    lines, flashes = set(), set()
    end = time.monotonic() + 3.0
    while time.monotonic() < end:
        app.step()
        lines.add(dpg.get_value(ov.text))
        flashes.add(tuple(dpg.get_item_configuration(ov.dot)["color"]))
    text = " ".join(lines)
    print(sorted(lines)[-1])
    assert "BPM" in text and "engine local" in text and "REC 00:" in text, lines
    assert "next: loud in" in text and "scene loud" in text, lines
    assert len(flashes) == 2, "the beat light never flashed"
    # the operator's line is the window's, never the audience's: frames stay pure engine output
    assert frames and all(f[..., :3].reshape(-1, 3).std(axis=0).max() == 0 for f in frames[-20:])
    # the image sits below the strip; the model label is not over it
    img_y = dpg.get_item_pos(app.output.perform_image)[1]
    assert img_y >= 24 and dpg.get_item_pos(app.output.tags["perform_label"])[1] >= img_y + \
        dpg.get_item_configuration(app.output.perform_image)["height"]
    xdo(app, "key", "i")  # the line can go away
    assert not dpg.is_item_shown(ov.group)
    xdo(app, "key", "F11")
    assert not app.output.performing


def test_help_lists_every_performing_key():
    from hambajuba_nodes.editor.input import SHORTCUTS

    for key in ("F9", "Shift+F9", "F10", "F11", "1-9", "T ", "[ / ]", "Space", "I shows"):
        assert key in SHORTCUTS, key


@pytest.mark.gui
def test_the_stage_menus_mjpeg_server_moves_on_from_a_port_in_use(make_app):
    import socket

    import dearpygui.dearpygui as dpg

    app = make_app()
    app.step(3)
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    app.stage._served_at = f"127.0.0.1:{port}"  # where it served last (or --serve-output)
    try:
        dpg.get_item_callback(app.stage.items["serve"])()  # Stage > Serve output (MJPEG)
        assert app.stage.server is not None and app.stage.server.port != port
        app.step(16)
        assert str(app.stage.server.port) in dpg.get_item_label(app.stage.items["serve"])
        assert any(f":{app.stage.server.port}/stream.mjpg" in m[2] for m in app.messages)
    finally:
        busy.close()
        app.stage.stop_serving()

"""The character view in the real window (preview model, CPU): the composed
canvas is what the fan-out gets (output window, MJPEG, recording), the panel
shows it; F8 and the panel's checkbox switch views; playing grows his creature."""
from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
from gui_harness import step_until, xdo

pytestmark = pytest.mark.gui


class KeepSink:
    """A stage sink keeping the shape of what it got and one frame."""

    name = "test-keep"

    def __init__(self) -> None:
        self.shapes: list[tuple] = []
        self.last: np.ndarray | None = None
        self.lock = threading.Lock()

    def consume(self, rgba, shown_at, track_t, seq) -> None:
        with self.lock:
            self.shapes.append(rgba.shape)
            self.last = rgba.copy()


def _preview():
    from graph_runtime.render.loop import create_engine

    return create_engine("preview", 128, cpu_threads=1)


def test_character_view_in_the_window_and_the_fanout(make_app, wav, private_data_folder):
    import dearpygui.dearpygui as dpg

    from hambajuba_nodes.cli.common import default_patch

    app = make_app(patch_path=default_patch(), engine=_preview,
                   character={"view": "character", "skin": "candy"})
    sink = KeepSink()
    app.stage.fanout.add(sink)
    app.open_track(wav(8.0))
    assert step_until(app, lambda: app.transport.track is not None and app.worker is not None
                      and app.worker.ready, timeout=120)
    app.transport.play()
    assert step_until(app, lambda: len(sink.shapes) >= 3, timeout=60)
    with sink.lock:
        assert set(sink.shapes) == {(720, 1280, 4)}
        canvas = sink.last
    assert app.output.size == (360, 640)  # the panel: the same canvas at half size
    hy, hx, hs, _ = app.character.comp.layout.heart
    assert canvas[hy:hy + hs, hx:hx + hs, :3].std() > 10  # his heart: the engine's image
    body = app.character.skin.colors["body"]
    by, bx, bh, bw = app.character.comp.layout.body
    assert tuple(canvas[by + bh // 2, bx + 2 * app.character.comp.layout.margin, :3]) == body
    # F8: back to the image alone, everywhere
    xdo(app, "key", "F8")
    assert not app.character.on and not dpg.get_value(app.character.toggle_tag)
    n = len(sink.shapes)
    assert step_until(app, lambda: len(sink.shapes) >= n + 3, timeout=60)
    with sink.lock:
        assert sink.shapes[-1] == (128, 128, 4)
    assert app.output.size == (128, 128)
    app.character.toggle()  # the checkbox's callback: on again
    assert app.character.on and dpg.get_value(app.character.toggle_tag)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.0:
        app.step()
    app.close()
    creature = json.loads((private_data_folder / "creature.json").read_text())
    assert creature["minutes"] > 0 and len(creature["tracks"]) == 1  # he grew


def test_the_recording_is_what_is_shown(make_app, wav, tmp_path):
    import av

    from hambajuba_nodes.cli.common import default_patch

    show = tmp_path / "show.mp4"
    app = make_app(patch_path=default_patch(), engine=_preview, record=str(show),
                   character={"view": "character", "skin": "nightshift"})
    app.open_track(wav(8.0))
    assert step_until(app, lambda: app.transport.track is not None and app.worker is not None
                      and app.worker.ready, timeout=120)
    app.transport.play()
    assert step_until(app, lambda: app.output.frames_shown >= 5, timeout=60)
    assert app.stage.recorder.recording
    app.character.toggle()  # refused: a video keeps one frame size
    assert app.character.on and "while recording" in app.last_status()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.5:
        app.step()
    app.close()  # finalises the recording
    with av.open(str(show)) as f:
        v = f.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (1280, 720)
        for decoded in f.decode(video=0):  # the last (the first may be the black lead-in)
            frame = decoded.to_ndarray(format="rgb24")
    # nightshift's amber outline is in the recorded frame, where his body's edge is
    from graph_runtime.stage.character.layout import layout
    from graph_runtime.stage.character.skin import load_skin

    skin = load_skin("nightshift")
    by, bx, bh, bw = layout(1280, 720, skin.body_width, skin.corner_radius).body
    edge = frame[by + bh // 2, bx + 3].astype(int)
    assert np.abs(edge - np.array(skin.colors["body_edge"])).max() < 40

"""`render --view character` on the preview model: frames checked by their pixels.

One render of 3 s at 30 fps (a 120 BPM grid; the bass silent until 1.5 s,
then playing) through the same render() the CLI calls, keeping each composed
frame and each engine image."""
from __future__ import annotations

import json

import numpy as np
import pytest
from character_helpers import KeepingEngine, crop, groove, lit, write_tone

FPS = 30.0
SECONDS = 3.0


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, preview_engine, small_patch):
    from graph_runtime.render.loop import RenderRequest, render
    from graph_runtime.stage.character.creature import Creature
    from hambajuba_nodes.registry import default_registry

    tmp = tmp_path_factory.mktemp("render")
    creature = Creature(seed=7, born="test")
    creature.minutes, creature.tracks = 42.0, {"a": 1, "b": 2}
    creature_file = tmp / "creature.json"
    creature.save(str(creature_file))
    before = creature_file.read_bytes(), creature_file.stat().st_mtime_ns
    engine = KeepingEngine(preview_engine)
    frames: list[np.ndarray] = []
    req = RenderRequest(track=write_tone(tmp / "tone.wav", SECONDS), patch=small_patch,
                        frames_dir=str(tmp / "frames"), fps=FPS, view="character",
                        creature=str(creature_file))
    result = render(req, default_registry(), engine=engine,
                    analysis=groove(SECONDS, bass_from=1.5), progress=False,
                    on_image=lambda i, rgba: frames.append(rgba.copy()), say=lambda _l: None)
    sidecar = json.loads((tmp / "frames" / "render.json").read_text())
    return {"result": result, "frames": frames, "images": engine.images, "sidecar": sidecar,
            "creature_file": creature_file, "before": before, "creature": creature}


@pytest.fixture(scope="module")
def comp():
    """A compositor with the same skin and canvas: where the eyes, orbs and heart are."""
    from graph_runtime.stage.character.compositor import Compositor
    from graph_runtime.stage.character.skin import load_skin

    return Compositor(load_skin(None), 1280, 720)


def _frame_at(t: float) -> int:
    return int(round(t * FPS))


def test_frames_are_the_canvas_and_the_image_size_is_the_models(rendered):
    r = rendered["result"]
    assert r.frames == len(rendered["frames"]) == int(SECONDS * FPS)
    assert rendered["frames"][0].shape == (720, 1280, 4)
    assert r.image_size == (128, 128)  # --size keeps meaning the model's image
    side = rendered["sidecar"]
    assert side["view"] == "character" and side["canvas"] == [1280, 720]
    assert side["image_size"] == [128, 128]


def test_eyes_are_closed_on_beat_frames_and_open_between(rendered, comp):
    blinks = rendered["sidecar"]["character"]["blinks"]
    assert len(blinks) == 6  # 120 BPM over 3 s
    text = comp.skin.colors["text"]
    for t in blinks[1:]:
        beat = rendered["frames"][_frame_at(t)]
        between = rendered["frames"][_frame_at(t + 0.25)]  # half a beat later
        for eye in (0, 1):
            closed = lit(crop(beat, comp.eye_rect(eye)), text)
            opened = lit(crop(between, comp.eye_rect(eye)), text)
            assert opened > 30 and closed < 0.5 * opened, (t, eye, closed, opened)


def test_a_blink_lasts_about_80_ms(rendered, comp):
    text = comp.skin.colors["text"]
    t = rendered["sidecar"]["character"]["blinks"][2]
    counts = [lit(crop(rendered["frames"][_frame_at(t) + k], comp.eye_rect(0)), text)
              for k in range(5)]
    closed = [c < 0.5 * max(counts) for c in counts]
    assert closed == [True, True, True, False, False]  # 0, 33, 67 ms closed; 100 ms open


def test_an_orb_is_larger_when_its_stem_plays(rendered, comp):
    bass = comp.skin.stems["bass"]
    silent = lit(crop(rendered["frames"][_frame_at(1.4)], comp.layout.orbs[0]), bass)
    playing = lit(crop(rendered["frames"][_frame_at(2.9)], comp.layout.orbs[0]), bass)
    assert playing > 2 * silent > 0
    orbs = rendered["sidecar"]["character"]["orbs"]["bass"]
    assert max(orbs[:_frame_at(1.5)]) < 0.01 and orbs[-1] > 0.8


def test_the_heart_shows_the_engines_frame(rendered, comp):
    hy, hx, hs, _ = comp.layout.heart
    for i in (0, 45, 89):
        image = rendered["images"][i]
        rows = ((np.arange(hs) + 0.5) * image.shape[0] / hs).astype(int)
        cols = ((np.arange(hs) + 0.5) * image.shape[1] / hs).astype(int)
        heart = rendered["frames"][i][hy:hy + hs, hx:hx + hs]
        assert np.array_equal(heart, image[rows][:, cols])
        assert heart[..., :3].std() > 10  # an image, not the empty frame behind it


def test_render_reads_the_creature_and_never_writes_it(rendered):
    from graph_runtime.stage.character.creature import load

    f = rendered["creature_file"]
    assert (f.read_bytes(), f.stat().st_mtime_ns) == rendered["before"]
    snap, warning = load(str(f))
    assert warning is None
    assert rendered["sidecar"]["creature"]["sha256"] == snap.sha256()
    assert sorted(p.name for p in f.parent.iterdir()) == ["creature.json", "frames", "tone.wav"]


def test_a_render_from_start_equals_the_same_frames_from_the_top(tmp_path, preview_engine,
                                                                  small_patch):
    """The character's state (orb physics, where the beat grid is) is pre-rolled too."""
    from graph_runtime.render.loop import RenderRequest, render
    from hambajuba_nodes.registry import default_registry

    track = write_tone(tmp_path / "tone.wav", 2.0)
    analysis = groove(2.0, bass_from=0.6)
    runs = {}
    for name, start in (("top", 0.0), ("late", 1.0)):
        frames: list[np.ndarray] = []
        req = RenderRequest(track=track, patch=small_patch, frames_dir=str(tmp_path / name),
                            fps=10.0, start=start, view="character", canvas=(640, 360),
                            creature="fresh")
        render(req, default_registry(), engine=preview_engine, analysis=analysis,
               progress=False, on_image=lambda i, rgba, kept=frames: kept.append(rgba.copy()),
               say=lambda _l: None)
        runs[name] = (frames, json.loads((tmp_path / name / "render.json").read_text()))
    top, late = runs["top"], runs["late"]
    assert len(late[0]) == 10
    for i in range(10):
        diff = np.argwhere((top[0][10 + i] != late[0][i]).any(axis=-1))
        assert len(diff) == 0, (i, diff.min(axis=0), diff.max(axis=0), len(diff))
    assert late[1]["character"]["orbs"]["bass"] == top[1]["character"]["orbs"]["bass"][10:]
    assert late[1]["character"]["blinks"] == [t for t in top[1]["character"]["blinks"] if t >= 1]

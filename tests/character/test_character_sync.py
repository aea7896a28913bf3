"""Checkable sync on the eval cases (../shared/eval/cases): `render --view
character` (the render loop the CLI runs) on the null engine, then the sidecar's blinks against the
track's beat grid (F1 >= 0.95 within one frame) and each orb's curve against
its stem's energy channel (r >= 0.8).

Each case's analysis is its true beat grid and its true stems' energy
channels (character_helpers.case_analysis), so the figures measure the
character's sync, not a beat tracker's mistakes. The engine under the
character is the null engine (`--model null`): what the character does is
decided by the analysis and the clock, never by the picture, and the preview
model's 960 frames took 20 s (tests/character/test_character_render.py renders
the character over the preview model)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from character_helpers import EVAL, case_analysis, eval_cases

FPS = 30.0
SECONDS = 8.0
CASES = eval_cases()

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CASES, reason="../shared/eval/cases is not here")]


@pytest.fixture(scope="module")
def analyses():
    """case -> (analysis, truth), each analysed once for the module."""
    return {case: case_analysis(case) for case in CASES}


@pytest.fixture(scope="module")
def renders(tmp_path_factory, analyses, small_patch):
    from graph_runtime.engine.null_engine import NullEngine
    from graph_runtime.render.loop import RenderRequest, render
    from hambajuba_nodes.registry import default_registry

    engine = NullEngine(128)   # the preview's smallest size (conftest.ENGINE_SIZE)
    out = {}
    for case in CASES:
        analysis, truth = analyses[case]
        folder = tmp_path_factory.mktemp(case) / "frames"
        req = RenderRequest(track=str(EVAL / case / "mix.flac"), patch=small_patch,
                            frames_dir=str(folder), fps=FPS, seconds=SECONDS,
                            view="character", canvas=(640, 360), creature="fresh")
        render(req, default_registry(), engine=engine, analysis=analysis,
               progress=False, say=lambda _l: None)
        out[case] = (analysis, truth, json.loads((folder / "render.json").read_text()))
    return out


def test_blinks_line_up_with_the_beat_grid(renders):
    import mir_eval

    scores = {}
    for case, (analysis, truth, side) in renders.items():
        blinks = np.asarray(side["character"]["blinks"])
        beats = analysis.beats[analysis.beats < SECONDS - 0.5 / FPS]
        f1 = mir_eval.beat.f_measure(mir_eval.beat.trim_beats(beats, 0.0),
                                     mir_eval.beat.trim_beats(blinks, 0.0),
                                     f_measure_threshold=1.0 / FPS)
        scores[case] = f1
        # and against the eval case's own ground truth (the same grid here)
        assert np.allclose(beats, np.asarray(truth["beats"])[:len(beats)])
    assert min(scores.values()) >= 0.95, scores


def test_each_orb_follows_its_stems_energy(renders):
    rs = {}
    for case, (analysis, _truth, side) in renders.items():
        t = np.arange(len(side["character"]["orbs"]["bass"])) / FPS
        for stem, curve in side["character"]["orbs"].items():
            energy = np.interp(t, analysis.times, analysis.channel(f"{stem}/energy_smooth"))
            if energy.std() < 1e-3:  # a stem silent all through (nothing to follow)
                continue
            rs[f"{case}/{stem}"] = float(np.corrcoef(curve, energy)[0, 1])
    assert len(rs) >= 3 * len(renders)
    assert min(rs.values()) >= 0.8, rs


def test_every_bundled_skins_orb_physics_follows_the_stems(analyses):
    """The same check for each bundled skin's attack/release (the drive alone,
    over 20 s of each case: what the compositor draws and the sidecar logs)."""
    from graph_runtime.stage.character.drive import STEMS, CharacterDrive
    from graph_runtime.stage.character.skin import bundled_skins, load_skin

    for name in bundled_skins():
        skin = load_skin(name)
        rs = []
        for a, _truth in analyses.values():
            d = CharacterDrive(a, attack_ms=skin.attack_ms, release_ms=skin.release_ms)
            n = int(20 * FPS)
            curve = np.zeros((len(STEMS), n))
            for i in range(n):
                d.step(i / FPS, 1 / FPS)
                curve[:, i] = d.orbs
            t = np.arange(n) / FPS
            for k, stem in enumerate(STEMS):
                energy = np.interp(t, a.times, a.channel(f"{stem}/energy_smooth"))
                if energy.std() >= 1e-3:
                    rs.append(float(np.corrcoef(curve[k], energy)[0, 1]))
        assert min(rs) >= 0.8, (name, min(rs))

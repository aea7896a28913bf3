"""The window's grower (hambajuba_nodes/editor/character_view.py) without a
window: per frame it reads which stems are active and the local tempo from
the track's analysis, and the features the running plan steers."""
from __future__ import annotations

import types

import numpy as np
from character_helpers import groove


def test_playing_grows_stems_tempo_tracks_and_features(private_data):
    from graph_runtime.graph.frame import FrameParams
    from graph_runtime.stage.character.creature import load
    from hambajuba_nodes.editor.character_view import CharacterPanel

    analysis = groove(10.0)
    analysis.data["bass/activity"] = np.ones_like(analysis.times, dtype=np.float32)
    analysis.data["vocals/activity"] = np.zeros_like(analysis.times, dtype=np.float32)
    analysis.data["global/bpm_local"] = np.full_like(analysis.times, 120.0, dtype=np.float32)
    frame = FrameParams()
    frame.scene.feature_ids[1, 0] = 2960  # mid.0 slot 0
    frame.strength[1, 0] = 3.0
    said = []
    app = types.SimpleNamespace(
        transport=types.SimpleNamespace(analysis=analysis, path="/music/track.flac"),
        live=types.SimpleNamespace(plan=types.SimpleNamespace(frame=frame)),
        status=lambda level, text: said.append(text))
    panel = CharacterPanel(app, view="character", skin="candy")
    for i in range(300):  # 5 s at 60 window frames a second
        panel.tick(i / 60.0, True, 100.0 + i / 60.0)
    panel.close()
    c, warning = load()
    assert warning is None and not said
    assert c.tracks_played == 1
    assert abs(c.stem_seconds["bass"] - 5.0) < 0.05 and c.stem_seconds["vocals"] == 0.0
    assert (c.tempo_min, c.tempo_max) == (120.0, 120.0)
    assert c.top_features() == ["mid.0#2960"] and c.features["mid.0#2960"] > 4.0

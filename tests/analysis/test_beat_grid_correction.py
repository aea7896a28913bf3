"""The per-track grid correction: it round-trips, is atomic and bounded, and
wins over the analysis on reopen, from the API and from `hambajuba analyze`."""
from __future__ import annotations

import dataclasses
import json
import os

import beat_cases
import numpy as np
import pytest

from graph_runtime.analysis import AnalysisError, synthetic
from graph_runtime.analysis.beat_grid_correction import (
    GridCorrection,
    apply_correction,
    apply_saved,
    correction_path,
    load_correction,
    save_correction,
)
from hambajuba_nodes.cli import main


@pytest.fixture()
def track(tmp_path):
    path = tmp_path / "song.wav"
    path.write_bytes(b"RIFF not really audio, only hashed")
    return str(path)


def grid_analysis(duration=8.0, bpm=120.0, first=1):
    """A synthetic analysis whose bar starts on beat `first` (4/4)."""
    a = synthetic(duration, bpm=bpm)
    a.downbeats = a.beats[first::4]
    a.meta["beats_per_bar"] = 4
    return a


@pytest.mark.parametrize("bad", [dict(tempo_scale=3.0), dict(beats_per_bar=0),
                                 dict(beats_per_bar=17), dict(downbeat_shift=1.5),
                                 dict(phase_s=float("nan")), dict(phase_s=99.0),
                                 dict(downbeat_shift=True)])
def test_bad_values_are_refused_in_one_line(bad):
    with pytest.raises(ValueError) as e:
        GridCorrection(**bad)
    assert "\n" not in str(e.value) and str(e.value).startswith("grid correction:")


def test_round_trip_beside_the_cache(track, tmp_path):
    assert load_correction(track, folder=str(tmp_path)) == GridCorrection()   # none saved
    corr = GridCorrection(downbeat_shift=-2, tempo_scale=0.5, beats_per_bar=3, phase_s=0.012)
    path = save_correction(track, corr, folder=str(tmp_path))
    assert os.path.dirname(path) == str(tmp_path) and path.endswith(".grid.json")
    assert path == correction_path(track, folder=str(tmp_path))
    assert load_correction(track, folder=str(tmp_path)) == corr
    assert [p for p in os.listdir(tmp_path) if p.endswith(".partial")] == []
    # the default folder is the analysis cache's ($HAMBAJUBA_CACHE in these tests)
    default = save_correction(track, corr)
    assert os.path.dirname(default) == os.environ["HAMBAJUBA_CACHE"]
    # keyed by the audio's bytes: a copy under another name shares it
    copy = tmp_path / "renamed.wav"
    copy.write_bytes(open(track, "rb").read())
    assert load_correction(str(copy)) == corr


def test_a_damaged_file_is_named_kept_and_does_not_stop_the_analysis(track, tmp_path):
    path = save_correction(track, GridCorrection(downbeat_shift=1), folder=str(tmp_path))
    with open(path, "w") as f:
        f.write("{not json")
    with pytest.raises(AnalysisError) as e:
        load_correction(track, folder=str(tmp_path))
    assert path in str(e.value) and "\n" not in str(e.value)
    a = grid_analysis()
    out = apply_saved(track, a, folder=str(tmp_path))
    assert np.array_equal(out.downbeats, a.downbeats) and any(path in w for w in out.meta["warnings"])
    assert open(path).read() == "{not json"                      # nothing lost
    with open(path, "w") as f:
        json.dump({"format": "hambajuba.grid", "tempo_scale": 5}, f)
    with pytest.raises(AnalysisError):
        load_correction(track, folder=str(tmp_path))


def test_downbeat_shift_meter_and_nudge():
    a = grid_analysis(first=1)
    out = apply_correction(a, GridCorrection(downbeat_shift=1))
    assert np.allclose(out.downbeats, a.beats[2::4])
    assert np.allclose(a.downbeats, a.beats[1::4])               # the input is untouched
    out = apply_correction(a, GridCorrection(beats_per_bar=3, downbeat_shift=-1))
    assert np.allclose(out.downbeats, a.beats[0::3]) and out.meta["beats_per_bar"] == 3
    out = apply_correction(a, GridCorrection(phase_s=0.02))
    assert np.allclose(out.beats, a.beats + 0.02) and np.allclose(out.downbeats, a.downbeats + 0.02)
    # the grid channels follow: a pulse on each new downbeat, bar phase 0 there
    out = apply_correction(a, GridCorrection(downbeat_shift=2))
    pulses = np.flatnonzero(out.channel("global/downbeat")) / out.fps
    assert np.allclose(pulses, out.downbeats, atol=0.011)
    assert np.all(out.channel("global/downbeat_confidence") == 1.0)


def test_tempo_x2_and_half():
    a = grid_analysis(bpm=62.0, first=1)
    x2 = apply_correction(a, GridCorrection(tempo_scale=2.0))
    assert x2.bpm == pytest.approx(124.0) and len(x2.beats) == 2 * len(a.beats) - 1
    assert x2.downbeats[0] == pytest.approx(a.downbeats[0])     # the one stays where it was
    assert np.allclose(np.diff(x2.downbeats), 4 * 60.0 / 124.0)
    assert x2.channel("global/bpm_local")[100] == pytest.approx(124.0, rel=1e-3)
    half = apply_correction(grid_analysis(bpm=174.0, first=1), GridCorrection(tempo_scale=0.5))
    assert half.bpm == pytest.approx(87.0)
    assert np.min(np.abs(half.beats - half.downbeats[0])) < 1e-9   # keeps the downbeat's parity


def test_a_new_correction_replaces_the_old_one_instead_of_stacking():
    a = grid_analysis(first=1)
    once = apply_correction(a, GridCorrection(downbeat_shift=1, tempo_scale=2.0))
    again = apply_correction(once, GridCorrection(downbeat_shift=1))
    direct = apply_correction(a, GridCorrection(downbeat_shift=1))
    assert np.allclose(again.beats, direct.beats) and np.allclose(again.downbeats, direct.downbeats)
    back = apply_correction(once, GridCorrection())
    assert np.allclose(back.beats, a.beats) and np.allclose(back.downbeats, a.downbeats)
    assert back.bpm == pytest.approx(a.bpm)


# -- through the pipeline and the CLI ----------------------------------------------------------
@pytest.fixture(scope="module")
def song(tmp_path_factory):
    """A short syncopated groove (the grid's hard case), analysed once (cached)."""
    folder = beat_cases.write_case(str(tmp_path_factory.mktemp("grid-song")), "kick_1_3_pickup_118", 8.0)
    return os.path.join(folder, "mix.flac")


def run_cli(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_correction_wins_on_reopen(song, capsys):
    from graph_runtime.analysis import analyze
    code, out, _ = run_cli(capsys, "analyze", song, "--separator", "approx", "--json")
    assert code == 0
    first = json.loads(out)
    assert first["beats_per_bar"] == 4 and first["grid_correction"] is None
    assert {"bpm", "ratio", "score", "chosen"} <= set(first["tempo_candidates"][0])
    lo, hi = first["bpm_range"]
    assert lo <= first["bpm"] <= hi
    assert "global/downbeat_confidence" in first["channels"]
    beats_s = np.asarray(first["beats"])
    one = int(np.argmin(np.abs(beats_s - first["downbeats"][0])))

    code, out, _ = run_cli(capsys, "analyze", song, "--separator", "approx", "--json",
                           "--downbeat-shift", "1", "--beats-per-bar", "3")
    assert code == 0
    shifted = json.loads(out)
    assert shifted["cache"]["hit"] is True                      # the analysis was not redone
    assert shifted["beats_per_bar"] == 3
    assert shifted["downbeats"] == pytest.approx(list(beats_s[(one + 1) % 3::3]), abs=1e-3)
    # reopened through the API the window uses: the saved correction wins
    a = analyze(song, separator="approx")
    assert a.meta["grid_correction"]["downbeat_shift"] == 1
    assert np.allclose(a.downbeats, beats_s[(one + 1) % 3::3], atol=1e-3)
    # the flags given later keep the other saved fields
    code, out, _ = run_cli(capsys, "analyze", song, "--separator", "approx", "--json", "--tempo-x2")
    doubled = json.loads(out)
    assert doubled["bpm"] == pytest.approx(2 * first["bpm"], rel=0.02)
    assert [c["ratio"] for c in doubled["tempo_candidates"] if c["chosen"]] == ["x2"]
    assert doubled["grid_correction"] == {"downbeat_shift": 1, "tempo_scale": 2.0,
                                          "beats_per_bar": 3, "phase_s": 0.0}
    code, out, _ = run_cli(capsys, "analyze", song, "--separator", "approx", "--json", "--grid-reset")
    assert json.loads(out)["downbeats"] == pytest.approx(first["downbeats"])


@pytest.mark.parametrize("flags", [["--beats-per-bar", "0"], ["--beats-per-bar", "x"],
                                   ["--downbeat-shift", "1000"], ["--tempo-x2", "--tempo-half"]])
def test_bad_flags_exit_2_in_one_line(song, capsys, flags):
    with pytest.raises(SystemExit) as e:
        main(["analyze", song, *flags])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and "error" in err[-1]


def test_a_correction_for_a_missing_track_exits_2(tmp_path, capsys):
    code, _, err = run_cli(capsys, "analyze", str(tmp_path / "nope.wav"), "--downbeat-shift", "1")
    assert code == 2 and "nope.wav" in err and len(err.strip().splitlines()) == 1


def test_replace_keeps_it_a_correction():
    corr = dataclasses.replace(GridCorrection(), tempo_scale=2.0)
    assert corr.tempo_scale == 2.0 and not corr.is_identity
    with pytest.raises(ValueError):
        dataclasses.replace(corr, tempo_scale=0.25)

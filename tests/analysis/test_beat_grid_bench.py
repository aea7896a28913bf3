"""`hambajuba bench beats DIR`: the per-case table and the JSON keys, on two short cases."""
from __future__ import annotations

import json

import beat_cases
import pytest

from hambajuba_nodes.cli import main


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench-cases")
    for name in ("waltz_3_4_150", "syncopated_124"):
        beat_cases.write_case(str(folder), name, 12.0)
    (folder / "not-a-case").mkdir()
    return folder


def test_table_names_every_case_and_the_means(cases, capsys):
    assert main(["bench", "beats", str(cases)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["case", "beat", "F1"]
    rows = {line.split()[0]: line.split() for line in out[1:]}
    assert set(rows) == {"syncopated_124", "waltz_3_4_150", "mean"}
    assert rows["waltz_3_4_150"][6] == "3/3"                     # found meter / true meter
    assert float(rows["syncopated_124"][1]) >= 0.9               # beat F1 at the quarter level
    summary = out[-1]
    assert "lock median" in summary and "tempo error max" in summary


def test_json_keys(cases, capsys):
    assert main(["bench", "beats", str(cases), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"beat_f1", "downbeat_f1", "lock_s", "off_beat_s", "sets", "cases"} <= set(doc)
    assert [m["set"] for m in doc["sets"]] == [cases.name]
    assert [c["case"] for c in doc["cases"]] == ["syncopated_124", "waltz_3_4_150"]
    for c in doc["cases"]:
        assert {"beat_f1", "downbeat_f1", "bpm", "true_bpm", "bpm_error", "beats_per_bar",
                "true_beats_per_bar", "bpm_range", "lock_s", "off_beat_s"} <= set(c)
        assert 0.0 <= c["beat_f1"] <= 1.0 and 0.0 <= c["downbeat_f1"] <= 1.0
    assert doc["beat_f1"] == pytest.approx(sum(c["beat_f1"] for c in doc["cases"]) / 2, abs=1e-4)
    assert doc["downbeat_f1"] >= 0.8
    locks = sorted(c["lock_s"] for c in doc["cases"] if c["lock_s"] is not None)
    assert doc["lock_median_s"] == pytest.approx(sum(locks) / 2 if len(locks) == 2 else locks[0], abs=0.01)
    assert doc["max_bpm_error"] == max(c["bpm_error"] for c in doc["cases"])


def test_one_case_folder_and_bad_input(cases, tmp_path, capsys):
    assert main(["bench", "beats", str(cases / "waltz_3_4_150"), "--json"]) == 0
    assert [c["case"] for c in json.loads(capsys.readouterr().out)["cases"]] == ["waltz_3_4_150"]
    assert main(["bench", "beats", str(tmp_path / "missing")]) == 2
    assert "missing" in capsys.readouterr().err
    assert main(["bench", "beats", str(tmp_path)]) == 2          # a folder without cases
    err = capsys.readouterr().err.strip()
    assert "no cases" in err and len(err.splitlines()) == 1
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "mix.flac").write_bytes((cases / "waltz_3_4_150" / "mix.flac").read_bytes())
    (bad / "truth.json").write_text("{\"beats\": 3}")
    assert main(["bench", "beats", str(bad)]) == 2
    assert "truth.json" in capsys.readouterr().err


def test_lead_in_plays_each_case_later_and_scores_it_on_its_own_clock(cases, capsys):
    """--lead-in: the case after that much silence or hiss; live, 6 s of -60 dBFS noise
    is an input opened before the music, which the tracker now takes as a new start:
    the same scores as the case alone (before, the noise was tracked and its clock kept)."""
    one = str(cases / "waltz_3_4_150")
    assert main(["bench", "beats", one, "--live", "--json"]) == 0
    alone = json.loads(capsys.readouterr().out)["cases"][0]
    assert main(["bench", "beats", one, "--live", "--json", "--lead-in", "6", "--noise-dbfs", "-60"]) == 0
    doc = json.loads(capsys.readouterr().out)
    late = doc["cases"][0]
    assert doc["lead_in_s"] == 6.0 and doc["noise_dbfs"] == -60.0
    assert late["beat_f1"] == alone["beat_f1"] and late["lock_s"] == alone["lock_s"]
    assert main(["bench", "beats", one, "--json", "--lead-in", "1.5"]) == 0      # offline too
    assert json.loads(capsys.readouterr().out)["cases"][0]["beat_f1"] >= 0.9
    assert main(["bench", "beats", one, "--noise-dbfs", "-60"]) == 2
    assert "--lead-in" in capsys.readouterr().err


def test_cut_in_plays_each_case_straight_after_the_one_before(tmp_path, capsys):
    """--cut-in S: each case after the first S s of the set's case before it, no silence
    (a DJ's cut). Live, no_drums_96 cut in after halftime_140 now gets a new tracker
    (live/song_change.py; before, beat F1 0.68-0.73 from its 5th s). halftime_140 after
    no_drums_96 is still missed (0.26: docs/live-analysis.md, fifteenth pass)."""
    for name in ("halftime_140", "no_drums_96"):
        beat_cases.write_case(str(tmp_path), name, 20.0)
    assert main(["bench", "beats", str(tmp_path), "--live", "--json", "--cut-in", "12"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["cut_in_s"] == 12.0
    cut = {c["case"]: c for c in doc["cases"]}
    assert set(cut) == {"halftime_140", "no_drums_96"}
    assert cut["no_drums_96"]["beat_f1"] >= 0.9 and cut["no_drums_96"]["bpm_error"] <= 0.02
    assert main(["bench", "beats", str(tmp_path), "--cut-in", "12", "--lead-in", "1"]) == 2
    assert "--cut-in" in capsys.readouterr().err

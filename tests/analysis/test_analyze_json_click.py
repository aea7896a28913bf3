"""`analyze --json` / `analyze --live --json` print one JSON document with top-level,
strictly increasing beats and downbeats and nothing after it; `--click OUT.wav` writes
the music with a click on every beat, louder on the downbeats."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from analysis_helpers import click_track, tone, write


def run_cli(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "hambajuba_nodes.cli", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    y, _ = click_track(120.0, 10.0, sr=44100)
    y = y + tone(110.0, 10.0, sr=44100, amp=0.1)
    return write(tmp_path_factory.mktemp("click") / "song.wav", y, 44100)


@pytest.mark.parametrize("live", [False, True], ids=["offline", "live"])
def test_json_then_nothing_and_a_click_track(song, tmp_path, live):
    out = tmp_path / "click.wav"
    r = run_cli("analyze", song, "--separator", "approx", "--json", "--click", str(out),
                *(["--live"] if live else []))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)                   # the whole of stdout: nothing after the JSON
    beats, downs = np.array(doc["beats"]), np.array(doc["downbeats"])
    assert len(beats) >= 8 and np.all(np.diff(beats) > 0) and np.all(np.diff(downs) > 0)
    assert len(downs) >= 2
    clicked, sr = sf.read(str(out), always_2d=True)
    music, msr = sf.read(song, always_2d=True)
    assert sr == msr and clicked.shape[0] == music.shape[0]
    residue = clicked[:, 0] - 0.6 * music[:, 0]          # the clicks alone (16-bit rounding aside)
    at = lambda t: float(np.abs(residue[int(t * sr):int(t * sr) + int(0.01 * sr)]).max())  # noqa: E731
    plain = [at(b) for b in beats if np.min(np.abs(downs - b)) > 1e-3]
    accented = [at(d) for d in downs]
    assert min(plain) > 0.2 and min(accented) > max(plain) + 0.1
    between = [at(b + 0.2) for b in beats[:-1]]           # nothing clicks between beats
    assert max(between) < 0.05

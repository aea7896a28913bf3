"""The fault battery, processes: kill -9 of the analysis worker mid-show.
The window's Transport keeps playing the track it has, says why the new one
did not open, and the next open works. (kill -9 of the output window's child:
tests/stage/test_stage_window.py; of `serve`: tests/remote/test_resilience.py.)"""
from __future__ import annotations

import os
import signal
import time

import numpy as np
import soundfile as sf

from graph_runtime.media.playback import NullOutput
from graph_runtime.show import analysis_worker
from hambajuba_nodes.editor.transport import Transport


def _track(path, seconds=3.0) -> str:
    sr = 22050
    t = np.arange(int(seconds * sr)) / sr
    y = (0.3 * np.sin(2 * np.pi * 110 * t)).astype(np.float32)
    sf.write(path, np.stack([y, y], 1), sr)
    return str(path)


def _poll(tr: Transport, timeout=180.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = tr.poll()
        if got is not None:
            return got
        time.sleep(0.02)
    raise AssertionError("the open never finished")


def test_kill_9_of_the_analysis_worker_mid_show(tmp_path, monkeypatch):
    monkeypatch.setenv("HAMBAJUBA_CACHE", str(tmp_path / "cache"))
    tr = Transport(NullOutput(), analyze=analysis_worker.analyze_in_background)
    tr.open(_track(tmp_path / "first.wav"))
    assert _poll(tr)[0] in ("info", "warn")            # a track is in and plays
    tr.play()
    analysis_worker.LAST_CHILD.clear()
    tr.open(_track(tmp_path / "second.wav", 4.0))
    end = time.monotonic() + 120
    while "pid" not in analysis_worker.LAST_CHILD and time.monotonic() < end:
        time.sleep(0.01)
    os.kill(analysis_worker.LAST_CHILD["pid"], signal.SIGKILL)
    level, text = _poll(tr)
    assert level == "error" and "analysis failed" in text and "exit -9" in text
    assert "still playing first.wav" in text            # nothing lost: the show goes on
    assert tr.path.endswith("first.wav") and tr.analysis is not None and tr.playing
    tr.open(str(tmp_path / "second.wav"))               # and the next try works
    assert _poll(tr)[0] in ("info", "warn") and tr.path.endswith("second.wav")

"""The stage in the real window (Dear PyGui under Xvfb, its own process):
the App's fan-out feeds the output window, the MJPEG server and the recorder."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import av
import numpy as np
import pytest
import soundfile as sf
from children import child_env
from gui_harness import VIEWPORT_TRIES, _viewport_never_opened, run_window_command, viewport_retry_pause

HERE = os.path.dirname(os.path.abspath(__file__))


def tone(tmp_path, sr=44100):
    t = np.arange(int(sr * 20)) / sr
    y = (0.3 * np.sin(2 * np.pi * 220 * t) * np.exp(-((t * 2) % 1) * 6)).astype(np.float32)
    track = tmp_path / "tone.wav"
    sf.write(track, np.stack([y, y], 1), sr)
    return track


@pytest.mark.gui
def test_window_output_window_mjpeg_and_recording(display, tmp_path):
    sr = 44100
    track = tone(tmp_path, sr)
    mons = [{"name": "laptop", "x": 0, "y": 0, "width": 1280, "height": 800},
            {"name": "projector", "x": 1280, "y": 0, "width": 1920, "height": 1080}]
    r = run_window_command([sys.executable, os.path.join(HERE, "stage_app_show.py"), str(track),
                            str(tmp_path)], capture_output=True, text=True, timeout=300,
                           env=child_env(HAMBAJUBA_MONITORS=json.dumps(mons),
                                         XDG_DATA_HOME=str(tmp_path / "data")))
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("FOUND ")]
    assert r.returncode == 0 and lines, (r.stdout + r.stderr)[-4000:]
    f = json.loads(lines[0][6:])

    def check(ok, why=""):
        assert ok, f"{why} in {f}"

    check(f["playing"] and f["recording"])
    check(f["second_record"].startswith("already recording to"))
    check(f["mjpeg_frames"] >= 10 and min(f["mjpeg_psnr"]) >= 35.0, "MJPEG PSNR")
    check(f["window_diff"] <= 4.0, "output window vs editor")
    check(f["noticed_death"], "kill -9 not noticed")
    check(f["came_back"] and f["recovery_logged"] and f["error_cleared"], "no automatic recovery")
    check(f["frames_after_kill"] >= 5, "the show stopped after the kill")
    check(f["reopened"] and f["window_diff_after_reopen"] <= 4.0, "reopen")
    if "skipped" not in f["keys"]:  # F9 and F10 reach the editor while the output window is up
        check(f["keys"] == {"f9_closed": True, "f9_opened": True, "f10_stopping": True}, "keys")
    check(f["record_news"][0] == "info", "recording")
    check(f["monitor_menu"] == ["window (no monitor)", "0: laptop 1280x800 at 0,0",
                                "1: projector 1920x1080 at 1280,0", "list monitors"], "monitor menu")
    side = json.loads(open(os.path.splitext(f["record_path"])[0] + ".json").read())
    check(side["track"] == str(track) and side["model"].startswith("stage test engine"), side)
    check(len(side["patch_sha256"]) == 64 and side["finished"], side)
    if f["scene"] != "no control session":  # a recall through the control session is noted
        check(f["scene"] == "recalled" and [e["name"] for e in side["events"]] == ["intro"], side)
    with av.open(f["record_path"]) as c:  # frames on the show clock: the last one's end
        video = max(fr.time + float(fr.duration * fr.time_base) for fr in c.decode(video=0))
    with av.open(f["record_path"]) as c:
        audio = sum(fr.samples for fr in c.decode(audio=0)) / c.streams.audio[0].rate
    assert video > 1.0 and abs(audio - video) <= 1 / 30 + 1024 / sr, (video, audio)


@pytest.mark.gui
def test_ctrl_c_finalises_the_recording(display, tmp_path):
    track = tone(tmp_path)
    for attempt in range(VIEWPORT_TRIES):
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, "stage_app_show.py"), str(track),
                                 str(tmp_path), "ctrlc"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=child_env(XDG_DATA_HOME=str(tmp_path / "data")),
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        head = []
        for line in proc.stdout:
            head.append(line)
            if line.startswith("READY"):
                break
        else:   # it ended before its show began: the window never opened, as the harness reruns
            proc.wait(60)
            if _viewport_never_opened(subprocess.CompletedProcess(proc.args, proc.returncode, "".join(head), "")):
                viewport_retry_pause(attempt)
                continue
        break
    try:
        time.sleep(2.0)  # a couple of seconds of show
        proc.send_signal(signal.SIGINT)
        rest = "".join(head) + proc.communicate(timeout=120)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0 and "KeyboardInterrupt" in rest, rest[-3000:]
    side = json.loads((tmp_path / "ctrlc.json").read_text())
    assert side.get("finished") is True, rest[-3000:]
    with av.open(str(tmp_path / "ctrlc.mp4")) as c:
        frames = sum(1 for _ in c.decode(video=0))  # strict: a finished file, no torn tail
    assert abs(frames - side["frames"]) <= 1 and side["duration_s"] >= 1.0

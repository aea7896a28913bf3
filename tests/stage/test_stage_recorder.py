"""Recording the live show: frames as shown, audio as heard, files that survive."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import av
import numpy as np
import pytest
from children import child_env
from stage_show import SR, noise_track, play

from graph_runtime.media.playback import NullOutput
from graph_runtime.stage.fanout import FrameFanout
from graph_runtime.stage.recorder import LiveRecorder

HERE = os.path.dirname(os.path.abspath(__file__))
FPS = 30


def decode(path, tolerant=False):
    """Video frames (rgb24) and audio (ch, n). tolerant: skip a packet torn by
    a kill mid-write, as players do (the recorder trims such a tail itself
    when it is alive to see the failure)."""
    def frames(c, stream):
        for packet in c.demux(stream):
            try:
                yield from packet.decode()
            except av.error.InvalidDataError:
                if not tolerant:
                    raise

    with av.open(path) as c:
        video = [f.to_ndarray(format="rgb24") for f in frames(c, c.streams.video[0])]
    with av.open(path) as c:
        rate = c.streams.audio[0].rate
        audio = np.concatenate([f.to_ndarray() for f in frames(c, c.streams.audio[0])], axis=1)
    return video, audio, rate


def video_times(path):
    """(start s, frame rgb24) of each video frame: frames are timed on the show clock
    (a frame lasts until the next; a busy machine records fewer, longer frames)."""
    with av.open(path) as c:
        return [(float(f.time), f.to_ndarray(format="rgb24")) for f in c.decode(video=0)]


def frame_at(timed, t):
    """The frame on screen at recording time t."""
    return [f for start, f in timed if start <= t + 1e-6][-1]


def best_lag(rec: np.ndarray, track: np.ndarray, guess: int, search: int) -> tuple[int, float]:
    """(offset into track, correlation) of the track slice that best matches `rec`."""
    best = (0, -1.0)
    for off in range(guess - search, guess + search + 1, 1):
        seg = track[off:off + len(rec)]
        c = float(np.dot(rec, seg) / (np.linalg.norm(rec) * np.linalg.norm(seg) + 1e-12))
        if c > best[1]:
            best = (off, c)
    return best


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """5 s of live playback with a seek to 12 s in the middle, as App drives the stage."""
    folder = tmp_path_factory.mktemp("rec")
    out = NullOutput()
    out.load(noise_track())
    out.play()
    fan, rec = FrameFanout(), LiveRecorder(fps=FPS)
    fan.add(rec)
    assert rec.start(str(folder / "show.mp4"), track_of=lambda: out.track,
                     meta={"patch_sha256": "ab" * 32, "track": "noise.wav"}) is None
    second = rec.start(str(folder / "again.mp4"), track_of=lambda: out.track)
    rec.note("scene", name="drop")
    seek_at = play(fan, out, 5.0, seek=(2.5, 12.0))
    rec.stop(wait=True)
    news = rec.poll()
    fan.close()
    return {"path": rec.path, "w0": rec._w0, "seek_at": seek_at, "second": second, "news": news,
            "folder": folder}


def test_five_seconds_of_video_and_matching_audio(recording):
    _, audio, rate = decode(recording["path"])
    video_end, audio_end = _ends(recording["path"])
    assert abs(video_end - 5.0) <= 2.0 / FPS  # stopped 5 s in
    assert rate == SR and audio.shape[0] == 2
    assert abs(audio.shape[1] / rate - video_end) <= 1.0 / FPS
    assert recording["news"][0] == "info" and "recorded" in recording["news"][1]


def test_the_audio_is_the_track_as_heard_including_the_seek(recording):
    _, audio, rate = decode(recording["path"])
    track = noise_track().samples[:, 0]
    mono = audio[0]
    seek_rec = recording["seek_at"] - recording["w0"]  # recording time of the seek, s
    frame = SR // FPS
    # before the seek: recording time 0.5 s is track time 0.5 s
    off, corr = best_lag(mono[int(0.5 * SR):int(1.5 * SR)], track, int(0.5 * SR), 2 * frame)
    assert corr > 0.8 and abs(off - 0.5 * SR) <= frame
    # after it: recording time seek + 0.3 s is track time 12.3 s
    start = int((seek_rec + 0.3) * SR)
    off, corr = best_lag(mono[start:start + SR], track, int(12.3 * SR), 2 * frame)
    assert corr > 0.8, f"no match for the seek target (corr {corr:.2f})"
    assert abs(off - 12.3 * SR) <= frame, f"off by {(off - 12.3 * SR) / SR * 1000:.0f} ms"


def test_the_video_shows_the_frames_that_were_shown(recording):
    timed = video_times(recording["path"])

    def red(t):  # the heard time % 10 the frame on screen at recording time t was made for
        return frame_at(timed, t)[40:56, 40:56, 0].mean() / 255.0 * 10.0

    seek_t = recording["seek_at"] - recording["w0"]
    assert abs(red(1.0) - 1.0) < 0.15  # 1 s in: the frame made for 1 s
    assert abs(red(seek_t + 0.5) - 2.5) < 0.15  # 0.5 s after the seek to 12 s: 12.5 % 10


def test_sidecar_records_patch_seek_scene_and_second_record_is_refused(recording):
    assert recording["second"].startswith("already recording to")
    side = json.loads(open(os.path.splitext(recording["path"])[0] + ".json").read())
    assert side["patch_sha256"] == "ab" * 32 and side["track"] == "noise.wav"
    assert side["finished"] and abs(side["duration_s"] - 5.0) <= 2.0 / FPS and side["frames"] >= 1
    assert [e["name"] for e in side["events"] if e["kind"] == "scene"] == ["drop"]
    assert len(side["seeks"]) == 1 and abs(side["seeks"][0]["to"] - 12.0) < 0.05
    assert not os.path.exists(recording["folder"] / "again.mp4")


def test_bad_paths_are_refused_with_a_line_and_never_overwrite(tmp_path):
    rec = LiveRecorder()
    assert "does not exist" in rec.start(str(tmp_path / "nope" / "a.mp4"))
    assert "ending in .mp4" in rec.start(str(tmp_path / "a.avi"))
    (tmp_path / "d.mp4").mkdir()
    assert "is a folder" in rec.start(str(tmp_path / "d.mp4"))
    assert not rec.recording
    (tmp_path / "keep.mp4").write_bytes(b"precious")
    assert rec.start(str(tmp_path / "keep.mp4")) is None
    rec.stop(wait=True)
    assert (tmp_path / "keep.mp4").read_bytes() == b"precious"
    assert rec.path.endswith("keep-2.mp4")
    assert rec.poll() == ("warn", f"keep.mp4 exists: recording to {rec.path}")
    assert rec.poll() == ("error", f"recording: no frame was shown, nothing written to {rec.path}")


def _run_show(how, path):
    env = child_env(HERE)
    return subprocess.run([sys.executable, os.path.join(HERE, "stage_show.py"), how, str(path)],
                          capture_output=True, text=True, timeout=120, env=env)


def test_a_recording_killed_with_sigkill_still_plays(tmp_path):
    path = tmp_path / "killed.mp4"
    r = _run_show("kill", path)
    assert r.returncode == -9, r.stdout + r.stderr
    video, audio, rate = decode(str(path), tolerant=True)
    video_end, _ = _ends(str(path))
    assert video and video_end >= 2.0  # 3 s were recorded: all but the last fragment at most
    assert audio.shape[1] / rate >= 2.0
    assert json.loads((tmp_path / "killed.json").read_text())["fps"] == 30


def test_a_full_disk_stops_the_recording_not_the_show(tmp_path):
    path = tmp_path / "full.mp4"
    r = _run_show("fsize", path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "recording: False" in r.stdout
    assert "recording stopped: file too large" in r.stdout
    shown_after = int(r.stdout.split("frames shown after the message:")[1].split()[0])
    assert shown_after > 10  # the show went on
    video, _, _ = decode(str(path))
    assert len(video) >= 1


def _ends(path):
    """(video end, audio end) in seconds: the last packet's time plus its duration,
    as a player reads the file (a torn last fragment is not read)."""
    ends = {"video": 0.0, "audio": 0.0}
    with av.open(path) as c:
        for p in c.demux():
            if p.pts is not None:
                end = float((p.pts + (p.duration or 0)) * p.time_base)
                ends[p.stream.type] = max(ends[p.stream.type], end)
    return ends["video"], ends["audio"]


def _burn(seconds):
    """A CPU burner in its own process (the machine is busy while the show records)."""
    return subprocess.Popen([sys.executable, "-c",
                             f"import time\nt=time.time()\nwhile time.time()-t<{seconds}: pass"])


def test_killed_under_cpu_load_the_file_plays_to_the_kill_with_av_together(tmp_path):
    """kill -9 with every core busy: a crashed show keeps its recording. The file at
    the --record path plays to within 1 s of the kill, audio and video end within one
    frame of each other, and the recorder was never far behind the show."""
    burners = [_burn(20) for _ in range(os.cpu_count() or 2)]
    try:
        path = tmp_path / "busy.mp4"
        r = _run_show("busy", path)
    finally:
        for b in burners:
            b.kill()
            b.wait()
    assert r.returncode == -9, r.stdout + r.stderr
    words = r.stdout.split()
    kill_t, behind = float(words[words.index("at") + 1]), float(words[words.index("max") + 1])
    video_end, audio_end = _ends(str(path))
    print(f"kill at {kill_t:.2f} s: video ends {video_end:.3f}, audio {audio_end:.3f}, "
          f"lag max {behind:.3f} s ({r.stdout.strip()})")
    assert abs(video_end - audio_end) <= 1.0 / FPS + 1e-3, (video_end, audio_end)
    assert kill_t - min(video_end, audio_end) <= 1.0, (kill_t, video_end, audio_end)
    assert behind < 2.0, r.stdout  # bounded (the figure goes in `bench stage`)
    side = json.loads((tmp_path / "busy.json").read_text())  # kept up to date as the show went
    assert side["fps"] == 30 and side["track"] == "noise.wav" and side["model"] == "preview"
    assert [e["name"] for e in side["events"]] == ["drop"]


def test_a_stop_under_cpu_load_finishes_within_two_seconds(tmp_path):
    burners = [_burn(20) for _ in range(os.cpu_count() or 2)]
    try:
        path = tmp_path / "stop.mp4"
        r = _run_show("busystop", path)
    finally:
        for b in burners:
            b.kill()
            b.wait()
    assert r.returncode == 0, r.stdout + r.stderr
    words = r.stdout.split()
    stop_t, took = float(words[words.index("at") + 1]), float(words[words.index("in") + 1])
    print(r.stdout)
    assert took <= 2.0, r.stdout
    video_end, audio_end = _ends(str(path))
    assert abs(video_end - audio_end) <= 1.0 / FPS + 1e-3, (video_end, audio_end)
    assert abs(video_end - stop_t) <= 2.0 / FPS, (video_end, stop_t)  # cut where Stop was pressed
    side = json.loads((tmp_path / "stop.json").read_text())
    assert side["finished"] and abs(side["duration_s"] - video_end) <= 1.0 / FPS

"""The render pipeline on a stand-in engine (fast, no torch): frame-exactness,
the MP4's streams, the audio segment, JPEG frames, the sidecar, encoder
errors, and Ctrl-C from a progress hook."""
from __future__ import annotations

import json
import os

import av
import numpy as np
import pytest
from render_helpers import StandInEngine, decoded_frames, frames_hash, write_tone

from graph_runtime.render.loop import render
from graph_runtime.render.request import RenderError, RenderInterrupted, RenderRequest
from graph_runtime.render.sidecar import sha256_file

FPS = 15


def _render(registry, track, patch_file, out, analysis, **kw):
    engine = kw.pop("engine", None) or StandInEngine(64)
    req = RenderRequest(track=track, patch=patch_file, out=str(out), fps=kw.pop("fps", FPS), **kw)
    return render(req, registry, engine=engine, analysis=analysis, progress=False,
                  say=lambda _l: None)


def _leftovers(folder) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.startswith("."))


def test_rendering_twice_gives_identical_frames(registry, track, patch_file, analysis, tmp_path):
    a = _render(registry, track, patch_file, tmp_path / "a.mp4", analysis, seconds=2.0)
    b = _render(registry, track, patch_file, tmp_path / "b.mp4", analysis, seconds=2.0)
    fa, _, _ = decoded_frames(a.path)
    fb, _, _ = decoded_frames(b.path)
    assert len(fa) == len(fb) == 30
    assert frames_hash(fa) == frames_hash(fb)
    # the frames move with the patch (an LFO), so equality above is not trivial
    assert len({f.tobytes() for f in fa}) > 10


def test_mp4_streams_match_the_request(registry, track, patch_file, analysis, tmp_path):
    r = _render(registry, track, patch_file, tmp_path / "o.mp4", analysis, start=0.5, seconds=2.0)
    frames, v, a = decoded_frames(r.path)
    assert r.frames == len(frames) == 30 and not r.interrupted
    assert v["codec"] == "h264" and v["pix_fmt"] == "yuv420p"
    assert v["rate"] == FPS and v["frames"] == 30
    assert v["duration"] == pytest.approx(2.0, abs=1e-6)
    assert (v["width"], v["height"]) == (64, 64)
    assert a is not None and a["codec"] == "aac" and a["rate"] == 44100
    assert a["duration"] == pytest.approx(2.0, abs=1024 / 44100)
    assert a["decoded_samples"] >= 2.0 * 44100
    assert _leftovers(tmp_path) == []


def test_audio_is_the_segment_of_the_track(registry, patch_file, analysis, tmp_path):
    """Silence, then a tone from 2.0 s: a render from 1.5 s (on the 15 fps grid:
    frame 22 = 1.4667 s) hears it 0.5333 s in."""
    import soundfile as sf

    rate = 44100
    t = np.arange(4 * rate) / rate
    x = np.where(t >= 2.0, 0.5 * np.sin(2 * np.pi * 440 * t), 0.0)
    sf.write(tmp_path / "step.wav", np.stack([x, x], 1), rate, subtype="PCM_16")
    r = _render(registry, str(tmp_path / "step.wav"), patch_file, tmp_path / "o.mp4", analysis,
                start=1.5, seconds=1.0)
    assert r.start == pytest.approx(22 / FPS)
    with av.open(r.path) as c:
        pcm = np.concatenate([f.to_ndarray()[0] for f in c.decode(audio=0)])
    env = np.abs(pcm)
    onset = np.argmax(env > 0.1) / rate
    # the AAC priming samples are skipped on decode (MP4 edit list)
    assert onset == pytest.approx(2.0 - 22 / FPS, abs=0.003)
    assert env[: int(0.45 * rate)].max() < 0.02


def test_sidecar_records_what_made_it(registry, track, patch_file, analysis, tmp_path):
    r = _render(registry, track, patch_file, tmp_path / "o.mp4", analysis, start=1.0, seconds=1.0)
    assert r.sidecar == str(tmp_path / "o.json")
    meta = json.loads((tmp_path / "o.json").read_text())
    assert meta["patch"]["sha256"] == sha256_file(patch_file)
    assert meta["track"]["sha256"] == sha256_file(track)
    assert meta["model"] == "stand-in" and meta["preview"] is True
    assert (meta["fps"], meta["start"], meta["seconds"], meta["frames"]) == (FPS, 1.0, 1.0, 15)
    assert meta["seed"] == 0 and meta["interrupted"] is False
    assert {"hambajuba", "torch", "diffusers", "av", "numpy"} <= set(meta["versions"])
    assert meta["versions"]["av"] == av.__version__
    mask = os.umask(0o022)
    os.umask(mask)
    for f in (r.path, r.sidecar):  # not the private mode of a temp file
        assert os.stat(f).st_mode & 0o777 == 0o666 & ~mask


def test_start_gives_the_same_frames_as_a_render_from_the_top(registry, track, patch_file,
                                                               analysis, tmp_path):
    """JPEG frames are coded one by one, so equal images give equal bytes."""
    full = RenderRequest(track=track, patch=patch_file, frames_dir=str(tmp_path / "full"),
                         fps=FPS, seconds=3.0)
    part = RenderRequest(track=track, patch=patch_file, frames_dir=str(tmp_path / "part"),
                         fps=FPS, start=1.0, seconds=1.0)
    for req in (full, part):
        render(req, registry, engine=StandInEngine(64), analysis=analysis, progress=False,
               say=lambda _l: None)
    names = sorted(n for n in os.listdir(tmp_path / "part") if n.endswith(".jpg"))
    assert len(names) == 15
    for k, name in enumerate(names):
        assert (tmp_path / "part" / name).read_bytes() == \
            (tmp_path / "full" / f"frame_{15 + k:06d}.jpg").read_bytes()


def test_frames_dir_writes_jpegs_audio_and_sidecar(registry, track, patch_file, analysis,
                                                   tmp_path):
    import soundfile as sf
    from turbojpeg import TurboJPEG

    req = RenderRequest(track=track, patch=patch_file, frames_dir=str(tmp_path / "frames"),
                        fps=FPS, seconds=1.0)
    r = render(req, registry, engine=StandInEngine(64), analysis=analysis, progress=False,
               say=lambda _l: None)
    jpgs = [f"frame_{i:06d}.jpg" for i in range(15)]
    assert sorted(os.listdir(r.path)) == sorted(jpgs + ["audio.wav", "render.json"])
    img = TurboJPEG().decode((tmp_path / "frames" / jpgs[3]).read_bytes())
    assert img.shape[:2] == (64, 64)
    info = sf.info(str(tmp_path / "frames" / "audio.wav"))
    assert info.frames == 44100 and info.samplerate == 44100
    assert json.loads((tmp_path / "frames" / "render.json").read_text())["frames"] == 15
    assert _leftovers(tmp_path) == []


def test_ctrl_c_halfway_keeps_a_valid_shorter_video(registry, track, patch_file, analysis,
                                                    tmp_path):
    def interrupt(i, n):
        if i == 11:
            raise KeyboardInterrupt

    req = RenderRequest(track=track, patch=patch_file, out=str(tmp_path / "o.mp4"), fps=FPS,
                        seconds=3.0)
    r = render(req, registry, engine=StandInEngine(64), analysis=analysis, progress=False,
               on_frame=interrupt, say=lambda _l: None)
    assert r.interrupted and r.frames == 12 and r.requested_frames == 45
    frames, v, a = decoded_frames(r.path)
    assert len(frames) == 12 and v["duration"] == pytest.approx(12 / FPS, abs=1e-6)
    assert a["duration"] == pytest.approx(12 / FPS, abs=1024 / 44100)
    meta = json.loads((tmp_path / "o.json").read_text())
    assert meta["interrupted"] is True and meta["frames"] == 12
    assert _leftovers(tmp_path) == []


def test_ctrl_c_before_the_first_frame_leaves_nothing(registry, track, patch_file, analysis,
                                                      tmp_path):
    class Interrupting(StandInEngine):
        def render(self, frame):
            raise KeyboardInterrupt

    with pytest.raises(RenderInterrupted):
        _render(registry, track, patch_file, tmp_path / "o.mp4", analysis, seconds=1.0,
                engine=Interrupting(64))
    assert sorted(os.listdir(tmp_path)) == ["test.patch", "tone.wav"]


def test_an_encoder_failure_leaves_no_partial_file(registry, track, patch_file, analysis,
                                                   tmp_path, monkeypatch):
    from graph_runtime.media import video

    real_add = video.Mp4Sink.add

    def failing_add(self, rgba):
        if self.frames == 5:
            raise OSError(28, "No space left on device")
        real_add(self, rgba)

    monkeypatch.setattr(video.Mp4Sink, "add", failing_add)
    with pytest.raises(OSError):
        _render(registry, track, patch_file, tmp_path / "o.mp4", analysis, seconds=2.0)
    assert not (tmp_path / "o.mp4").exists() and not (tmp_path / "o.json").exists()
    assert _leftovers(tmp_path) == []


def test_overlap_keeps_frames_in_order_when_the_encoder_is_slow(registry, track, patch_file,
                                                                analysis, tmp_path, monkeypatch):
    """A slow encoder makes the engine wait (bounded ring), never reorders or drops."""
    import time

    from graph_runtime.media import video

    real_add = video.JpegDirSink.add

    def slow_add(self, rgba):
        time.sleep(0.004)
        real_add(self, rgba)

    monkeypatch.setattr(video.JpegDirSink, "add", slow_add)
    fast = RenderRequest(track=track, patch=patch_file, frames_dir=str(tmp_path / "slow"),
                         fps=FPS, seconds=2.0)
    render(fast, registry, engine=StandInEngine(64), analysis=analysis, progress=False,
           say=lambda _l: None)
    monkeypatch.setattr(video.JpegDirSink, "add", real_add)
    ref = RenderRequest(track=track, patch=patch_file, frames_dir=str(tmp_path / "ref"),
                        fps=FPS, seconds=2.0)
    render(ref, registry, engine=StandInEngine(64), analysis=analysis, progress=False,
           say=lambda _l: None)
    for i in range(30):
        name = f"frame_{i:06d}.jpg"
        assert (tmp_path / "slow" / name).read_bytes() == (tmp_path / "ref" / name).read_bytes()


def test_mono_track_at_an_unusual_rate_is_muxed(registry, patch_file, analysis, tmp_path):
    track = write_tone(tmp_path / "mono.wav", 2.0, rate=37800, channels=1)
    r = _render(registry, track, patch_file, tmp_path / "o.mp4", analysis, seconds=1.0)
    _, _, a = decoded_frames(r.path)
    assert a["rate"] == 48000 and a["duration"] == pytest.approx(1.0, abs=1024 / 48000)


def test_seconds_past_the_end_render_to_the_end(registry, track, patch_file, analysis, tmp_path):
    said = []
    req = RenderRequest(track=track, patch=patch_file, out=str(tmp_path / "o.mp4"), fps=FPS,
                        start=3.0, seconds=5.0)
    r = render(req, registry, engine=StandInEngine(64), analysis=analysis, progress=False,
               say=said.append)
    assert r.frames == 15
    assert any("runs past the end" in s for s in said)


def test_render_module_imports_no_gui_no_nodes_no_torch():
    import subprocess
    import sys

    code = ("import sys, graph_runtime.render.loop, graph_runtime.media.video\n"
            "print(','.join(m for m in ('torch', 'dearpygui', 'hambajuba_nodes') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_render_error_is_not_raised_for_good_input(registry, track, patch_file, analysis,
                                                   tmp_path):
    """fps 240 and 1 are inside the accepted range."""
    for fps in (1, 240):
        r = _render(registry, track, patch_file, tmp_path / f"o{fps}.mp4", analysis, fps=fps,
                    seconds=0.5 if fps == 240 else 2.0)
        assert r.frames == (120 if fps == 240 else 2)
    with pytest.raises(RenderError):
        _render(registry, track, patch_file, tmp_path / "bad.mp4", analysis, fps=240.5)


def test_audio_segment_streams_in_chunks_and_folds_channels(tmp_path):
    import soundfile as sf

    from graph_runtime.media.video import open_segment, read_segment

    rate = 48000
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (rate * 2, 4)).astype(np.float32)
    sf.write(tmp_path / "quad.wav", x, rate, subtype="FLOAT")
    whole = read_segment(str(tmp_path / "quad.wav"), 0.5, 2.0)  # runs 0.5 s past the end
    assert whole.shape == (2 * rate, 2)
    assert np.allclose(whole[: rate + rate // 2, 0], x[rate // 2:, 0::2].mean(1), atol=1e-6)
    assert not whole[rate + rate // 2:].any()  # silence after the end
    seg = open_segment(str(tmp_path / "quad.wav"), 0.5, 2.0)
    parts = [seg.read(1000) for _ in range(200)]
    seg.close()
    assert np.array_equal(np.concatenate(parts), whole)


def test_a_track_soundfile_cannot_read_is_decoded_with_pyav(registry, patch_file, analysis,
                                                            tmp_path):
    """An .m4a (AAC) track: soundfile refuses it, PyAV decodes it."""
    from fractions import Fraction

    rate = 44100
    with av.open(str(tmp_path / "t.m4a"), "w", format="mp4") as c:
        s = c.add_stream("aac", rate=rate, layout="stereo")
        t = np.arange(3 * rate) / rate
        tone = (0.4 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
        for i in range(0, tone.size, 1024):
            chunk = np.ascontiguousarray(np.stack([tone[i:i + 1024]] * 2))
            f = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            f.sample_rate, f.pts, f.time_base = rate, i, Fraction(1, rate)
            c.mux(s.encode(f))
        c.mux(s.encode(None))
    r = _render(registry, str(tmp_path / "t.m4a"), patch_file, tmp_path / "o.mp4", analysis,
                start=1.0, seconds=1.0)
    with av.open(r.path) as c:
        pcm = np.concatenate([f.to_ndarray()[0] for f in c.decode(audio=0)])
    assert np.sqrt(np.mean(pcm[2000:40000] ** 2)) == pytest.approx(0.4 / np.sqrt(2), rel=0.1)


def test_a_second_ctrl_c_while_finishing_removes_the_partial_file(registry, track, patch_file,
                                                                   analysis, tmp_path,
                                                                   monkeypatch):
    """Ctrl-C lands while the encoder still works through queued frames: the
    worker is cancelled before the file is closed, and nothing is left."""
    import time

    from graph_runtime.media import video
    from graph_runtime.render import loop as render_mod

    real_add = video.Mp4Sink.add

    def slow_add(self, rgba):
        time.sleep(0.05)
        real_add(self, rgba)

    def interrupted_drain(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(video.Mp4Sink, "add", slow_add)
    monkeypatch.setattr(render_mod.EncodeWorker, "drain", interrupted_drain)
    with pytest.raises(RenderInterrupted, match="while finishing"):
        _render(registry, track, patch_file, tmp_path / "o.mp4", analysis, seconds=1.0)
    assert sorted(os.listdir(tmp_path)) == ["test.patch", "tone.wav"]

"""Distributed renders and library analysis on a local Ray (2 CPUs).

The engine is the preview model at 128 px with one torch thread per engine:
CPU frames are bit-identical across processes at equal thread counts, so a
Ray render must equal the one-process render frame for frame (JPEG bytes).
"""
from __future__ import annotations

import glob
import os

import pytest

ray = pytest.importorskip("ray", reason="the Ray extra is not installed: pip install 'hambajuba[ray]'")

from render_paths import small_patch, write_track  # noqa: E402

from graph_runtime.render.loop import render  # noqa: E402
from graph_runtime.render.request import RenderError, RenderInterrupted, RenderRequest  # noqa: E402
from graph_runtime.scale import distributed  # noqa: E402
from graph_runtime.scale.runner import Fault  # noqa: E402
from hambajuba_nodes.registry import default_registry  # noqa: E402

pytestmark = pytest.mark.slow
FPS = 10


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def show(tmp_path_factory):
    d = tmp_path_factory.mktemp("show")
    track = write_track(d / "song.wav", 3.0)
    patch = small_patch(d)
    from graph_runtime.analysis.store import synthetic

    analysis = synthetic(3.0)  # the batch and library tests run the real analysis
    # the reference: one process, the engine on one torch thread
    ref = d / "single"
    req = RenderRequest(track=track, patch=patch, frames_dir=str(ref), fps=FPS, cpu_threads=1)
    render(req, default_registry(), analysis=analysis, progress=False, say=lambda _l: None)
    return {"track": track, "patch": patch, "analysis": analysis, "ref": str(ref), "dir": d}


def _frames(folder: str) -> list[bytes]:
    return [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(folder, "frame_*.jpg")))]


def _ray_render(show, out: str, **kw):
    req = RenderRequest(track=show["track"], patch=show["patch"], frames_dir=out, fps=FPS)
    return distributed.ray_render(req, default_registry(), analysis=show["analysis"],
                                  chunk_seconds=0.7, progress=False, say=lambda _l: None, **kw)


def test_a_ray_render_equals_the_one_process_render_frame_for_frame(show):
    out = str(show["dir"] / "ray")
    result = _ray_render(show, out)
    ref = _frames(show["ref"])
    assert len(ref) == 3 * FPS and result.frames == len(ref)
    assert _frames(out) == ref
    assert os.path.isfile(os.path.join(out, "audio.wav"))


def test_a_chunk_whose_worker_dies_is_retried_and_the_frames_still_match(show):
    out = str(show["dir"] / "ray_fault")
    marker = str(show["dir"] / "killed_once")
    _ray_render(show, out, fault=Fault(job=0, chunk=1, marker=marker))
    assert os.path.exists(marker)  # the first attempt of chunk 1 really killed its worker
    assert _frames(out) == _frames(show["ref"])


def test_ctrl_c_cancels_the_tasks_and_leaves_no_output(show, monkeypatch):
    out = show["dir"] / "ray_cancelled"
    calls = {"n": 0}
    real_wait = ray.wait

    def wait_then_interrupt(refs, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_wait(refs, **kw)

    monkeypatch.setattr(ray, "wait", wait_then_interrupt)
    with pytest.raises(RenderInterrupted):
        _ray_render(show, str(out))
    assert not out.exists()
    assert not [p for p in os.listdir(show["dir"]) if p.startswith(".ray_cancelled")]


def test_a_mp4_from_ray_has_every_frame_and_the_audio(show):
    import av

    out = show["dir"] / "ray.mp4"
    req = RenderRequest(track=show["track"], patch=show["patch"], out=str(out), fps=FPS)
    distributed.ray_render(req, default_registry(), analysis=show["analysis"], chunk_seconds=1.0,
                           progress=False, say=lambda _l: None)
    with av.open(str(out)) as c:
        frames = sum(1 for _ in c.decode(c.streams.video[0]))
        audio = c.streams.audio[0]
        audio_s = float(audio.duration * audio.time_base)
    assert frames == 3 * FPS
    assert audio_s == pytest.approx(3.0, abs=0.05)


def test_batch_of_three_with_a_corrupt_track_gives_two_videos_and_a_clear_failure(show, monkeypatch):
    d = show["dir"] / "batch"
    d.mkdir()
    monkeypatch.setenv("HAMBAJUBA_CACHE", str(d / "cache"))
    tracks = [write_track(d / "a.wav", 1.0), write_track(d / "b.wav", 1.0, freq=330.0)]
    bad = d / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot audio at all")
    reqs = [RenderRequest(track=t, patch=show["patch"], out=str(d / (os.path.basename(t) + ".mp4")),
                          fps=FPS) for t in (tracks[0], str(bad), tracks[1])]
    rows = distributed.batch(reqs, default_registry(), chunk_seconds=0.5, progress=False,
                             say=lambda _l: None)
    assert [bool(r.error) for r in rows] == [False, True, False]
    assert "broken.wav" in rows[1].error
    assert all(os.path.isfile(r.output) and r.frames == FPS for r in (rows[0], rows[2]))
    assert not (d / "broken.wav.mp4").exists()


def test_analyze_a_folder_on_ray_fills_the_cache_for_every_readable_track(show, tmp_path, monkeypatch):
    from graph_runtime.analysis.pipeline import analyze

    monkeypatch.setenv("HAMBAJUBA_CACHE", str(tmp_path / "cache"))
    tracks = [write_track(tmp_path / f"t{i}.wav", 1.5, freq=200.0 + 50 * i) for i in range(3)]
    (tmp_path / "junk.ogg").write_bytes(b"OggS but not really")
    found = distributed.analyse_library(tracks + [str(tmp_path / "junk.ogg")], progress=False)
    assert isinstance(found[3], str) and "junk.ogg" in found[3]
    for path in tracks:  # each is now a cache hit in this process
        assert analyze(path).meta["cache_hit"] is True


def test_a_bad_chunk_length_is_bad_input(show):
    req = RenderRequest(track=show["track"], patch=show["patch"], frames_dir="x", fps=FPS)
    with pytest.raises(RenderError, match="chunk-seconds"):
        distributed.ray_render(req, default_registry(), chunk_seconds=0, progress=False)

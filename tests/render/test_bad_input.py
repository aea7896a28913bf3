"""Bad input: each is refused with one line that says what to do, before any
work, and leaves nothing behind."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from children import child_env
from render_helpers import ROOT, StandInEngine, as_in_a_terminal, decoded_frames

from graph_runtime.graph.patch import Patch, save
from graph_runtime.render.loop import render
from graph_runtime.render.request import RenderError, RenderRequest


def _refused(registry, analysis, **kw) -> RenderError:
    kw.setdefault("fps", 15)
    req = RenderRequest(**kw)
    with pytest.raises(RenderError) as e:
        render(req, registry, engine=StandInEngine(64), analysis=analysis, progress=False,
               say=lambda _l: None)
    for line in e.value.problems:
        assert "\n" not in line and len(line) < 300
    return e.value


def _only(folder, *names):
    assert sorted(os.listdir(folder)) == sorted(names)


def test_output_in_a_missing_folder(registry, analysis, track, patch_file, tmp_path):
    err = _refused(registry, analysis, track=track, patch=patch_file,
                   out=str(tmp_path / "nope" / "o.mp4"))
    assert err.code == 2 and "does not exist" in str(err) and "mkdir" in str(err)
    assert not (tmp_path / "nope").exists()


def test_output_in_a_read_only_folder(registry, analysis, track, patch_file, tmp_path):
    if os.geteuid() == 0:  # root writes through mode bits: use a folder no one can write
        folder = "/sys"
    else:
        folder = str(tmp_path / "ro")
        os.mkdir(folder)
        os.chmod(folder, 0o555)
    err = _refused(registry, analysis, track=track, patch=patch_file,
                   out=os.path.join(folder, "o.mp4"))
    assert err.code == 2 and "cannot write" in str(err)
    assert not os.path.exists(os.path.join(folder, "o.mp4"))


def test_existing_output_is_refused_unless_overwrite(registry, analysis, track, patch_file,
                                                     tmp_path):
    out = tmp_path / "o.mp4"
    out.write_bytes(b"precious")
    err = _refused(registry, analysis, track=track, patch=patch_file, out=str(out))
    assert "exists" in str(err) and "--overwrite" in str(err)
    assert out.read_bytes() == b"precious"
    req = RenderRequest(track=track, patch=patch_file, out=str(out), fps=15, seconds=1.0,
                        overwrite=True)
    render(req, registry, engine=StandInEngine(64), analysis=analysis, progress=False,
           say=lambda _l: None)
    frames, _, _ = decoded_frames(out)
    assert len(frames) == 15
    _only(tmp_path, "o.mp4", "o.json", "test.patch", "tone.wav")


@pytest.mark.parametrize("fps", [0, 1000, -30, float("nan"), 0.5])
def test_fps_out_of_range(registry, analysis, track, patch_file, tmp_path, fps):
    err = _refused(registry, analysis, track=track, patch=patch_file,
                   out=str(tmp_path / "o.mp4"), fps=fps)
    assert err.code == 2 and "--fps" in str(err) and "1..240" in str(err)
    _only(tmp_path, "test.patch", "tone.wav")


def test_start_past_the_end(registry, analysis, track, patch_file, tmp_path):
    err = _refused(registry, analysis, track=track, patch=patch_file,
                   out=str(tmp_path / "o.mp4"), start=9.0)
    assert "past the end" in str(err) and "4.00 s" in str(err)
    _only(tmp_path, "test.patch", "tone.wav")


def test_negative_start_and_seconds(registry, analysis, track, patch_file, tmp_path):
    err = _refused(registry, analysis, track=track, patch=patch_file,
                   out=str(tmp_path / "o.mp4"), start=-1.0, seconds=0.0)
    assert len(err.problems) == 2


def test_a_patch_that_does_not_compile_statically(registry, analysis, track, tmp_path):
    p = Patch()
    p.add_node("time.lfo", {"rate": 5000.0}, node_id="wobble")
    save(p, tmp_path / "bad.patch")
    err = _refused(registry, analysis, track=track, patch=str(tmp_path / "bad.patch"),
                   out=str(tmp_path / "o.mp4"))
    assert "node wobble" in str(err) and "rate" in str(err)
    assert any("hambajuba patch validate" in p for p in err.problems)
    _only(tmp_path, "bad.patch", "tone.wav")


def test_a_patch_that_fails_while_compiling(registry, analysis, track, tmp_path):
    """Five sinks on one block: only the compile (prepare) finds it."""
    p = Patch()
    for i in range(5):
        p.add_node("test.render_sink", {"block": "mid.0"}, node_id=f"sink{i}")
    save(p, tmp_path / "full.patch")
    err = _refused(registry, analysis, track=track, patch=str(tmp_path / "full.patch"),
                   out=str(tmp_path / "o.mp4"))
    assert "sink4" in str(err) and "mid.0" in str(err)
    _only(tmp_path, "full.patch", "tone.wav")


def test_a_patch_that_is_not_a_patch(registry, analysis, track, tmp_path):
    (tmp_path / "junk.patch").write_text("{not json")
    err = _refused(registry, analysis, track=track, patch=str(tmp_path / "junk.patch"),
                   out=str(tmp_path / "o.mp4"))
    assert "junk.patch" in str(err)
    err = _refused(registry, analysis, track=track, patch=str(tmp_path / "missing.patch"),
                   out=str(tmp_path / "o.mp4"))
    assert "no such file" in str(err)


def test_a_track_that_is_missing_or_not_audio(registry, analysis, patch_file, tmp_path):
    err = _refused(registry, analysis, track=str(tmp_path / "none.wav"), patch=patch_file,
                   out=str(tmp_path / "o.mp4"))
    assert "none.wav: no such file" in str(err)
    (tmp_path / "text.wav").write_text("hello, not audio")
    err = _refused(registry, analysis, track=str(tmp_path / "text.wav"), patch=patch_file,
                   out=str(tmp_path / "o.mp4"))
    assert "text.wav" in str(err) and "cannot be read as audio" in str(err)


def test_out_must_be_an_mp4_and_one_output(registry, analysis, track, patch_file, tmp_path):
    err = _refused(registry, analysis, track=track, patch=patch_file, out=str(tmp_path / "o.mkv"))
    assert ".mp4" in str(err)
    err = _refused(registry, analysis, track=track, patch=patch_file)
    assert "--out" in str(err) and "--frames-dir" in str(err)


def test_frames_dir_is_not_clobbered(registry, analysis, track, patch_file, tmp_path):
    d = tmp_path / "frames"
    d.mkdir()
    (d / "notes.txt").write_text("mine")
    err = _refused(registry, analysis, track=track, patch=patch_file, frames_dir=str(d))
    assert "--overwrite" in str(err)
    err = _refused(registry, analysis, track=track, patch=patch_file, frames_dir=str(d),
                   overwrite=True)
    assert "did not write" in str(err)
    assert (d / "notes.txt").read_text() == "mine"


# -- the command line ----------------------------------------------------------------------

def _cli(argv, capsys):
    from hambajuba_nodes.cli import main

    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_bad_input_exits_2_with_one_line_each(track, tmp_path, capsys):
    p = Patch()
    p.add_node("time.lfo", {})
    save(p, tmp_path / "ok.patch")
    base = ["render", track, "--patch", str(tmp_path / "ok.patch")]
    code, out, err = _cli(base + ["--out", str(tmp_path / "x" / "o.mp4"), "--fps", "1000"], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 2
    assert "--fps 1000" in lines[0] and "does not exist" in lines[1]
    (tmp_path / "o.mp4").write_bytes(b"")
    code, _, err = _cli(base + ["--out", str(tmp_path / "o.mp4")], capsys)
    assert code == 2 and "--overwrite" in err and len(err.strip().splitlines()) == 1
    code, _, err = _cli(base + ["--out", str(tmp_path / "n.mp4"), "--start", "60"], capsys)
    assert code == 2 and "past the end" in err


def test_cli_fps_that_is_not_a_number(track, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        _cli(["render", track, "--out", str(tmp_path / "o.mp4"), "--fps", "fast"], capsys)
    assert e.value.code == 2


# -- Ctrl-C as a real signal --------------------------------------------------------------------

SCRIPT = r"""
import sys
from render_helpers import StandInEngine, RenderSink
from graph_runtime.analysis.store import synthetic
from graph_runtime.graph.node import Registry
from graph_runtime.render.request import RenderInterrupted, RenderRequest
from graph_runtime.render.loop import render
from hambajuba_nodes.registry import default_registry

reg = Registry(list(default_registry())); reg.add(RenderSink)
req = RenderRequest(track={track!r}, patch={patch!r}, out={out!r}, fps=15, seconds=4.0)
def tick(i, n):
    print("frame", i, flush=True)
try:
    r = render(req, reg, engine=StandInEngine(64, delay=0.02), analysis=synthetic(4.0),
               progress=False, on_frame=tick, say=lambda l: None)
    print("done", r.frames, r.interrupted, flush=True)
except RenderInterrupted as e:
    print("nothing", flush=True)
    sys.exit(130)
"""


def test_sigint_halfway_leaves_a_valid_shorter_video(track, patch_file, tmp_path):
    out = tmp_path / "o.mp4"
    code = SCRIPT.format(track=track, patch=patch_file,
                         out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT, env=child_env(ROOT / "tests" / "render"),
                            preexec_fn=as_in_a_terminal)
    try:
        for line in proc.stdout:
            if line.startswith("frame 10"):
                proc.send_signal(signal.SIGINT)
                break
        rest = proc.stdout.read()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "done" in rest
    kept = int(rest.split("done")[1].split()[0])
    assert 11 <= kept < 60 and "True" in rest
    frames, v, a = decoded_frames(out)
    assert len(frames) == kept and v["duration"] == pytest.approx(kept / 15, abs=1e-6)
    assert a["duration"] == pytest.approx(kept / 15, abs=1024 / 44100)
    assert json.loads((tmp_path / "o.json").read_text())["interrupted"] is True
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]

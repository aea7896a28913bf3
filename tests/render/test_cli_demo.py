"""`hambajuba demo`: window or video, and the video on a machine with no display."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest
from render_helpers import DEFAULT_PATCH, ROOT, as_in_a_terminal, decoded_frames


def _args(**kw):
    base = dict(out=os.path.join("out", "demo.mp4"), seconds=1.0, model="auto", fps=30.0,
                no_window=False, patch=None, overwrite=False, device=None, quiet=True)
    base.update(kw)
    return SimpleNamespace(**base)


@pytest.fixture()
def fake_demo(monkeypatch, tmp_path):
    """cmd_demo with the track, the window and the render replaced by recorders."""
    from hambajuba_nodes.cli import render as cli_render
    from hambajuba_nodes.content import demo_track

    calls = []
    track = SimpleNamespace(path=tmp_path / "mix.flac", stems_dir=tmp_path / "stems")
    monkeypatch.setattr(demo_track, "ensure_demo", lambda say=None: track)
    monkeypatch.setattr(cli_render, "_open_window",
                        lambda t, p, m: calls.append(("window", p, m)) or 0)
    monkeypatch.setattr(cli_render, "_run_render",
                        lambda req, **kw: calls.append(("render", req)) or (0, None))
    monkeypatch.setattr(cli_render, "window_available", lambda: True)
    monkeypatch.chdir(tmp_path)
    return calls


def test_demo_with_a_display_opens_the_window(fake_demo, monkeypatch):
    from hambajuba_nodes.cli.render import cmd_demo

    monkeypatch.setenv("DISPLAY", ":0")
    assert cmd_demo(_args(model="preview")) == 0
    assert fake_demo == [("window", str(DEFAULT_PATCH), "preview")]


def test_demo_without_a_display_renders_out_demo_mp4(fake_demo, monkeypatch, tmp_path):
    from hambajuba_nodes.cli.render import cmd_demo

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    cmd_demo(_args(seconds=2.0))
    (kind, req), = fake_demo
    assert kind == "render" and req.out == os.path.join("out", "demo.mp4")
    assert (tmp_path / "out").is_dir()  # the demo makes its own folder
    assert req.stems_dir == str(tmp_path / "stems") and req.seconds == 2.0


def test_demo_falls_back_to_a_video_when_the_window_cannot_open(fake_demo, monkeypatch):
    from hambajuba_nodes.cli import render as cli_render

    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(cli_render, "_open_window",
                        lambda t, p, m: fake_demo.append(("window", p, m)) or 1)
    cli_render.cmd_demo(_args())
    assert [c[0] for c in fake_demo] == ["window", "render"]


def test_demo_no_window_renders_even_with_a_display(fake_demo, monkeypatch):
    from hambajuba_nodes.cli.render import cmd_demo

    monkeypatch.setenv("DISPLAY", ":0")
    cmd_demo(_args(no_window=True))
    assert [c[0] for c in fake_demo] == ["render"]


def test_demo_replaces_only_its_own_earlier_render(tmp_path):
    from hambajuba_nodes.cli.render import _demo_out_ok

    out = tmp_path / "demo.mp4"
    assert _demo_out_ok(str(out), False) is False  # nothing there: nothing to replace
    out.write_bytes(b"old render")
    assert _demo_out_ok(str(out), False) is False  # no sidecar: someone else's file
    (tmp_path / "demo.json").write_text(json.dumps({"format": "hambajuba.render"}))
    assert _demo_out_ok(str(out), False) is True
    (tmp_path / "demo.json").write_text("[1, 2]")
    assert _demo_out_ok(str(out), False) is False
    assert _demo_out_ok(str(out), True) is True


def test_perform_argv_uses_only_options_the_window_has(monkeypatch):
    import types

    from hambajuba_nodes.cli import render as cli_render

    fake = types.ModuleType("hambajuba_nodes.cli.perform")

    def add_perform_parser(sub):
        p = sub.add_parser("perform")
        p.add_argument("track")
        p.add_argument("--patch")
        p.set_defaults(func=lambda a: 0)

    fake.add_perform_parser = add_perform_parser
    monkeypatch.setitem(sys.modules, "hambajuba_nodes.cli.perform", fake)
    import hambajuba_nodes.cli

    monkeypatch.setattr(hambajuba_nodes.cli, "perform", fake, raising=False)
    track = SimpleNamespace(path="/d/mix.flac", stems_dir="/d/stems")
    assert cli_render._perform_argv(track, "p.patch", "auto") == \
        ["perform", "/d/mix.flac", "--patch", "p.patch"]


@pytest.mark.slow
def test_demo_command_makes_its_video_without_a_display(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["HAMBAJUBA_CACHE"] = str(tmp_path / "cache")
    cmd = [sys.executable, "-m", "hambajuba_nodes.cli", "demo", "--seconds", "0.2", "--fps", "10",
           "--model", "preview", "--quiet"]
    run = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    video = tmp_path / "out" / "demo.mp4"
    assert str(video) in run.stdout and "untrained preview" in run.stdout
    frames, v, a = decoded_frames(video)
    assert len(frames) == 2 and v["rate"] == 10
    assert a["duration"] == pytest.approx(0.2, abs=1024 / 44100)
    assert (tmp_path / "out" / "demo.jpg").stat().st_size > 0
    meta = json.loads((tmp_path / "out" / "demo.json").read_text())
    assert meta["track"]["stems_dir"].endswith(os.path.join("demo", "v1", "stems"))
    assert (tmp_path / "cache" / "demo" / "v1" / "mix.flac").is_file()


def test_perform_argv_for_the_real_window_parser():
    from hambajuba_nodes.cli import render as cli_render

    track = SimpleNamespace(path="/d/mix.flac", stems_dir="/d/stems")
    argv = cli_render._perform_argv(track, "p.patch", "preview")
    assert argv[:4] == ["perform", "/d/mix.flac", "--patch", "p.patch"]
    assert argv[argv.index("--model") + 1] == "preview"


@pytest.mark.slow
def test_cli_render_ctrl_c_halfway_keeps_a_valid_shorter_video(tmp_path):
    """The real command, the real preview engine and analysis: SIGINT once the
    progress bar shows two frames; exit 130, a complete shorter MP4."""
    import signal

    from graph_runtime.graph.patch import load, save
    from hambajuba_nodes.content.demo_track import ensure_demo

    demo = ensure_demo(tmp_path / "cache")
    patch = load(DEFAULT_PATCH)
    patch.engine["size"] = 256  # slow enough that the interrupt lands mid-render
    save(patch, tmp_path / "small.patch")
    env = dict(os.environ, HAMBAJUBA_CACHE=str(tmp_path / "cache"))
    cmd = [sys.executable, "-m", "hambajuba_nodes.cli", "render", str(demo.path),
           "--patch", str(tmp_path / "small.patch"), "--stems", str(demo.stems_dir),
           "--out", str(tmp_path / "o.mp4"), "--model", "preview", "--fps", "6",
           "--start", "10", "--seconds", "20"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=as_in_a_terminal)
    seen = b""
    try:
        # tqdm skips counts between refreshes: wait for any count of 2 or more
        while not re.search(rb" ([2-9]|\d\d+)/120 ", seen) and proc.poll() is None:
            seen += os.read(proc.stderr.fileno(), 256)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (seen + err).decode()[-2000:]
    assert b"interrupted: kept the first" in out
    frames, v, a = decoded_frames(tmp_path / "o.mp4")
    assert 2 <= len(frames) < 120 and v["rate"] == 6
    assert a["duration"] == pytest.approx(len(frames) / 6, abs=1024 / 44100)
    meta = json.loads((tmp_path / "o.json").read_text())
    assert meta["interrupted"] is True and meta["frames"] == len(frames)
    assert meta["start"] == 10.0 and meta["model"] == "preview"
    assert sorted(os.listdir(tmp_path)) == ["cache", "o.json", "o.mp4", "small.patch"]

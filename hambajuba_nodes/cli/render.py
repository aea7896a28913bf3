"""`hambajuba render`, `hambajuba demo` and `hambajuba bench render`.

Exit codes as in cli.py: 0 done, 2 bad input (one line per problem, saying
what to do next), 1 anything else, 130 interrupted with nothing kept.
torch, av and the engine are imported only when a command runs.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os

from graph_runtime.media.atomic import write_atomic

from .common import DEFAULT_PATCH, FPS_CHOICES_HELP, MODELS, _err, _fps, _say, _seconds, _term_as_interrupt

DEMO_OUT = os.path.join("out", "demo.mp4")


def _describe(result) -> str:
    what = "frames in" if result.path and os.path.isdir(result.path) else "wrote"
    kind = "untrained preview" if result.preview else result.model
    return (f"{what} {result.path}: {result.frames} frames, {result.seconds:.2f} s at "
            f"{result.fps:g} fps from {result.start:.2f} s, model {kind}; "
            f"what made it: {result.sidecar}")


def _run_render(req, *, registry=None, quiet=False, on_image=None, analysis=None):
    """render() with the CLI's reporting; returns (exit code, result or None)."""
    from graph_runtime.render.loop import render
    from graph_runtime.render.request import RenderError, RenderInterrupted

    if registry is None:
        from ..registry import default_registry

        registry = default_registry()
    try:
        with _term_as_interrupt():
            result = render(req, registry, progress=not quiet, on_image=on_image,
                            analysis=analysis, say=_say if not quiet else (lambda _l: None),
                            warn=_err)  # a refused scene is said even with -q
    except RenderInterrupted as e:
        _err(f"hambajuba: {e}")
        return 130, None
    except RenderError as e:
        for p in e.problems:
            _err(p)
        return e.code, None
    return 0, result


# -- render -----------------------------------------------------------------------------

def cmd_render(args) -> int:
    from graph_runtime.render.request import RenderRequest

    req = RenderRequest(track=args.track, patch=args.patch, out=args.out,
                        frames_dir=args.frames_dir, model=args.model, fps=args.fps,
                        start=args.start, seconds=args.seconds, overwrite=args.overwrite,
                        stems_dir=args.stems, device=args.device,
                        cpu_threads=args.cpu_threads, view=args.view, skin=args.skin,
                        creature=args.creature)
    from .remote import engine_token

    problems: list[str] = []
    try:
        from .character import parse_canvas

        req.canvas = parse_canvas(args.canvas)
    except ValueError as e:
        problems.append(str(e))
    if args.view == "character" and (args.ray is not None or args.controls_only):
        problems.append("--view character renders on this machine only (the sync log and "
                        "his state run through the whole track); leave out --ray/--controls-only")
    req.engine_token, req.engine_address = engine_token(args, problems), args.engine
    req.engine_in_flight, req.engine_codec = args.in_flight, args.engine_codec
    if not 1 <= args.in_flight <= 32:
        problems.append(f"--in-flight {args.in_flight}: use 1..32 frames")
    for line in problems:
        _err(f"hambajuba render: {line}")
    if problems:
        return 2
    if args.ray is not None or args.controls_only:
        from .scale import cmd_render_scaled

        return cmd_render_scaled(args, req)
    code, result = _run_render(req, quiet=args.quiet)
    if result is not None:
        _say(_describe(result))
        if result.interrupted:
            return 130
    return code


def add_render_parser(sub) -> None:
    p = sub.add_parser(
        "render", help="render a patch + track to an MP4 (H.264 + AAC) or JPEG frames",
        description="Render headless, frame-exact (frame i shows t = start + i / fps): the same "
                    "patch, track, model and seed give the same frames. Ctrl-C keeps the frames "
                    "made so far as a complete, shorter video.")
    p.add_argument("track", metavar="TRACK", help="audio file (wav, flac, mp3, ogg)")
    p.add_argument("--patch", metavar="FILE", default=str(DEFAULT_PATCH),
                   help="the .patch to perform (default: patches/default.patch)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--out", metavar="OUT.mp4", help="the video to write")
    out.add_argument("--frames-dir", metavar="DIR",
                     help="write frame_000000.jpg ... (+ audio.wav, render.json) here instead")
    p.add_argument("--model", choices=MODELS, default=None,
                   help="default: what the patch says (auto = SDXL-Turbo when its weights are "
                        "present, else the untrained preview)")
    p.add_argument("--fps", type=_fps, default=30.0, metavar="30|50|60", help=FPS_CHOICES_HELP)
    p.add_argument("--start", type=_seconds, default=0.0, metavar="S",
                   help="seconds into the track")
    p.add_argument("--seconds", type=_seconds, default=None, metavar="N",
                   help="how long (default: to the end of the track)")
    p.add_argument("--stems", metavar="DIR",
                   help="folder of true stems (drums/bass/vocals/other): skips separation")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--device", default=None, help="torch device for the engine (default: best)")
    p.add_argument("--view", choices=("image", "character"), default="image",
                   help="image: the model's image alone (default); character: hambajuba "
                        "drawn around it (his heart), on a --canvas of its own")
    p.add_argument("--canvas", metavar="WxH", default="1280x720",
                   help="the character view's frame size (default 1280x720; the model's image "
                        "size stays what the patch says)")
    from .character import add_skin_option

    add_skin_option(p)
    p.add_argument("--creature", metavar="fresh|PATH", default=None,
                   help="the character's creature: yours (default, read only), a newborn, or "
                        "a creature file; the sidecar records its hash")
    from .remote import add_engine_options

    add_engine_options(p)  # --engine HOST:PORT, --token-file F
    from .scale import add_render_scale_options

    add_render_scale_options(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_render)


# -- demo ------------------------------------------------------------------------------------

def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def window_available() -> bool:
    """Dear PyGui imports here (a wheel exists for this platform and Python)."""
    return importlib.util.find_spec("dearpygui") is not None


def _perform_argv(track, patch: str, model: str) -> list[str] | None:
    """argv for `hambajuba perform`, using only the options its parser has."""
    from . import perform as cli_perform

    parser = argparse.ArgumentParser(prog="hambajuba")
    sub = parser.add_subparsers(dest="command")
    cli_perform.add_perform_parser(sub)
    perform = sub.choices.get("perform")
    if perform is None:
        return None
    options = {s for a in perform._actions for s in a.option_strings}
    argv = ["perform", str(track.path)]
    for flag, value in (("--patch", patch), ("--stems", str(track.stems_dir)),
                        ("--model", model)):
        if flag in options and value is not None:
            argv += [flag, value]
    return argv


def _open_window(track, patch: str, model: str) -> int | None:
    """Run the performance window on the demo; None when it cannot start."""
    from . import perform as cli_perform

    argv = _perform_argv(track, patch, model)
    if argv is None:
        return None
    parser = argparse.ArgumentParser(prog="hambajuba")
    sub = parser.add_subparsers(dest="command")
    cli_perform.add_perform_parser(sub)
    args = parser.parse_args(argv)
    _say("opening the performance window (close it to quit; `hambajuba demo --no-window` "
         "renders a video instead)")
    return int(args.func(args) or 0)


def _demo_out_ok(out: str, overwrite: bool) -> bool:
    """The demo may replace its own earlier render (its sidecar says so)."""
    if overwrite or not os.path.exists(out):
        return overwrite
    sidecar = os.path.splitext(out)[0] + ".json"
    try:
        with open(sidecar, encoding="utf-8") as f:
            return json.load(f).get("format") == "hambajuba.render"
    except (OSError, ValueError, AttributeError):
        return False


def _save_still(rgba, path: str) -> None:
    from turbojpeg import TJPF_RGBA, TurboJPEG

    data = TurboJPEG().encode(rgba, quality=92, pixel_format=TJPF_RGBA)
    write_atomic(path, data)


def cmd_demo(args) -> int:
    from graph_runtime.render.request import RenderRequest
    from hambajuba_nodes.content.demo_track import ensure_demo

    patch = args.patch or str(DEFAULT_PATCH)
    if not os.path.isfile(patch):
        _err(f"{patch}: no such file (the example patches ship with the repository, "
             "not the installed package); give one with --patch FILE")
        return 2
    try:
        track = ensure_demo(say=_say)
    except OSError as e:
        _err(str(e))
        return 1
    _say(f"demo track: {track.path} (synthesised groove, 110 -> 128 BPM; true stems in "
         f"{track.stems_dir})")
    if not args.no_window and has_display() and window_available():
        code = _open_window(track, patch, args.model)
        if code is not None and code != 1:  # 1: the window could not open
            return code
        _say("the window could not open here; rendering the demo to a video instead")
    out = args.out
    folder = os.path.dirname(os.path.abspath(out))
    if out == DEMO_OUT:
        os.makedirs(folder, exist_ok=True)
    req = RenderRequest(track=str(track.path), patch=patch, out=out, model=args.model,
                        fps=args.fps, seconds=args.seconds, stems_dir=str(track.stems_dir),
                        overwrite=_demo_out_ok(out, args.overwrite), device=args.device)
    from hambajuba_nodes.content.demo_track import duration_s

    still: dict = {}
    middle = int(round((args.seconds or duration_s()) * args.fps)) // 2

    def keep_still(i, rgba) -> None:  # a frame from the middle, for the README
        if i == middle or "image" not in still:
            still["image"] = rgba.copy()

    code, result = _run_render(req, quiet=args.quiet, on_image=keep_still)
    if result is None:
        return code
    if "image" in still:
        still_path = os.path.splitext(result.path)[0] + ".jpg"
        _save_still(still["image"], still_path)
    _say(_describe(result))
    _say(f"the demo is at {result.path}"
         + (f" (a still: {still_path})" if "image" in still else ""))
    if result.preview:
        _say("rendered with the untrained preview model: get the SDXL-Turbo weights "
             "(hambajuba models download) and run it again for real images")
    return 130 if result.interrupted else 0


def add_demo_parser(sub) -> None:
    p = sub.add_parser(
        "demo", help="play the built-in demo (a window with a display, else out/demo.mp4)",
        description="The demo: a synthesised groove with its true stems, the default patch and "
                    "the best model present (SDXL-Turbo when its weights are cached, else the "
                    "untrained preview). With a display it opens the performance window; "
                    "without one it renders out/demo.mp4.")
    p.add_argument("--out", default=DEMO_OUT, metavar="OUT.mp4",
                   help="where the render goes (default: %(default)s)")
    p.add_argument("--seconds", type=_seconds, default=None, metavar="N",
                   help="render only the first N seconds (default: all of it, ~40 s)")
    p.add_argument("--model", choices=MODELS, default=None,
                   help="default: what the patch says (auto: the best model present)")
    p.add_argument("--fps", type=_fps, default=30.0, metavar="30|50|60", help=FPS_CHOICES_HELP)
    p.add_argument("--no-window", action="store_true", help="render a video even with a display")
    p.add_argument("--patch", metavar="FILE", default=None,
                   help="perform another patch (default: patches/default.patch)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace OUT even when it is not an earlier demo render")
    p.add_argument("--device", default=None, help="torch device for the engine (default: best)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_demo)


# -- bench render ----------------------------------------------------------------------------------

def cmd_bench_render(args) -> int:
    import tempfile

    from graph_runtime.render.request import RenderRequest

    if args.track is None:
        from hambajuba_nodes.content.demo_track import ensure_demo

        demo = ensure_demo(say=_say)
        track, stems = str(demo.path), str(demo.stems_dir)
    else:
        track, stems = args.track, args.stems
    patch = args.patch or str(DEFAULT_PATCH)
    with tempfile.TemporaryDirectory(prefix="hambajuba-bench-render-") as tmp:
        req = RenderRequest(track=track, patch=patch, out=os.path.join(tmp, "bench.mp4"),
                            model=args.model, fps=args.fps, start=args.start,
                            seconds=args.seconds, stems_dir=stems, device=args.device)
        code, result = _run_render(req, quiet=args.json)
    if result is None:
        return code
    st = result.stats
    report = {"frames": result.frames, "fps": round(st["fps"], 2),
              "steady_fps": round(st["steady_fps"], 2), "model": result.model,
              "preview": result.preview, "size": list(result.image_size),
              "render_fps": args.fps,
              "share": {k: round(v, 4) for k, v in st["share"].items()},
              "busy_s": {k: round(v, 3) for k, v in st["busy_s"].items()},
              "overhead_share": round(st["overhead_share"], 4),
              "first_frame_engine_s": round(st["first_frame_engine_s"], 3),
              "setup_s": {k: round(v, 3) for k, v in st["setup_s"].items()}}
    if args.json:
        print(json.dumps(report, sort_keys=True))
        return 0
    w, h = result.image_size
    kind = "untrained preview" if result.preview else result.model
    _say(f"render: {result.frames} frames {w}x{h} at {args.fps:g} fps, model {kind}")
    _say(f"  {st['fps']:.1f} frames/s overall, {st['steady_fps']:.1f} after the first frame "
         f"(first engine call {st['first_frame_engine_s']:.2f} s)")
    _say("  stage     busy s   share of wall time (steady state)")
    notes = {"plan": "main thread", "engine": "main thread",
             "handoff": "main: copy to the encoder, incl. waits",
             "encode": "worker, overlaps the engine", "mux": "worker: audio + file, + finish"}
    for k, v in st["busy_s"].items():
        _say(f"  {k:<8} {v:7.3f}   {100 * st['share'][k]:5.1f}%   {notes[k]}")
    _say(f"  overhead beyond the engine: {100 * st['overhead_share']:.1f}% of wall time "
         "(target < 15% on the preview model)")
    setup = ", ".join(f"{k} {v:.2f} s" for k, v in st["setup_s"].items())
    _say(f"  setup (not in the shares): {setup}")
    return 0


def add_bench_render_parser(sub) -> None:
    p = sub.add_parser("render", help="frames per second of `render` and each stage's share")
    p.add_argument("--track", metavar="FILE", default=None,
                   help="audio to render (default: the demo track, with its true stems)")
    p.add_argument("--stems", metavar="DIR", default=None)
    p.add_argument("--patch", metavar="FILE", default=None,
                   help="patch (default: patches/default.patch)")
    p.add_argument("--model", choices=MODELS, default="preview")
    p.add_argument("--fps", type=_fps, default=30.0, metavar="30|50|60")
    p.add_argument("--start", type=_seconds, default=0.0, metavar="S")
    p.add_argument("--seconds", type=_seconds, default=10.0, metavar="N")
    p.add_argument("--device", default=None)
    p.add_argument("--json", action="store_true", help="one JSON line")
    p.set_defaults(func=cmd_bench_render)

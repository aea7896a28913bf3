"""`hambajuba perform TRACK [--patch FILE] ...` and `hambajuba bench ui`.

perform opens the instrument window playing TRACK with the patch. With
--quit-after it plays that many seconds, saves --screenshot (a PNG of the
whole window) and exits, so a performance can be checked without a person:
exit code 0 when the patch and the track opened, 2 when one of them did not
(each problem printed on its own line; the window showed it too), 1 when
there is no display to open a window on.
"""
from __future__ import annotations

import argparse
import os
import sys


def add_perform_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("perform", help="open the instrument window and play a track",
                              description="Open the patcher window: patch stems to SAE features "
                                          "while the track plays and the model responds.")
    p.add_argument("track", nargs="?", help="audio file to play (wav, flac, ogg, mp3)")
    p.add_argument("--patch", help=".patch file to open (default: patches/default.patch when present)")
    p.add_argument("--model", choices=("auto", "preview", "sdxl-turbo"), default=None,
                   help="engine model; default: what the patch says (auto = SDXL-Turbo when its "
                        "weights are present, else the untrained preview)")
    p.add_argument("--size", type=int, default=None,
                   help="image size in pixels (multiple of 64, 128..1024; default: the patch's)")
    p.add_argument("--no-engine", action="store_true", help="patch and meters only, no images")
    p.add_argument("--engine", metavar="HOST:PORT", default=None,
                   help="render on `hambajuba serve` at HOST:PORT instead of this machine")
    p.add_argument("--token-file", metavar="F", default=None,
                   help="with --engine: file holding the server's shared secret")
    p.add_argument("--in-flight", type=int, default=2, metavar="N",
                   help="with --engine: frames on the wire at once, 1..32 (default %(default)s; "
                        "raise it to cover a long round trip); frames travel as JPEG q85")
    p.add_argument("--null-audio", action="store_true",
                   help="do not open an audio device; keep time with the system clock")
    p.add_argument("--synthetic-analysis", action="store_true",
                   help="skip the track's analysis: a synthetic 120 BPM grid drives the patch "
                        "(a quick look at the window; the patch then reacts to no stem)")
    p.add_argument("--quit-after", type=float, default=None, metavar="SECONDS",
                   help="play this long, then exit (scripted runs)")
    p.add_argument("--screenshot", default=None, metavar="FILE.png",
                   help="with --quit-after: save the window to this PNG before exiting")
    p.add_argument("--view", choices=("image", "character"), default="image",
                   help="start in the character view: hambajuba around the image, in the window, "
                        "the output window, the MJPEG stream and recordings (F8 toggles)")
    p.add_argument("--canvas", metavar="WxH", default="1280x720",
                   help="the character view's frame size (default 1280x720)")
    from .character import add_skin_option

    add_skin_option(p)
    p.add_argument("--width", type=int, default=1600)
    p.add_argument("--height", type=int, default=960)
    from .stage import add_stage_flags

    add_stage_flags(p)  # --output-window [--monitor N] [--fullscreen], --serve-output, --record
    p.add_argument("--midi", action="append", default=[], metavar="PORT",
                   help="open this MIDI input port (repeatable; `hambajuba midi ports` lists them)")
    p.add_argument("--osc", default=None, metavar="[HOST:]PORT",
                   help="listen for OSC on this UDP port (host defaults to 127.0.0.1)")
    p.add_argument("--osc-out-host", action="append", default=[], metavar="HOST",
                   help="let the patch's osc.out nodes send to HOST (repeatable); without it "
                        "a patch sends OSC only to this machine")
    p.add_argument("--mcp", action="store_true",
                   help="let agents play: open the local control endpoint for `hambajuba mcp` "
                        "(loopback, token file in your data folder; F12 freezes agents) and "
                        "print the MCP client configuration")
    p.add_argument("--midi-clock-out", default=None, metavar="PORT",
                   help="send MIDI clock (24 ppqn, start/stop/continue) following hambajuba's "
                        "tempo to this MIDI output port")
    p.add_argument("--osc-beat-out", default=None, metavar="[HOST:]PORT",
                   help="send /hambajuba/beat, /bar and /tempo on every beat to this UDP port "
                        "(host 127.0.0.1 unless given; other hosts need --osc-out-host)")
    p.add_argument("--input", nargs="?", const="", default=None, metavar="DEVICE|FILE",
                   help="play from live input instead of a track: the default input device, a "
                        "device (name or index, see `hambajuba audio devices`), or an audio file "
                        "fed through the live path at real-time pace")
    p.add_argument("--monitor-out", nargs="?", const="", default=None, metavar="DEVICE",
                   help="with --input: play the live input to this output device too (a headphone "
                        "cue; name or index, default output without one); the Input tab shows its "
                        "latency. No such device: a warning, and the show goes on")
    p.add_argument("--monitor-gain", type=float, default=0.0, metavar="DB",
                   help="gain of the --monitor-out cue in dB, -48..12 (default 0)")
    p.set_defaults(func=run_perform)
    return p


def add_bench_ui_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("ui", help="the window's own per-frame work with 40 nodes",
                              description="Times the UI's per-frame work (callbacks, plan, meters, "
                                          "transport), not the engine or the texture upload. Opens "
                                          "a window (a private Xvfb when there is no display).")
    p.add_argument("--frames", type=int, default=600)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_bench_ui)
    return p


def _default_patch() -> str | None:
    from .common import default_patch

    return default_patch()


def run_perform(args) -> int:
    problems = []
    if args.quit_after is not None and args.quit_after < 0:
        problems.append("--quit-after must be >= 0 seconds")
    if args.screenshot and args.quit_after is None:
        problems.append("--screenshot needs --quit-after (the picture is taken when it ends)")
    if args.screenshot and not args.screenshot.lower().endswith(".png"):
        problems.append(f"--screenshot {args.screenshot}: give a .png file name")
    if args.size is not None and (args.size % 64 or not 128 <= args.size <= 1024):
        problems.append(f"--size {args.size}: a multiple of 64 in 128..1024")
    from .remote import engine_token

    token = engine_token(args, problems)  # --engine HOST:PORT, --token-file F
    if not 1 <= args.in_flight <= 32:
        problems.append(f"--in-flight {args.in_flight}: use 1..32 frames")
    from .stage import check_stage_flags, stage_kwargs

    check_stage_flags(args, problems)
    if args.osc_out_host:  # the user's permission, read by osc.out when the patch compiles
        from graph_runtime.control.osc import OUT_HOSTS_ENV

        os.environ[OUT_HOSTS_ENV] = ",".join(args.osc_out_host)
    if args.osc is not None:  # a malformed --osc is refused before any window opens
        from graph_runtime.control.osc import OscError, parse_endpoint
        try:
            parse_endpoint(args.osc)
        except OscError as e:
            problems.append(str(e))
    if args.monitor_out is not None and args.input is None:
        problems.append("--monitor-out plays the live input: give --input too")
    if not -48.0 <= args.monitor_gain <= 12.0:
        problems.append(f"--monitor-gain {args.monitor_gain}: use -48..12 dB")
    character = _character_options(args, problems)
    if problems:
        for line in problems:
            print(f"hambajuba perform: {line}", file=sys.stderr)
        return 2
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print("hambajuba perform: no display to open a window on; `hambajuba render` makes a "
              "video without one", file=sys.stderr)
        return 1
    from graph_runtime.show.options import ShowOptions
    from hambajuba_nodes.editor.app import App

    app = App(ShowOptions(patch_path=args.patch or _default_patch(), track_path=args.track,
              model=args.model, engine=not args.no_engine,
              audio="null" if args.null_audio else "auto", size=args.size,
              width=args.width, height=args.height, autoplay=True,
              analyze=_synthetic_analyze if args.synthetic_analysis else None,
              engine_address=args.engine, engine_token=token, engine_in_flight=args.in_flight,
              **stage_kwargs(args),
              midi=tuple(args.midi), osc=args.osc, live_input=args.input, mcp=args.mcp,
              monitor_out=args.monitor_out, monitor_gain_db=args.monitor_gain,
              character=character, clock_out=args.midi_clock_out, beat_out=args.osc_beat_out))
    if args.mcp and app.agent is not None and app.agent.endpoint is not None:
        from hambajuba_nodes.editor.agent_control import client_config

        print("MCP: agents may play this show. Paste into your MCP client's configuration:\n"
              + client_config(), flush=True)
    code = app.run(quit_after=args.quit_after, screenshot=args.screenshot)
    for line in app.exit_problems:
        print(f"hambajuba perform: {line}", file=sys.stderr)
    if args.screenshot and code == 0:
        print(f"screenshot: {os.path.abspath(args.screenshot)}")
    return code


def _character_options(args, problems: list[str]) -> dict:
    """--view, --skin, --canvas checked before the window opens (a bad skin: one line)."""
    from graph_runtime.stage.character.skin import SkinError, load_skin

    from .character import parse_canvas

    out = {"view": args.view, "skin": args.skin}
    try:
        out["canvas"] = parse_canvas(args.canvas)
        load_skin(args.skin)
    except (ValueError, SkinError) as e:
        problems.append(str(e))
    return out


def _synthetic_analyze(path, progress, duration):
    from graph_runtime.analysis.store import synthetic

    return synthetic(max(duration, 0.1)), "synthetic analysis (--synthetic-analysis)"


def run_bench_ui(args) -> int:
    from hambajuba_nodes.editor.bench import bench_ui

    result = bench_ui(args.frames)
    if args.json:
        import json

        print(json.dumps(result, sort_keys=True))
    else:
        print(f"ui per-frame work, {result['nodes']} nodes, {result['frames']} frames: "
              f"p50 {result['p50_us']:.0f} us, p99 {result['p99_us']:.0f} us, "
              f"max {result['max_us']:.0f} us (target p99 < 2000 us)\n"
              f"  the same in CPU time: p50 {result['cpu_p50_us']:.0f} us, "
              f"p99 {result['cpu_p99_us']:.0f} us  (load average {result['load_avg']:.1f} "
              f"on {result['cpus']} CPUs)\n"
              f"  Dear PyGui drawing (not in the figure): p50 {result['render_p50_us'] / 1000:.1f} ms")
    return 0

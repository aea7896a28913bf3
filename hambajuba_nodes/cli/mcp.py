"""`hambajuba mcp`: an MCP server over stdio that lets an agent read, patch and play a show.

It attaches to a running `hambajuba perform --mcp` through the endpoint
file in the user's data folder; with no show running (or a stale file left
by a killed one), or with --patch / --track / --record / --standalone, it
runs a show of its own without a window (graph_runtime/agent/standalone.py)
on the default patch or the one given. Its stdout carries only MCP
messages; everything else goes to stderr. See docs/agent.md.
"""
from __future__ import annotations

import argparse
import os
import sys

MODELS = ("auto", "preview", "sdxl-turbo")


def add_mcp_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("mcp", help="an MCP server (stdio) for agents: attach to "
                                          "`perform --mcp`, or run a show without a window",
                              description="Model Context Protocol server over stdio. Attaches to "
                                          "a running `hambajuba perform --mcp`; otherwise runs a "
                                          "show of its own with no window. See docs/agent.md.")
    p.add_argument("--patch", help=".patch file (standalone; default: patches/default.patch)")
    p.add_argument("--track", help="audio file to play (standalone); 'demo' = the demo track")
    p.add_argument("--stems", metavar="DIR", help="the track's true stems (no separation)")
    p.add_argument("--model", choices=MODELS, default=None,
                   help="engine model for frames, feature search and previews "
                        "(default: what the patch says; auto falls back to the preview)")
    p.add_argument("--size", type=int, default=None,
                   help="standalone image size in pixels (multiple of 64, 128..1024; default: "
                        "the patch's)")
    p.add_argument("--standalone", action="store_true",
                   help="never attach to a running show")
    p.add_argument("--record", metavar="OUT.mp4", default=None,
                   help="standalone: render the show frame by frame (agent edits included) "
                        "to this video, as fast as the engine goes")
    p.add_argument("--seconds", type=float, default=None, help="with --record: this many seconds")
    p.add_argument("--fps", type=float, default=None,
                   help="standalone frame rate (default 30; with --record 15)")
    p.set_defaults(func=run_mcp)
    return p


def _say(text: str) -> None:
    print(f"hambajuba mcp: {text}", file=sys.stderr, flush=True)


def run_mcp(args) -> int:
    problems = _check(args)
    if problems:
        for line in problems:
            _say(line)
        return 2
    from graph_runtime.agent.link import InboxLink, SocketLink
    from graph_runtime.agent.server import FeatureIndex, build_server
    from graph_runtime.control.endpoint import read_endpoint
    from hambajuba_nodes.registry import default_registry

    registry = default_registry()
    link, host = None, None
    explicit = args.standalone or args.patch or args.track or args.record or args.size
    if not explicit:
        doc, why = read_endpoint()
        if doc is not None:
            try:
                link = SocketLink(doc)
                _say(f"attached to the show (pid {doc['pid']}) on {doc['host']}:{doc['port']}")
            except Exception as e:
                why = f"cannot attach to the show ({e})"
        if link is None:
            _say(f"{why}; running standalone")
    track, stems = _track(args)
    if link is None:
        host = _standalone(args, registry, track, stems)
        if host is None:
            return 2
        link = InboxLink(host.show.control.inbox)
    model = args.model or "auto"
    server = build_server(link, registry, features=FeatureIndex(model), model=model,
                          stems_dir=stems, size=args.size)
    try:
        server.run("stdio")
    finally:
        link.close()
        if host is not None:
            host.stop()
    return 0


def _check(args) -> list[str]:
    bad = []
    if args.patch and not os.path.isfile(args.patch):
        bad.append(f"--patch {args.patch}: no such file")
    if args.track and args.track != "demo" and not os.path.isfile(args.track):
        bad.append(f"--track {args.track}: no such file (or 'demo' for the demo track)")
    if args.stems and not os.path.isdir(args.stems):
        bad.append(f"--stems {args.stems}: no such folder")
    if args.record and not args.record.lower().endswith(".mp4"):
        bad.append(f"--record {args.record}: give an .mp4 file name")
    if args.record and not args.track:
        bad.append("--record needs --track (the video is clocked by the track)")
    if args.seconds is not None and not 0 < args.seconds <= 3600:
        bad.append("--seconds must be in (0, 3600]")
    if args.size is not None and (args.size % 64 or not 128 <= args.size <= 1024):
        bad.append(f"--size {args.size}: a multiple of 64 in 128..1024")
    if args.fps is not None and not 1 <= args.fps <= 120:
        bad.append("--fps must be 1..120")
    return bad


def _track(args) -> tuple[str | None, str | None]:
    if args.track != "demo":
        return args.track, args.stems
    from hambajuba_nodes.content.demo_track import ensure_demo

    demo = ensure_demo(say=_say)
    return str(demo.path), str(demo.stems_dir)


def _standalone(args, registry, track, stems):
    from graph_runtime.agent.standalone import StandaloneShow
    from graph_runtime.graph.patch import Patch, PatchError, load
    from graph_runtime.show.headless_show import HeadlessShow
    from hambajuba_nodes.cli.common import default_patch

    path = args.patch or default_patch()
    try:
        patch = load(path) if path else Patch()
    except (PatchError, OSError) as e:
        _say(f"{path}: {e}")
        return None
    fps = args.fps or (15.0 if args.record else 30.0)
    show = HeadlessShow(patch, registry=registry, fps=fps)
    if path:
        show.live.set_base_dir(os.path.dirname(os.path.abspath(path)))
    model = args.model or str(patch.engine.get("model", "auto"))
    size = args.size or int(patch.engine.get("size", 512))

    def engine():  # on the loader thread; frames one at a time, so no compile
        from graph_runtime.render.engines import create_engine

        return create_engine(model, size, "cpu" if model == "preview" else None,
                             compile="none", warmup=False)

    def analyse():
        from graph_runtime.analysis.pipeline import analyze

        return analyze(track, stems_dir=stems)

    host = StandaloneShow(show, track=track, patch_path=path, engine_factory=engine, fps=fps,
                          record=args.record, seconds=args.seconds, say=_say)
    preview = " (preview model: tiny, untrained, random weights)" if model == "preview" else ""
    _say(f"standalone show: {path or 'an empty patch'}"
         + (f", track {track}" if track else ", no track")
         + f", engine {model} (loads on first frame){preview}")
    return host.start(analyse if track else None)

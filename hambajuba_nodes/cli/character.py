"""`hambajuba character show|reset` and `hambajuba bench character`.

Exit codes as in cli/__init__.py: 0 done, 2 bad input (a bad skin: one line
naming the file and the field, no traceback), 1 anything else.
"""
from __future__ import annotations

import json
import os
import re
import sys


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def parse_canvas(text: str) -> tuple[int, int]:
    """'1280x720' -> (1280, 720); ValueError with a one-line reason."""
    m = re.fullmatch(r"(\d{2,5})[xX](\d{2,5})", text or "")
    if not m:
        raise ValueError(f"--canvas {text}: give WIDTHxHEIGHT, e.g. 1280x720")
    w, h = int(m.group(1)), int(m.group(2))
    if not (320 <= w <= 7680 and 180 <= h <= 4320):
        raise ValueError(f"--canvas {text}: between 320x180 and 7680x4320")
    return w, h


def _skin(spec):
    from graph_runtime.stage.character.skin import SkinError, load_skin

    try:
        return load_skin(spec), None
    except SkinError as e:
        return None, str(e)


def _creature(spec):
    """(creature, problem): None = the user's own (read only)."""
    from graph_runtime.stage.character.creature import open_snapshot

    try:
        creature, warning = open_snapshot(spec)
    except FileNotFoundError as e:
        return None, str(e)
    if warning:
        _err(f"hambajuba: {warning}")
    return creature, None


def cmd_show(args) -> int:
    from graph_runtime.stage.character.still import save_png, still

    try:
        width, height = parse_canvas(args.canvas)
    except ValueError as e:
        _err(f"hambajuba character show: {e}")
        return 2
    skin, problem = _skin(args.skin)
    if problem:
        _err(problem)
        return 2
    creature, problem = _creature(args.creature)
    if problem:
        _err(problem)
        return 2
    out = args.out or f"hambajuba-{skin.name}.png"
    if not out.lower().endswith(".png"):
        _err(f"--out {out}: must end in .png")
        return 2
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        _err(f"--out {out}: no such folder {folder}")
        return 2
    try:
        save_png(still(skin, creature, width, height), out)
    except OSError as e:
        _err(f"--out {out}: cannot write it ({e.strerror})")
        return 1
    c = creature
    tempo = f", {c.tempo_min:.0f}-{c.tempo_max:.0f} BPM" if c.tempo_max > 0 else ""
    print(f"wrote {out}: hambajuba in the {skin.name} skin, {width}x{height}; he has heard "
          f"{c.tracks_played} tracks, {c.minutes:.0f} min{tempo}")
    return 0


def cmd_reset(args) -> int:
    from graph_runtime.stage.character.creature import creature_path, fresh

    path = creature_path()
    if not args.yes:
        if not sys.stdin.isatty():
            _err(f"hambajuba character reset: this forgets everything in {path}; "
                 "pass --yes to confirm without a terminal")
            return 2
        answer = input(f"start hambajuba over? he forgets all the music he has heard "
                       f"({path}) [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("kept him as he is")
            return 0
    try:
        fresh().save(path)
    except OSError as e:
        _err(f"{path}: cannot write it ({e.strerror})")
        return 1
    print(f"hambajuba starts over: {path}")
    return 0


def cmd_bench(args) -> int:
    from graph_runtime.stage.character.bench import bench
    from graph_runtime.stage.character.skin import SkinError

    try:
        width, height = parse_canvas(args.canvas)
        report = bench(args.skin, width, height, frames=args.frames)
    except (ValueError, SkinError) as e:
        _err(str(e))
        return 2
    if args.json:
        print(json.dumps(report, sort_keys=True))
        return 0
    print(f"character on {report['canvas']} ({report['skin']} skin, {report['image']} px heart): "
          f"p50 {report['p50_ms']:.3f} ms, p99 {report['p99_ms']:.3f} ms, max "
          f"{report['max_ms']:.3f} ms over {report['frames']} frames "
          f"(target p99 <= {report['target_p99_ms']:g} ms); prepare {report['prepare_s']:.2f} s")
    return 0


def add_skin_option(p) -> None:
    p.add_argument("--skin", metavar="NAME|PATH", default=None,
                   help="terminal (default), candy, nightshift, or a .skin file / skin folder")


def add_character_parser(sub) -> None:
    p = sub.add_parser("character", help="hambajuba himself: show him, or start him over")
    acts = p.add_subparsers(dest="character_command", metavar="ACTION")
    show = acts.add_parser("show", help="draw him as he is now into a PNG")
    add_skin_option(show)
    show.add_argument("--out", metavar="PNG", default=None,
                      help="where to write (default: hambajuba-<skin>.png here)")
    show.add_argument("--canvas", metavar="WxH", default="1280x720")
    show.add_argument("--creature", metavar="fresh|PATH", default=None,
                      help="draw another creature file, or a newborn (default: yours)")
    show.set_defaults(func=cmd_show)
    reset = acts.add_parser("reset", help="start him over (asks first)")
    reset.add_argument("--yes", action="store_true", help="do not ask")
    reset.set_defaults(func=cmd_reset)
    p.set_defaults(_parser=p)


def add_bench_character_parser(sub) -> None:
    p = sub.add_parser("character", help="per-frame cost of the character view (p99 ms)")
    add_skin_option(p)
    p.add_argument("--canvas", metavar="WxH", default="1280x720")
    p.add_argument("--frames", type=int, default=1200)
    p.add_argument("--json", action="store_true", help="one JSON line")
    p.set_defaults(func=cmd_bench)

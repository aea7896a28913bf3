"""`hambajuba batch ...`, `render --ray`, `render --controls-only`, `analyze DIR --ray`.

Ray is optional (`pip install 'hambajuba[ray]'`): without it, --ray says how
to install it, and batch without --ray renders the tracks one after another
in this process.
"""
from __future__ import annotations

import os
import sys

from .common import DEFAULT_PATCH, FPS_CHOICES_HELP, MODELS, _err, _fps, _say, _seconds, _term_as_interrupt

LOCAL = "local"  # `--ray` given without an address: start Ray on this machine


def ray_address(value: str | None) -> str | None:
    return None if value in (None, LOCAL) else value


def add_ray_options(p, *, what: str) -> None:
    p.add_argument("--ray", nargs="?", const=LOCAL, default=None, metavar="ADDRESS",
                   help=f"{what} on Ray: alone, Ray starts on this machine; with an address "
                        "(auto, ray://HOST:10001) it joins that cluster")


def add_render_scale_options(p) -> None:
    add_ray_options(p, what="render chunks in parallel")
    p.add_argument("--chunk-seconds", type=_seconds, default=10.0, metavar="S",
                   help="with --ray: seconds of video per task (default %(default)s)")
    p.add_argument("--controls-only", action="store_true",
                   help="write only the control track (every frame's FrameParams) to --out OUT.npz")
    p.add_argument("--cpu-threads", type=int, default=None, metavar="N",
                   help="torch threads for an engine on the CPU (with --ray: per worker, default 1)")


def cmd_render_scaled(args, req) -> int:
    """render with --ray or --controls-only; None-returning callers fall back to render()."""
    from graph_runtime.render.request import RenderError, RenderInterrupted

    from ..registry import default_registry

    say = _say if not args.quiet else (lambda _l: None)
    try:
        with _term_as_interrupt():
            if args.controls_only:
                return _controls_only(args, req, default_registry(), say)
            from graph_runtime.scale.distributed import ray_render

            result = ray_render(req, default_registry(), address=ray_address(args.ray),
                                chunk_seconds=args.chunk_seconds, progress=not args.quiet, say=say,
                                warn=_err)  # a refused scene is said even with -q
    except RenderInterrupted as e:
        _err(f"hambajuba: {e}")
        return 130
    except RenderError as e:
        for p in e.problems:
            _err(p)
        return e.code
    _say(f"wrote {result.path}: {result.frames} frames, {result.seconds:.2f} s at "
         f"{result.fps:g} fps (ray, {result.stats['fps']:.1f} frames/s overall, control track "
         f"{result.stats['control_phase_s']:.2f} s); what made it: {result.sidecar}")
    return 0


def _controls_only(args, req, registry, say) -> int:
    from graph_runtime.scale.render_job import write_controls

    if not req.out:
        _err("--controls-only: give --out OUT.npz for the control track")
        return 2
    track = write_controls(req, registry, req.out, say=say)
    _say(f"wrote {req.out}: control track of {track.frames} frames at {track.fps:g} fps, "
         f"{len(track.scenes)} scene(s)")
    return 0


# -- batch -----------------------------------------------------------------------------

def add_batch_parser(sub) -> None:
    p = sub.add_parser("batch", help="render many tracks with one patch (optionally on Ray)",
                       description="Analyse and render every track (files, or every audio file "
                                   "in the folders given) into OUT DIR, one video per track; a "
                                   "track that fails is reported in the summary, the rest go on.")
    p.add_argument("tracks", nargs="+", metavar="TRACK_OR_DIR")
    p.add_argument("--patch", metavar="FILE", default=str(DEFAULT_PATCH))
    p.add_argument("--out", metavar="DIR", required=True, help="folder for the videos")
    p.add_argument("--frames-dir", action="store_true",
                   help="write a folder of JPEG frames per track instead of an MP4")
    p.add_argument("--model", choices=MODELS, default=None)
    p.add_argument("--fps", type=_fps, default=30.0, metavar="30|50|60", help=FPS_CHOICES_HELP)
    p.add_argument("--start", type=_seconds, default=0.0, metavar="S")
    p.add_argument("--seconds", type=_seconds, default=None, metavar="N")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--device", default=None)
    add_render_scale_options(p)
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_batch)


def _tracks(items: list[str]) -> list[str]:
    from graph_runtime.media.audio_file import AUDIO_EXTENSIONS

    out = []
    for item in items:
        if os.path.isdir(item):
            out += sorted(os.path.join(item, n) for n in os.listdir(item)
                          if n.lower().endswith(AUDIO_EXTENSIONS))
        else:
            out.append(item)
    return out


def output_names(tracks: list[str]) -> list[str]:
    """One distinct output name per track: its file stem, with its folder's name in
    front where two tracks share a stem (a/intro.wav, b/intro.wav -> a-intro, b-intro),
    and a number after where even that collides."""
    stems = [os.path.splitext(os.path.basename(t))[0] for t in tracks]
    names = [f"{os.path.basename(os.path.dirname(os.path.abspath(t))) or 'track'}-{s}"
             if stems.count(s) > 1 else s for t, s in zip(tracks, stems)]
    taken: set[str] = set()
    out = []
    for name in names:
        unique, n = name, 2
        while unique.lower() in taken:
            unique, n = f"{name}-{n}", n + 1
        taken.add(unique.lower())
        out.append(unique)
    return out


def _requests(args, tracks: list[str]):
    from graph_runtime.render.request import RenderRequest

    reqs = []
    for t, stem in zip(tracks, output_names(tracks)):
        target = os.path.join(args.out, stem if args.frames_dir else stem + ".mp4")
        reqs.append(RenderRequest(track=t, patch=args.patch, out=None if args.frames_dir else target,
                                  frames_dir=target if args.frames_dir else None,
                                  model=args.model, fps=args.fps, start=args.start,
                                  seconds=args.seconds, overwrite=args.overwrite,
                                  device=args.device, cpu_threads=args.cpu_threads))
    return reqs


def cmd_batch(args) -> int:
    """Exit 0 all done, 1 a track failed, 130 Ctrl-C (the summary says what finished)."""
    tracks = _tracks(args.tracks)
    if not tracks:
        _err(f"batch: no audio files in {', '.join(args.tracks)}; give tracks or folders of them")
        return 2
    os.makedirs(args.out, exist_ok=True)
    from ..registry import default_registry

    reqs = _requests(args, tracks)
    say = _say if not args.quiet else (lambda _l: None)
    if args.ray is not None:
        rows = _batch_ray(args, reqs, default_registry(), say)
    else:
        rows = _batch_here(args, reqs, default_registry())
    if rows is None:
        return 1
    _print_table(rows)
    if any(r.interrupted for r in rows):
        done = sum(1 for r in rows if r.output and not r.error)
        _err(f"hambajuba batch: interrupted; {done} of {len(rows)} tracks finished (listed above)")
        return 130
    return 0 if all(not r.error for r in rows) else 1


def _batch_ray(args, reqs, registry, say):
    from graph_runtime.render.request import RenderError
    from graph_runtime.scale.distributed import batch

    try:
        with _term_as_interrupt():
            return batch(reqs, registry, address=ray_address(args.ray),
                         chunk_seconds=args.chunk_seconds, progress=not args.quiet, say=say,
                         warn=_err)
    except KeyboardInterrupt:  # while the tracks were analysed: nothing was rendered
        from graph_runtime.scale.distributed import BatchRow

        return [BatchRow(r.track, error="interrupted: not started", interrupted=True)
                for r in reqs]
    except RenderError as e:
        for p in e.problems:
            _err(p)
    return None


def _batch_here(args, reqs, registry):
    """No Ray: one track after another in this process (same table at the end).
    Ctrl-C stops the whole batch: the track being rendered keeps what it made as a
    shorter file (said in its row), and the tracks after it are not started."""
    from graph_runtime.render.loop import render
    from graph_runtime.render.request import RenderError, RenderInterrupted
    from graph_runtime.scale.distributed import BatchRow

    rows = [BatchRow(req.track) for req in reqs]
    try:
        for n, (req, row) in enumerate(zip(reqs, rows), 1):
            try:
                with _term_as_interrupt():
                    res = render(req, registry, progress=not args.quiet,
                                 say=_say if not args.quiet else (lambda _l: None), warn=_err)
                row.frames, row.seconds, row.output = res.frames, res.seconds, res.path
                if res.interrupted:
                    row.error = f"interrupted: kept the first {res.seconds:.2f} s"
            except RenderInterrupted:
                row.error = "interrupted: nothing kept"
                res = None
            except RenderError as e:
                row.error = "; ".join(e.problems)
                continue
            if res is None or res.interrupted:
                row.interrupted = True
                _not_started(rows[n:])
                break
            _say(f"done {n}/{len(rows)}: {os.path.basename(req.track)} -> {res.path}")
    except KeyboardInterrupt:  # between two tracks (a track's line said, the next not begun)
        _not_started([r for r in rows if not r.output and not r.error])
    return rows


def _not_started(rows) -> None:
    for row in rows:
        row.error, row.interrupted = "interrupted: not started", True


def _print_table(rows) -> None:
    width = max(len(os.path.basename(r.track)) for r in rows)
    _say(f"{'track':<{width}}  {'frames':>7}  {'seconds':>8}  output or error")
    for r in rows:
        what = r.output if not r.error else f"FAILED: {r.error}"
        _say(f"{os.path.basename(r.track):<{width}}  {r.frames:>7}  {r.seconds:>8.2f}  {what}")


# -- analyze DIR --ray -------------------------------------------------------------------

def cmd_analyze_library(args) -> int:
    """`analyze DIR|TRACK... --ray`: every readable track into the analysis cache."""
    from graph_runtime.render.request import RenderError
    from graph_runtime.scale.distributed import analyse_library

    tracks = _tracks([args.track])
    if not tracks:
        _err(f"analyze: no audio files in {args.track}")
        return 2
    try:
        found = analyse_library(tracks, address=ray_address(getattr(args, "ray", None)),
                                progress=sys.stderr.isatty(), stems=None)
    except RenderError as e:
        for p in e.problems:
            _err(p)
        return e.code
    bad = 0
    for path, a in zip(tracks, found):
        if isinstance(a, str):
            bad += 1
            _say(f"{os.path.basename(path)}: FAILED: {a}")
        else:
            _say(f"{os.path.basename(path)}: {a.bpm:.1f} BPM, cached at {a.meta.get('cache_path')}")
    return 1 if bad else 0


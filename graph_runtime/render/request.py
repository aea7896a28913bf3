"""The render request: what to render, checked before anything is made.

Cheap checks first (numbers, files, the output folder), then the patch and
the span of frames on the track's grid, then the analysis. Errors are
RenderError, one line each saying what to do next.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from ..graph.compiler import check
from ..graph.patch import PatchError, load
from ..media.video import SinkError, check_writable_folder, frames_dir_is_ours, track_duration

FPS_MIN, FPS_MAX = 1.0, 240.0


class RenderError(Exception):
    """Bad input or a failed render. `problems`: one line each, saying what to
    do next. `code`: 2 for bad input, 1 for anything else (the CLI's codes)."""

    def __init__(self, problems: list[str] | str, code: int = 2) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.code = code
        super().__init__("; ".join(self.problems))


class RenderInterrupted(RenderError):
    """Ctrl-C with nothing worth keeping (no frame yet, or a second Ctrl-C
    while finishing): nothing was written."""

    def __init__(self, message: str = "interrupted before the first frame; nothing was written"
                 ) -> None:
        super().__init__(message, code=130)


@dataclass
class RenderRequest:
    track: str
    patch: str  # path of the .patch file
    out: str | None = None  # the .mp4; or
    frames_dir: str | None = None  # a folder for JPEG frames instead
    model: str | None = None  # "auto" | "preview" | "sdxl-turbo"; None: what the patch says
    fps: float = 30.0
    start: float = 0.0  # seconds into the track
    seconds: float | None = None  # None: to the end of the track
    overwrite: bool = False
    stems_dir: str | None = None  # true stems: analysis skips separation
    device: str | None = None
    cpu_threads: int | None = None  # torch threads for an engine on the CPU (None: torch's choice)
    engine_address: str | None = None  # HOST:PORT of `hambajuba serve`: render there
    engine_token: bytes | None = None  # its shared secret (--token-file), if it asks for one
    engine_in_flight: int = 1  # frames on the wire at once (--in-flight): hides the round trip
    engine_codec: str = "raw"  # raw: lossless, frame-exact (default); jpeg: opt-in, smaller
    view: str = "image"  # "character": hambajuba drawn around the image (stage/character)
    canvas: tuple[int, int] = (1280, 720)  # the character view's (width, height), px
    skin: str | None = None  # NAME|PATH of his skin (None: the default)
    creature: str | None = None  # None: the user's creature (read only), "fresh", or a PATH


@dataclass
class RenderResult:
    path: str
    sidecar: str
    frames: int  # frames written
    requested_frames: int
    fps: float
    start: float  # seconds, on the frame grid
    model: str
    preview: bool
    interrupted: bool
    image_size: tuple[int, int] = (0, 0)  # (width, height) of the engine's frames
    noise_seeds: tuple[int, int] = (0, 1)  # the scene's seed_a, seed_b (set by the noise walk)
    stats: dict = field(default_factory=dict)
    clipped: dict = field(default_factory=dict)  # block -> strengths clipped at the bound
    analysis_tools: dict = field(default_factory=dict)  # separator, beat and pitch trackers used
    character: dict = field(default_factory=dict)  # --view character: skin, creature hash, sync
    warnings: list = field(default_factory=list)  # lines for the user (refused scenes), in the sidecar

    @property
    def seconds(self) -> float:
        return self.frames / self.fps


def _check_numbers(req: RenderRequest) -> list[str]:
    bad = []
    if not (isinstance(req.fps, (int, float)) and math.isfinite(req.fps)
            and FPS_MIN <= req.fps <= FPS_MAX):
        bad.append(f"--fps {req.fps:g} is out of range; use {FPS_MIN:g}..{FPS_MAX:g} "
                   "(30, 50 or 60 are usual)")
    if not (math.isfinite(req.start) and req.start >= 0):
        bad.append(f"--start {req.start:g} must be a number of seconds >= 0")
    if req.seconds is not None and not (math.isfinite(req.seconds) and req.seconds > 0):
        bad.append(f"--seconds {req.seconds:g} must be > 0 (or left out to render to the end)")
    return bad


def _check_output(req: RenderRequest) -> list[str]:
    if (req.out is None) == (req.frames_dir is None):
        return ["give exactly one of --out OUT.mp4 or --frames-dir DIR"]
    target = os.path.abspath(req.frames_dir if req.frames_dir else req.out)
    what = "--frames-dir" if req.frames_dir else "--out"
    if req.out is not None and not req.out.lower().endswith(".mp4"):
        return [f"--out {req.out}: must end in .mp4 (the render writes H.264 + AAC in MP4)"]
    try:
        check_writable_folder(os.path.dirname(target), f"{what} {target}")
    except SinkError as e:
        return [str(e)]
    if req.frames_dir:
        if os.path.exists(target) and not os.path.isdir(target):
            return [f"--frames-dir {target}: is a file; choose a folder"]
        if os.path.isdir(target) and os.listdir(target):
            if not req.overwrite:
                return [f"--frames-dir {target}: exists and is not empty; choose a new folder "
                        "or pass --overwrite"]
            if not frames_dir_is_ours(target):
                return [f"--frames-dir {target}: holds files a render did not write; "
                        "choose a new or empty folder (--overwrite only replaces frames)"]
        return []
    if os.path.isdir(target):
        return [f"--out {target}: is a folder; give a file name ending in .mp4"]
    if os.path.exists(target) and not req.overwrite:
        return [f"--out {target}: exists; pass --overwrite to replace it or choose another name"]
    return []


def _load_patch(path: str, registry) -> Any:
    if not os.path.isfile(path):
        raise RenderError(f"--patch {path}: no such file; give a .patch file "
                          "(patches/default.patch is the shipped one)")
    try:
        patch = load(path)
    except PatchError as e:
        raise RenderError([p if p.startswith(path) else f"{path}: {p}"
                           for p in e.problems]) from None
    errors = check(patch, registry).errors
    if errors:
        raise RenderError([f"{path}: {p}" for p in errors]
                          + [f"{path}: fix the patch (hambajuba patch validate {path})"])
    return patch


def load_span(req: RenderRequest, registry, say: Callable[[str], None] = print):
    """(patch, first frame on the track's grid, frame count): the checked
    patch and the span of frames a render of `req` makes."""
    patch = _load_patch(req.patch, registry)
    try:
        duration = track_duration(req.track)
    except SinkError as e:
        raise RenderError(str(e)) from None
    first, count, notes = _frame_span(req, duration)
    for n in notes:
        say(n)
    return patch, first, count


def _frame_span(req: RenderRequest, duration: float) -> tuple[int, int, list[str]]:
    """(first frame index on the track's grid, frame count, notes)."""
    notes = []
    if req.start >= duration:
        raise RenderError(f"--start {req.start:g} is past the end of {req.track} "
                          f"({duration:.2f} s); give a start below {duration:.2f}")
    first = int(math.floor(req.start * req.fps + 1e-6))
    left = duration - first / req.fps
    seconds = left if req.seconds is None else req.seconds
    if seconds > left + 1e-6:
        notes.append(f"--seconds {req.seconds:g} runs past the end of the track: "
                     f"rendering {left:.2f} s to the end")
        seconds = left
    count = max(1, int(round(seconds * req.fps)))
    return first, count, notes


def _check_request(req: RenderRequest) -> None:
    """Everything that needs no patch, analysis or engine; raises RenderError."""
    problems = _check_numbers(req)
    if not os.path.isfile(req.track):
        problems.append(f"{req.track}: no such file; give an audio file (wav, flac, mp3, ogg)")
    problems += _check_output(req)
    if req.stems_dir and not os.path.isdir(req.stems_dir):
        problems.append(f"--stems {req.stems_dir}: no such folder; give the folder of "
                        "drums/bass/vocals/other files or leave --stems out")
    if problems:
        raise RenderError(problems)


def _analyse(req: RenderRequest, say) -> Any:
    from ..analysis.errors import AnalysisError
    from ..analysis.pipeline import analyze

    say(f"analysing {req.track} (cached after the first time)")

    def progress(stage: str, done: int, total: int) -> None:
        if done == 0:
            say(f"  analysis: {stage}")

    try:
        return analyze(req.track, stems_dir=req.stems_dir, progress=progress)
    except AnalysisError as e:
        raise RenderError(str(e)) from None

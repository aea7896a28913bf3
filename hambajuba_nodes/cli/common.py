"""What the command groups share: where the shipped example patches live
(the repository's patches/ folder), console lines, number arguments, and
SIGTERM as Ctrl-C for long renders."""
from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from pathlib import Path

PATCHES = Path(__file__).resolve().parents[2] / "patches"
DEFAULT_PATCH = PATCHES / "default.patch"


def default_patch() -> str | None:
    return str(DEFAULT_PATCH) if DEFAULT_PATCH.exists() else None


FPS_CHOICES_HELP = ("frames per second: 30, 50 or 60 (any of 1..240 is accepted; "
                    "default %(default)s)")
MODELS = ("auto", "preview", "sdxl-turbo")


def _say(line: str) -> None:
    print(line, flush=True)


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None


def _fps(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a frame rate (30, 50 or 60)") from None


@contextlib.contextmanager
def _term_as_interrupt():
    """SIGTERM during a render ends it like Ctrl-C: the frames made so far are
    kept as a valid shorter file (a killed job leaves no corrupt output)."""
    def on_term(signum, frame):
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)

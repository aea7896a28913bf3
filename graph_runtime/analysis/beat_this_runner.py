"""Beat This! (CPJKU, ISMIR 2024) when its checkpoint is on disk.

The checkpoint is looked up, never downloaded: a path the user gives
(--beat-checkpoint FILE), else beat_this-final0.ckpt (or any
beat_this-*.ckpt) in the torch hub cache, where the package's own download
would have put it. Beat This! works at 22050 Hz and 50 frames per second,
the grid the rest of the analysis uses. Loading goes through the package's
loader, which reads checkpoints with weights_only=True.

Its beats and downbeats are kept as they are; beat_grid.check_grid scores
the downbeats with the bar logic the fallback uses (meter.py) and adds the
tempo candidates, tempo range and downbeat confidence.
"""
from __future__ import annotations

import glob
import os

import numpy as np

from .errors import AnalysisError

DEFAULT_NAME = "beat_this-final0.ckpt"


def hub_checkpoints() -> str:
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch")
    return os.path.join(torch_home, "hub", "checkpoints")


def find_checkpoint(path=None) -> str | None:
    """The checkpoint to use; AnalysisError if a given path is not a file."""
    if path is not None:
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise AnalysisError(path, "is not a Beat This! checkpoint file",
                                "give the .ckpt file, or leave --beat-checkpoint out")
        return path
    folder = hub_checkpoints()
    preferred = os.path.join(folder, DEFAULT_NAME)
    if os.path.isfile(preferred):
        return preferred
    others = sorted(glob.glob(os.path.join(glob.escape(folder), "beat_this-*.ckpt")))
    return others[0] if others else None


_MODELS: dict = {}


def track(y: np.ndarray, *, sr: int, checkpoint: str) -> tuple[np.ndarray, np.ndarray]:
    """(beats, downbeats) in seconds for mono y at sr Hz."""
    try:
        from beat_this.inference import Audio2Beats
    except ImportError as e:
        raise AnalysisError(checkpoint, f"needs the beat_this package ({e})",
                            "pip install beat-this, or leave --beat-checkpoint out") from None
    from .device import analysis_device
    device = str(analysis_device())  # CUDA when available: Beat This! is a transformer
    key = (checkpoint, device)
    if key not in _MODELS:
        try:
            _MODELS[key] = Audio2Beats(checkpoint_path=checkpoint, device=device, dbn=False)
        except Exception as e:
            raise AnalysisError(checkpoint, f"is not a loadable Beat This! checkpoint "
                                f"({str(e).splitlines()[0] if str(e) else type(e).__name__})",
                                "replace it, or leave --beat-checkpoint out") from None
    beats, downbeats = _MODELS[key](np.asarray(y, np.float64), sr)
    return np.asarray(beats, np.float64), np.asarray(downbeats, np.float64)

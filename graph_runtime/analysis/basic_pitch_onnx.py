"""Polyphonic pitch salience for the "other" stem: Basic Pitch's bundled ONNX model.

Optional: used when the basic-pitch package is installed (pip install
--no-deps basic-pitch; only its model file is read, through onnxruntime,
so its TensorFlow/CoreML dependencies are not needed). Without it, the
other stem falls back to PESTO (pitch.py), which follows the strongest
single line.

The model reads 22050 Hz audio in windows of 43844 samples and returns a
pitch "contour" salience (n, 264): 3 bins per semitone from 27.5 Hz, one
frame per 256 samples. Windows overlap by 30 frames; 15 are dropped at
each side. Here the window hop is exactly the 142 frames kept (36352
samples), so frame g of the output sits at g * 256 / 22050 s with no drift.
pitch_hz is the most salient contour bin, parabolically refined.
"""
from __future__ import annotations

import importlib.util
import os

import numpy as np

BP_SR = 22050
BP_HOP = 256
WINDOW = 43844                 # samples per model call
EDGE = 15                      # frames dropped at each side of a window
KEPT = 172 - 2 * EDGE          # frames kept per window
WINDOW_HOP = KEPT * BP_HOP     # samples between windows (36352)
BINS_PER_SEMITONE = 3
BASE_HZ = 27.5
SALIENCE_FULL = 0.6            # contour salience that reads as confidence 1
_SESSION: dict = {}


def model_path() -> str | None:
    """Path of nmp.onnx inside the installed basic_pitch package, or None.

    Found without importing basic_pitch (its import probes for TensorFlow)."""
    spec = importlib.util.find_spec("basic_pitch")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = os.path.join(root, "saved_models", "icassp_2022", "nmp.onnx")
        if os.path.isfile(path):
            return path
    return None


def available() -> bool:
    return model_path() is not None and importlib.util.find_spec("onnxruntime") is not None


def _session():
    if "s" not in _SESSION:
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, min(4, os.cpu_count() or 1))
        opts.log_severity_level = 3
        # no busy-waiting threads: on a shared 2-core machine spinning costs more than it saves
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        _SESSION["s"] = ort.InferenceSession(model_path(), opts, providers=["CPUExecutionProvider"])
    return _SESSION["s"]


def contour_salience(y: np.ndarray, *, active_windows: np.ndarray | None = None) -> np.ndarray:
    """Contour salience (n_bp_frames, 264) for mono y at 22050 Hz; 0 in skipped windows."""
    session = _session()
    in_name = session.get_inputs()[0].name
    out_names = [o.name for o in session.get_outputs()]
    contour_name = next((n for n in out_names if n.endswith(":0")), out_names[-1])
    n_frames = int(np.ceil(len(y) / BP_HOP)) + 1
    padded = np.concatenate([np.zeros(EDGE * BP_HOP, np.float32), np.asarray(y, np.float32)])
    n_windows = max(1, int(np.ceil(n_frames / KEPT)))
    out = np.zeros((n_windows * KEPT, 88 * BINS_PER_SEMITONE), np.float32)
    batch, where = [], []
    for w in range(n_windows):
        if active_windows is not None and w < len(active_windows) and not active_windows[w]:
            continue
        seg = padded[w * WINDOW_HOP: w * WINDOW_HOP + WINDOW]
        batch.append(np.pad(seg, (0, WINDOW - len(seg)))[:, None])
        where.append(w)
        if len(batch) == 8 or w == n_windows - 1:
            _run(session, in_name, contour_name, batch, where, out)
            batch, where = [], []
    if batch:
        _run(session, in_name, contour_name, batch, where, out)
    return out[:n_frames]


def _run(session, in_name, contour_name, batch, where, out) -> None:
    contour = session.run([contour_name], {in_name: np.stack(batch).astype(np.float32)})[0]
    for w, c in zip(where, contour):
        out[w * KEPT:(w + 1) * KEPT] = c[EDGE:EDGE + KEPT]


def windows_active(active: np.ndarray, *, fps: float, n_samples: int) -> np.ndarray:
    """Which model windows contain any active grid frame, (n_windows,) bool."""
    n_frames = int(np.ceil(n_samples / BP_HOP)) + 1
    n_windows = max(1, int(np.ceil(n_frames / KEPT)))
    t_frame = np.arange(len(active)) / fps
    w_of = np.minimum((t_frame * BP_SR / WINDOW_HOP).astype(int), n_windows - 1)
    flags = np.zeros(n_windows, bool)
    flags[w_of[active.astype(bool)]] = True
    return flags


def track_stem(y: np.ndarray, *, sr: int, active: np.ndarray, fps: float = 50.0
               ) -> tuple[np.ndarray, np.ndarray]:
    """(hz, confidence) on the grid, (n_frames,) each, for mono y at sr Hz."""
    from .decode import resample

    n = len(active)
    if not active.any():
        return np.zeros(n, np.float32), np.zeros(n, np.float32)
    audio = resample(y, sr, BP_SR)
    sal = contour_salience(audio, active_windows=windows_active(active, fps=fps, n_samples=len(audio)))
    idx = np.clip(np.round(np.arange(n) / fps * BP_SR / BP_HOP).astype(int), 0, len(sal) - 1)
    sal = sal[idx]
    best = sal.argmax(axis=1)
    peak = sal[np.arange(n), best]
    left = sal[np.arange(n), np.maximum(best - 1, 0)]
    right = sal[np.arange(n), np.minimum(best + 1, sal.shape[1] - 1)]
    den = left - 2 * peak + right
    offset = np.where(np.abs(den) > 1e-9, 0.5 * (left - right) / np.where(den == 0, 1, den), 0.0)
    hz = BASE_HZ * 2.0 ** ((best + np.clip(offset, -0.5, 0.5)) / (12 * BINS_PER_SEMITONE))
    conf = np.clip(peak / SALIENCE_FULL, 0.0, 1.0)
    return hz.astype(np.float32), conf.astype(np.float32)

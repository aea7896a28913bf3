"""`hambajuba bench ui-analysis`: the window's frame rate while a track is analysed.

Opens the window (a private Xvfb when there is no display) on the default
patch with the engine off, measures frames per second for IDLE_S seconds,
then opens a generated track of `minutes` minutes (cache in a temporary
folder, so the analysis really runs) and measures frames per second until
the analysis is done (or `limit_s`), then idle again for IDLE_S (idle_fps
is the mean of both idle spells: other load on the machine drifts). The analysis runs where the window
runs it: in a niced child process (analysis_worker.py), or with
`in_process=True` on the window's own loader thread, as before.

Keys: idle_fps, analysing_fps, ratio (analysing / idle), analysis_s,
minutes, mode ("process" | "thread"), cpus.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time

import numpy as np

IDLE_S = 5.0


def write_track(path: str, minutes: float, sr: int = 44100) -> str:
    """A bass pulse at 120 BPM with a melody on top, 16-bit stereo, written in blocks."""
    import soundfile as sf

    n = int(minutes * 60 * sr)
    with sf.SoundFile(path, "w", samplerate=sr, channels=2, subtype="PCM_16") as f:
        for start in range(0, n, sr * 10):
            t = np.arange(start, min(n, start + sr * 10)) / sr
            env = np.exp(-((t * 2.0) % 1.0) * 8.0)
            mel = 220.0 * 2 ** (np.floor(t / 2.0) % 5 / 12.0)
            y = 0.3 * np.sin(2 * np.pi * 55 * t) * env + 0.08 * np.sin(2 * np.pi * mel * t)
            f.write(np.stack([y, y], 1).astype(np.float32))
    return path


def bench_ui_analysis(minutes: float = 5.0, *, in_process: bool = False, limit_s: float = 600.0) -> dict:
    from graph_runtime.media.playback import NullOutput
    from hambajuba_nodes.editor.display import ensure_display, release_display

    xvfb = ensure_display()
    folder = tempfile.mkdtemp(prefix="hambajuba-bench-")
    os.environ["HAMBAJUBA_CACHE"] = os.path.join(folder, "cache")
    if in_process:
        os.environ["HAMBAJUBA_ANALYSIS_IN_PROCESS"] = "1"
    else:
        os.environ.pop("HAMBAJUBA_ANALYSIS_IN_PROCESS", None)
    track = write_track(os.path.join(folder, "bench.wav"), minutes)
    from graph_runtime.show.options import ShowOptions
    from hambajuba_nodes.cli.common import default_patch
    from hambajuba_nodes.editor.app import App

    app = App(ShowOptions(patch_path=default_patch(), engine=False, output=NullOutput("bench: null audio"),
              config=os.path.join(folder, "config"), vsync=False, width=1400, height=900))
    try:
        idle = _fps(app, lambda: True, IDLE_S)
        t0 = time.monotonic()
        app.open_track(track)
        busy = _fps(app, lambda: app.transport.loading is not None, limit_s)
        analysis_s = time.monotonic() - t0
        _fps(app, lambda: app.transport.track is None and not app.transport.error, 10.0)  # install it
        ok = app.transport.track is not None
        error = app.transport.error
        idle_after = _fps(app, lambda: True, IDLE_S)  # the machine's load drifts: idle both sides
        idle = (idle + idle_after) / 2
    finally:
        app.close()
        release_display(xvfb)
        shutil.rmtree(folder, ignore_errors=True)  # the track (tens of MB) and its cache
    return {"idle_fps": round(idle, 1), "analysing_fps": round(busy, 1),
            "ratio": round(busy / idle, 3) if idle else 0.0, "analysis_s": round(analysis_s, 1),
            "analysed": ok, "error": error, "minutes": minutes, "mode": "thread" if in_process else "process",
            "cpus": os.cpu_count()}


def _fps(app, while_, limit_s: float) -> float:
    t0 = time.monotonic()
    frames = 0
    while while_() and time.monotonic() - t0 < limit_s:
        app.step()
        frames += 1
    return frames / max(time.monotonic() - t0, 1e-6)

"""Synthetic signals for the live tests: known tempo, known pitch, known level; fake
output devices for the monitor (the headphone cue)."""
from __future__ import annotations

import pathlib
import threading
import time

import numpy as np

SR = 44100

# the four rendered eval chorales (true stems, notes, beats): the first EXCERPT_S s of
# each, analysed offline (approx stems) and live, serve several accuracy tests
CASES = pathlib.Path("/work/shared/eval/cases")
EVAL_CASES = ("bwv253_92", "bwv269_150", "bwv347_174", "bwv66_6_120")
EXCERPT_S = 20


def pulses(n: int, period: float, strength: float, phase: float = 0.0) -> np.ndarray:
    """(n,) frames of silence with a pulse of `strength` every `period` frames from `phase`."""
    x = np.zeros(n)
    x[np.round(np.arange(phase, n - 1, period)).astype(int)] = strength
    return x


def tempo_each_second(x: np.ndarray, fps: float, share: list | None = None) -> np.ndarray:
    """(seconds,) the read-out tempo (BPM) of an OnlineBeatTracker fed the onset flux x
    (frames at fps, as onset and accent) through step and idle, the analysis thread's
    path, once a second; the level's share of the votes (the live panel's level
    confidence) appended to `share` at the same times."""
    from graph_runtime.live.beat_tracker import OnlineBeatTracker
    tr = OnlineBeatTracker(fps=fps)
    chroma = np.zeros(12)
    bpm = []
    for i, v in enumerate(x):
        tr.step(float(v), float(v), 0.0, chroma, chroma)
        tr.idle()
        if i % int(fps) == 0:
            bpm.append(tr.bpm)
            if share is not None:
                share.append(tr.level_share)
    return np.asarray(bpm)


def eval_pair_analyses(folder: pathlib.Path) -> dict:
    """case -> (offline approx analysis, live analysis) of its first EXCERPT_S seconds."""
    import soundfile as sf

    from graph_runtime.analysis.pipeline import analyze
    from graph_runtime.live.replay import analyse_file
    out = {}
    for case in EVAL_CASES:
        y, sr = sf.read(CASES / case / "mix.flac", dtype="float32")
        path = folder / f"{case}.wav"
        sf.write(path, y[:EXCERPT_S * sr], sr)
        out[case] = (analyze(str(path), separator="approx", use_cache=False), analyse_file(str(path)))
    return out


def drum_loop(seconds: float, *, bpm: float = 120.0, sr: int = SR, channels: int = 2,
              seed: int = 0, tone_hz: float | None = 220.0) -> np.ndarray:
    """Kick on 1 and 3, snare on 2 and 4, hats on eighths, a held tone: (n, channels) float32."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    y = np.zeros(n)
    period = 60.0 / bpm
    t = np.arange(int(0.15 * sr)) / sr
    kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-t * 40)) * t) * np.exp(-t * 18)
    snare = rng.standard_normal(len(t)) * np.exp(-t * 30) * 0.5
    hat = rng.standard_normal(len(t) // 4) * np.exp(-t[:len(t) // 4] * 120) * 0.2
    k = 0
    while k * period / 2 < seconds:
        at = int(k * period / 2 * sr)
        beat = k // 2
        if k % 2 == 0:
            src = kick if beat % 2 == 0 else snare
            end = min(n, at + len(src))
            y[at:end] += src[:end - at]
        end = min(n, at + len(hat))
        y[at:end] += hat[:end - at]
        k += 1
    if tone_hz:
        tt = np.arange(n) / sr
        y += 0.15 * sum(np.sin(2 * np.pi * tone_hz * h * tt) / h for h in range(1, 5))
    y = 0.5 * y / max(np.abs(y).max(), 1e-9)
    return np.repeat(y[:, None], channels, axis=1).astype(np.float32)


def blocks(x: np.ndarray, size: int):
    for i in range(0, x.shape[0] - size + 1, size):
        yield x[i:i + size]


def run_analyser(analyser, x: np.ndarray) -> list[np.ndarray]:
    """Push x through the analyser block by block; every complete row, copied."""
    rows = []
    half = None
    from graph_runtime.live import layout
    half = layout.STATUS_INDEX["half"]
    seen = 0
    for b in blocks(x, analyser.block):
        analyser.push(b.copy())
        ring = analyser.ring
        for r in range(seen, ring.written):
            row = ring.rows[r % ring.slots]
            if row[half] == 1.0:
                rows.append(row.copy())
        seen = ring.written
    return rows


class FakeOutput:
    """What sounddevice.OutputStream looks like to the Monitor; the test calls pull()."""

    instances: list = []
    refuse = False

    def __init__(self, *, device, samplerate, channels, blocksize, callback):
        if FakeOutput.refuse:
            raise RuntimeError("PortAudio: device unavailable")
        self.callback, self.blocksize, self.channels = callback, blocksize, channels
        self.samplerate = samplerate
        self.latency = 0.008
        self.out = np.zeros((blocksize, channels), np.float32)  # PortAudio's buffer, reused
        self.heard: list[np.ndarray] = []
        self.started = False
        FakeOutput.instances.append(self)

    def start(self):
        self.started = True

    def stop(self):
        self.started = False

    def close(self):
        pass

    def pull(self):
        self.out.fill(np.nan)                   # whatever was there: the callback must fill it
        self.callback(self.out, self.blocksize, None, None)
        self.heard.append(self.out.copy())


class PacedOutput(FakeOutput):
    """A null device with its own clock: pulls a block every block period on its own
    thread (as a sound card does) and notes which input samples each block held."""

    def start(self):
        super().start()
        self.marks: list[int] = []                    # ring.consumed after each pull
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        period, due = self.blocksize / self.samplerate, time.monotonic()
        monitor = self.callback.__self__
        while self.started:
            due += period
            time.sleep(max(0.0, due - time.monotonic()))
            self.pull()
            self.marks.append(monitor.ring.consumed)

    def stop(self):
        self.started = False
        if getattr(self, "thread", None) is not None:
            self.thread.join(2.0)

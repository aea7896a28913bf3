"""A click track over the music, to check a beat grid by ear (`analyze --click OUT.wav`).

Each beat is a short 1.5 kHz blip, each downbeat a louder 2.5 kHz one, mixed
over the track at MUSIC_GAIN so the clicks stand out. Written as 16-bit WAV
(stereo when the track is), atomically: the file appears whole or not at all.
"""
from __future__ import annotations

import io

import numpy as np

from graph_runtime.media.atomic import write_atomic

CLICK_S = 0.03
BEAT_HZ, DOWNBEAT_HZ = 1500.0, 2500.0
BEAT_GAIN, DOWNBEAT_GAIN = 0.35, 0.6
MUSIC_GAIN = 0.6


def _blip(hz: float, gain: float, sr: int) -> np.ndarray:
    t = np.arange(int(CLICK_S * sr)) / sr
    return (gain * np.sin(2 * np.pi * hz * t) * np.exp(-t / (CLICK_S / 5))).astype(np.float32)


def clicks(beats_s, downbeats_s, *, n: int, sr: int) -> np.ndarray:
    """(n,) float32: a blip on every beat, the accented one on every downbeat."""
    out = np.zeros(n, np.float32)
    downs = np.asarray(downbeats_s, np.float64)
    beat, down = _blip(BEAT_HZ, BEAT_GAIN, sr), _blip(DOWNBEAT_HZ, DOWNBEAT_GAIN, sr)
    for t in np.asarray(beats_s, np.float64):
        is_down = len(downs) > 0 and float(np.min(np.abs(downs - t))) < 0.5 / sr + 1e-4
        x = down if is_down else beat
        i = int(round(t * sr))
        if 0 <= i < n:
            out[i:i + len(x)] += x[: n - i]
    for t in downs:   # a downbeat that is not on a beat still clicks
        if len(beats_s) == 0 or float(np.min(np.abs(np.asarray(beats_s) - t))) >= 0.5 / sr + 1e-4:
            i = int(round(t * sr))
            if 0 <= i < n:
                out[i:i + len(down)] += down[: n - i]
    return out


def write_click_track(path: str, samples: np.ndarray, sr: int, beats_s, downbeats_s) -> None:
    """samples (channels, n) float32 of the track; writes music + clicks to path (WAV)."""
    import soundfile as sf
    c = clicks(beats_s, downbeats_s, n=samples.shape[1], sr=sr)
    mixed = np.clip(MUSIC_GAIN * samples + c[None, :], -1.0, 1.0).T
    buf = io.BytesIO()
    sf.write(buf, mixed, sr, format="WAV", subtype="PCM_16")
    write_atomic(path, buf.getvalue())

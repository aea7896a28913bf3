"""A track decoded for analysis: (channels, n) float32 at TRACK_SR.

The file is read by the one audio reader (media/audio_file.py: the same
checks, words and length cap as playback) and resampled to TRACK_SR (44.1
kHz: what Demucs expects), keeping at most two channels (more are folded to
stereo). Every later stage takes its rate from here: the analysis runs on
mono at 22050 Hz (spectral.ANALYSIS_SR); the live analyser takes the same
audio frames-first (`AnalysisAudio.frames_first`).

Bad input gets an AnalysisError with one line naming the file and what to do:
missing file, a directory, not audio, zero length, too long, too short. NaN
and inf samples are zeroed with a warning (meta["warnings"]), never passed on.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..media import audio_file
from ..media.audio_file import MAX_SECONDS, AudioFileError
from .errors import AnalysisError

TRACK_SR = 44100
MIN_SECONDS = 0.1


@dataclass
class AnalysisAudio:
    """A decoded track for analysis: samples (channels, n) float32 at sr, channels 1 or 2."""
    samples: np.ndarray
    sr: int
    path: str
    source_sr: int
    source_channels: int
    warnings: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / self.sr

    def mono(self) -> np.ndarray:
        """(n,) float32 mean of the channels."""
        return self.samples.mean(axis=0, dtype=np.float32)

    def frames_first(self) -> np.ndarray:
        """(n, channels) float32 copy, the layout the live analyser reads."""
        return np.ascontiguousarray(self.samples.T, dtype=np.float32)


def resample(y: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Band-limited resampling of y (..., n) along the last axis, float32."""
    y = np.asarray(y, dtype=np.float32)
    if int(sr_in) == int(sr_out) or y.shape[-1] == 0:
        return y.copy()
    try:
        import soxr
        if y.ndim == 1:
            return soxr.resample(y, sr_in, sr_out, quality="HQ").astype(np.float32)
        out = soxr.resample(np.ascontiguousarray(y.T), sr_in, sr_out, quality="HQ")
        return np.ascontiguousarray(out.T, dtype=np.float32)
    except ImportError:  # scipy's polyphase filter: slower, same result within the band
        import math

        import scipy.signal
        g = math.gcd(int(sr_in), int(sr_out))
        return scipy.signal.resample_poly(y, sr_out // g, sr_in // g, axis=-1).astype(np.float32)


def check_path(path) -> str:
    """The path as str, or AnalysisError if it is not a readable file."""
    try:
        return audio_file.check_path(path)
    except AudioFileError as e:
        raise AnalysisError(e.path, e.problem, e.fix) from None


def decode_for_analysis(path, *, sr: int = TRACK_SR, max_seconds: float = MAX_SECONDS) -> AnalysisAudio:
    """Decode `path` to (channels, n) float32 at `sr` Hz (streamed; memory ~ the output)."""
    try:
        audio = audio_file.decode(path, channels_first=True, max_seconds=max_seconds)
    except AudioFileError as e:  # the analysis' one error type at its boundary
        raise AnalysisError(e.path, e.problem, e.fix) from None
    samples, source_sr, path = audio.samples, audio.sr, audio.path
    if samples.shape[1] / source_sr < MIN_SECONDS:
        raise AnalysisError(path, f"is {samples.shape[1] / source_sr * 1000:.0f} ms long, too short "
                            f"to analyse", f"give at least {MIN_SECONDS:.1f} s")
    if source_sr != sr:  # resample() copies even at the same rate: an hour is 1.3 GB
        samples = _resample_rows(samples, source_sr, sr)
    return AnalysisAudio(samples=np.ascontiguousarray(samples), sr=sr, path=path,
                         source_sr=source_sr, source_channels=audio.source_channels,
                         warnings=audio.warnings)


def _resample_rows(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """resample() of a (channels, n) track one channel at a time, into one array:
    the 2-D call transposes its input and output, three copies of an hour."""
    first = resample(audio[0], sr_in, sr_out)
    out = np.empty((audio.shape[0], len(first)), np.float32)
    out[0] = first
    del first
    for c in range(1, audio.shape[0]):
        out[c] = resample(audio[c], sr_in, sr_out)
    return out

"""Reading a track: any format libsndfile reads, any rate, any channel count.

The file is decoded once and streamed through a resampler to TRACK_SR
(44.1 kHz: what Demucs expects), keeping at most two channels (more are
folded to stereo). Every later stage takes its rate from here: the analysis
runs on mono at 22050 Hz (spectral.ANALYSIS_SR).

Bad input gets an AnalysisError with one line naming the file and what to do:
missing file, a directory, not audio, zero length, too long. NaN and inf
samples are zeroed with a warning (meta["warnings"]), never passed on.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .errors import AnalysisError

TRACK_SR = 44100
MIN_SECONDS = 0.1
MAX_SECONDS = 60 * 60.0
AUDIO_EXTENSIONS = (".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3",
                    ".aif", ".aiff", ".aifc", ".w64", ".rf64", ".caf")
_BLOCK = 1 << 18   # frames per read: bounds memory while decoding long files


@dataclass
class Track:
    """Decoded audio: samples (channels, n) float32 at sr, channels 1 or 2."""
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
    path = os.fspath(path)
    if not os.path.exists(path):
        raise AnalysisError(path, "no such file", "check the path")
    if os.path.isdir(path):
        raise AnalysisError(path, "is a directory, not an audio file",
                            "give a track; a folder of stems goes to --stems")
    if not os.access(path, os.R_OK):
        raise AnalysisError(path, "cannot be read (permissions)", "check its permissions")
    return path


def _open(path: str):
    import soundfile as sf
    try:
        return sf.SoundFile(path)
    except Exception as e:  # LibsndfileError, RuntimeError, TypeError for odd files
        reason = str(e).split("\n")[0]
        raise AnalysisError(path, f"is not audio that can be decoded ({reason})",
                            "give a wav, flac, ogg or mp3 file (convert others with ffmpeg)"
                            ) from None


def _fold_channels(block: np.ndarray) -> np.ndarray:
    """(frames, channels) -> (frames, 1 or 2): more than two are folded to stereo."""
    if block.shape[1] <= 2:
        return block
    left = block[:, 0::2].mean(axis=1)
    right = block[:, 1::2].mean(axis=1)
    return np.stack([left, right], axis=1)


def load_track(path, *, sr: int = TRACK_SR, max_seconds: float = MAX_SECONDS) -> Track:
    """Decode `path` to float32 at `sr` Hz (streamed; memory ~ the output)."""
    path = check_path(path)
    with _open(path) as f:
        source_sr, channels, frames = int(f.samplerate), int(f.channels), int(f.frames)
        if frames <= 0:
            raise AnalysisError(path, "has no audio (zero length)", "export the track again")
        if frames / source_sr > max_seconds:
            raise AnalysisError(path, f"is {frames / source_sr / 60:.0f} min long, over the "
                                f"{max_seconds / 60:.0f} min limit", "cut it into parts")
        audio = _read_into(f, frames, min(channels, 2))
    warnings = _sanitize(audio, path)
    if audio.shape[1] / source_sr < MIN_SECONDS:
        raise AnalysisError(path, f"is {audio.shape[1] / source_sr * 1000:.0f} ms long, too short "
                            f"to analyse", f"give at least {MIN_SECONDS:.1f} s")
    if source_sr != sr:  # resample() copies even at the same rate: an hour is 1.3 GB
        audio = _resample_rows(audio, source_sr, sr)
    return Track(samples=np.ascontiguousarray(audio), sr=sr, path=path, source_sr=source_sr,
                 source_channels=channels, warnings=warnings)


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


def _read_into(f, frames: int, channels: int) -> np.ndarray:
    """The decoded blocks written into one (channels, frames) float32 array as they
    come (a list of blocks and their concatenation would hold the track twice).
    `frames` is the header's count; a file that decodes longer or shorter is
    extended or cut to what it really holds."""
    audio = np.empty((channels, frames), np.float32)
    filled, extra = 0, []
    for block in f.blocks(blocksize=_BLOCK, dtype="float32", always_2d=True):
        block = _fold_channels(block)
        take = min(len(block), frames - filled)
        audio[:, filled:filled + take] = block[:take].T
        filled += take
        if take < len(block):
            extra.append(block[take:].T)
    if extra:
        return np.concatenate([audio] + extra, axis=1)
    return audio if filled == frames else np.ascontiguousarray(audio[:, :filled])


def _sanitize(audio: np.ndarray, path: str) -> list[str]:
    """Zero NaN/inf samples in place; a warning line if there were any."""
    if audio.shape[1] > _BLOCK:  # in blocks: a full-size mask of an hour is 300 MB
        counts = [_sanitize_count(audio[:, i:i + _BLOCK]) for i in range(0, audio.shape[1], _BLOCK)]
        return [f"{path}: {sum(counts)} NaN/inf samples were set to 0"] if sum(counts) else []
    bad = ~np.isfinite(audio)
    if not bad.any():
        return []
    count = int(bad.sum())
    audio[bad] = 0.0
    return [f"{path}: {count} NaN/inf samples were set to 0"]


def _sanitize_count(part: np.ndarray) -> int:
    """Zero NaN/inf in `part` (a view) in place; how many there were."""
    bad = ~np.isfinite(part)
    count = int(bad.sum())
    if count:
        part[bad] = 0.0
    return count

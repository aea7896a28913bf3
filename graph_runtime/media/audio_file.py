"""The one audio reader: a file libsndfile can decode, checked, as float32.

Playback (media/playback.py: `Track`, frames x channels at the file's rate)
and analysis (analysis/decode.py: `AnalysisAudio`, channels x frames at
TRACK_SR) both decode through `decode()` here, so a file is refused for the
same reasons, with the same words and the same length cap, wherever it is
opened.

Bad input gets an AudioFileError with one line naming the file, what is
wrong and what to do: missing file, a directory, unreadable, not audio,
zero length, over MAX_SECONDS (refused from the header, before decoding).
More than two channels are folded to stereo; NaN and inf samples are zeroed
with a warning line, never passed on.

Imports numpy, and soundfile when a file is opened; never dearpygui.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .path_problem import PathProblem

MAX_SECONDS = 60 * 60.0  # refuse to decode more than an hour into memory
AUDIO_EXTENSIONS = (".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3",
                    ".aif", ".aiff", ".aifc", ".w64", ".rf64", ".caf")
_BLOCK = 1 << 18   # frames per read: bounds memory while decoding long files


class AudioFileError(PathProblem):
    """An audio file that cannot be used; the message is one line:
    `path: what is wrong; what to do`."""


@dataclass
class DecodedAudio:
    """samples: float32 at sr (the file's rate), 1 or 2 channels, laid out
    (channels, n) when decoded channels_first, else (n, channels)."""
    samples: np.ndarray
    sr: int
    path: str
    source_channels: int
    warnings: list[str] = field(default_factory=list)


def check_path(path) -> str:
    """The path as str, or AudioFileError if it is not a readable file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise AudioFileError(path, "no such file", "check the path")
    if os.path.isdir(path):
        raise AudioFileError(path, "is a directory, not an audio file",
                             "give a track; a folder of stems goes to --stems")
    if not os.access(path, os.R_OK):
        raise AudioFileError(path, "cannot be read (permissions)", "check its permissions")
    return path


def decode(path, *, channels_first: bool, max_seconds: float = MAX_SECONDS) -> DecodedAudio:
    """Decode `path` at its own rate into one float32 array (memory ~ the output).

    channels_first: (channels, n) for per-channel DSP (resampling, analysis);
    otherwise (n, channels), what a sound device plays."""
    path = check_path(path)
    with _open(path) as f:
        sr, channels, frames = int(f.samplerate), int(f.channels), int(f.frames)
        if frames <= 0 or sr <= 0:
            raise AudioFileError(path, "has no audio (zero length)", "export the track again")
        if frames / sr > max_seconds:
            raise AudioFileError(path, f"is {frames / sr / 60:.0f} min long, over the "
                                 f"{max_seconds / 60:.0f} min limit", "cut it into parts")
        try:
            audio = _read_into(f, frames, min(channels, 2), channels_first)
        except Exception as e:  # a file that breaks off or is damaged past its header
            raise AudioFileError(path, f"cannot decode ({_reason(e)})",
                                 "export the track again") from None
    warnings = _sanitize(audio, path)
    # no copy unless the file decoded shorter than its header said
    samples = np.ascontiguousarray(audio if channels_first else audio.T)
    return DecodedAudio(samples, sr, path, channels, warnings)


def _open(path: str):
    import soundfile as sf
    try:
        return sf.SoundFile(path)
    except Exception as e:  # LibsndfileError, RuntimeError, TypeError for odd files
        raise AudioFileError(path, f"not an audio file this build can read ({_reason(e)})",
                             "give a wav, flac, ogg or mp3 file (convert others with ffmpeg)"
                             ) from None


def _reason(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def fold_to_stereo(block: np.ndarray) -> np.ndarray:
    """(frames, channels) -> (frames, 1 or 2): more than two are folded to stereo."""
    if block.shape[1] <= 2:
        return block
    left = block[:, 0::2].mean(axis=1)
    right = block[:, 1::2].mean(axis=1)
    return np.stack([left, right], axis=1)


def _read_into(f, frames: int, channels: int, channels_first: bool) -> np.ndarray:
    """The decoded blocks written into one float32 array as they come (a list of
    blocks and their concatenation would hold the track twice). Returns a
    (channels, frames) view of it: the array itself when channels_first, else
    the transpose of a (frames, channels) array. `frames` is the header's count;
    a file that decodes longer or shorter is extended or cut to what it holds."""
    if channels_first:
        audio = np.empty((channels, frames), np.float32)
    else:
        audio = np.empty((frames, channels), np.float32).T
    filled, extra = 0, []
    for block in f.blocks(blocksize=_BLOCK, dtype="float32", always_2d=True):
        block = fold_to_stereo(block)
        take = min(len(block), frames - filled)
        audio[:, filled:filled + take] = block[:take].T
        filled += take
        if take < len(block):
            extra.append(block[take:].T)
    if extra:
        return np.concatenate([audio] + extra, axis=1)
    return audio if filled == frames else audio[:, :filled]


def _sanitize(audio: np.ndarray, path: str) -> list[str]:
    """Zero NaN/inf samples of (channels, n) `audio` in place; a warning line if any."""
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

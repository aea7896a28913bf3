"""Which files the track loader reads, as the open-track dialog's filters.

The loader decodes through libsndfile (graph_runtime.media.audio_file.decode), so
"all audio" is every extension of every container this libsndfile build
lists, plus the common spellings of the same containers (.aif, .oga, .opus).
"""
from __future__ import annotations

# libsndfile's format name -> the file extensions it means
_BY_FORMAT = {
    "WAV": (".wav", ".wave"), "WAVEX": (".wav",), "RF64": (".rf64",), "W64": (".w64",),
    "AIFF": (".aif", ".aiff", ".aifc"), "FLAC": (".flac",), "OGG": (".ogg", ".oga", ".opus"),
    "MP3": (".mp3",), "CAF": (".caf",), "AU": (".au", ".snd"),
}
_FALLBACK = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")


def audio_extensions() -> tuple[str, ...]:
    """Every extension the loader reads here, most common first."""
    try:
        import soundfile as sf

        formats = sf.available_formats()
    except Exception:  # no libsndfile: the loader cannot read anything, list the usual ones
        return _FALLBACK
    out: list[str] = []
    for name in ("WAV", "FLAC", "OGG", "MP3", "AIFF", "WAVEX", "RF64", "W64", "CAF", "AU"):
        if name in formats:
            out += [e for e in _BY_FORMAT[name] if e not in out]
    return tuple(out) or _FALLBACK


def all_audio_filter(exts: tuple[str, ...]) -> str:
    """A Dear PyGui file-dialog filter that shows every one of `exts` at once."""
    return "all audio{" + ",".join(exts) + "}"


def ask_open_track(dialogs, current: str, on_chosen) -> int:
    """The open-track chooser: every audio format at once first, one
    extension at a time after it, starting in the current track's folder."""
    import os

    exts = audio_extensions()
    folder = os.path.dirname(os.path.abspath(current)) if current else ""
    return dialogs.choose_file("Open track", exts, on_chosen, folder=folder if os.path.isdir(folder) else "",
                               first_filter=all_audio_filter(exts))

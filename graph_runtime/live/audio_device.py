"""The PortAudio boundary of live input and its monitor cue: sounddevice imported
on first use (a machine without PortAudio gets one line saying what to install),
and streams closed quietly.
"""
from __future__ import annotations


class LiveInputError(ValueError):
    """Bad input settings: the message is one line naming what and where."""


def _sounddevice():
    try:
        import sounddevice
    except (ImportError, OSError) as e:  # OSError: PortAudio library missing
        raise LiveInputError(f"audio input unavailable: {e}; install PortAudio "
                             "(apt install libportaudio2) or use --input FILE") from None
    return sounddevice


def close_stream(stream) -> None:
    """Stop and close a PortAudio stream (or a fake), or nothing for None. A device
    that vanished may refuse to stop: it is gone either way."""
    if stream is None:
        return
    try:
        stream.stop()
        stream.close()
    except Exception:
        pass

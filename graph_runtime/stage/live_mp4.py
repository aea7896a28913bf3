"""A fragmented MP4 written as the show goes: H.264 + AAC through PyAV.

`movflags=frag_keyframe+empty_moov` puts the header first and a self-
contained fragment (moof + mdat) before every keyframe. The recorder asks for
a keyframe at least every `KEY_S` of show time and `tune=zerolatency` holds
no frame back, so a process killed with -9 leaves a file that plays to about
half a second before the kill. The fragment is cut when the keyframe leaves
libavformat's interleaver, which hands packets over in time order: every
audio packet before the keyframe's time is already in the fragment, every
later one is not, so audio and video end together (within one AAC frame).

Video timestamps are show-clock slots (pts k = recording time k / fps): a
frame is encoded once, when it was shown, and lasts until the next one, so
a window running at 9 fps costs 9 encodes a second, and a dropped frame is
a longer frame, never a shift of what follows. `close` finishes the last
fragment. The H.264 settings are the render's
(graph_runtime/media/video.add_h264_stream), so a recording and a render of the
same patch look the same.

Used from the recorder's thread only.
"""
from __future__ import annotations

import os
from fractions import Fraction

import numpy as np

from graph_runtime.media.video import AAC_RATES, add_h264_stream, fps_fraction, yuv_frame

AAC_FRAME = 1024  # samples per AAC frame
FRAG_OPTIONS = {"movflags": "frag_keyframe+empty_moov+default_base_moof",
                "flush_packets": "1"}  # hand each fragment to the OS at once


def aac_rate(sr: int | None) -> int:
    return int(sr) if sr in AAC_RATES else 48000


class LiveMp4:
    def __init__(self, path: str, *, width: int, height: int, fps: float, audio_rate: int) -> None:
        import av

        self.width, self.height = width - width % 2, height - height % 2  # yuv420p: even
        self.rate = fps_fraction(fps)
        self.audio_rate = int(audio_rate)
        self.container = av.open(path, "w", format="mp4", options=dict(FRAG_OPTIONS))
        try:
            self.container.metadata["encoder"] = "hambajuba live recording"
            self.video = add_h264_stream(self.container, self.width, self.height, self.rate,
                                         preset="veryfast", threads=2)
            self.video.options = {**self.video.options, "tune": "zerolatency"}
            # keyframes come when the recorder asks (every KEY_S of show time); this is a cap
            self.video.codec_context.gop_size = max(1, round(2 * float(self.rate)))
            a = self.container.add_stream("aac", rate=self.audio_rate, layout="stereo")
            a.bit_rate = 192_000
            a.time_base = Fraction(1, self.audio_rate)
            self.audio = a
        except BaseException:
            self.container.close()
            raise
        self.frames = 0  # frames encoded
        self.end_slot = 0  # the video covers slots [0, end_slot)
        self.samples = 0  # audio samples handed to the encoder
        self._pending = np.zeros((2, 0), np.float32)  # (ch, n) fltp waiting for a full AAC frame
        # the AAC encoder's priming: its output starts AAC_FRAME samples late (this fragmented
        # file carries no edit list to hide it), so the first AAC_FRAME samples we are given
        # are dropped and what follows lands on its true time
        self._skip = AAC_FRAME

    def add_video(self, rgba: np.ndarray, slot: int, *, key: bool = False) -> None:
        """Show `rgba` from slot `slot` (recording time slot / fps) until the
        next frame; slots only grow. key: start a fragment here."""
        import av

        frame = yuv_frame(rgba, self.width, self.height)
        frame.pts = slot
        if key:
            frame.pict_type = av.video.frame.PictureType.I  # x264: an IDR frame
        for packet in self.video.encode(frame):
            packet.duration = packet.duration or 1  # the last frame of a fragment lasts a slot
            self.container.mux(packet)
        self.frames += 1
        self.end_slot = slot + 1

    def add_audio(self, chunk: np.ndarray, *, final: bool = False) -> None:
        """chunk: (n, 2) float32 in [-1, 1]."""
        import av

        if self._skip and chunk.shape[0]:
            k = min(self._skip, chunk.shape[0])
            chunk, self._skip = chunk[k:], self._skip - k
        x = np.concatenate([self._pending, np.clip(chunk, -1.0, 1.0).T], axis=1)
        done = 0
        while x.shape[1] - done >= AAC_FRAME or (final and x.shape[1] > done):
            part = np.ascontiguousarray(x[:, done:done + AAC_FRAME])
            frame = av.AudioFrame.from_ndarray(part, format="fltp", layout="stereo")
            frame.sample_rate = self.audio_rate
            frame.pts = self.samples
            self.container.mux(self.audio.encode(frame))
            self.samples += part.shape[1]
            done += part.shape[1]
        self._pending = x[:, done:]

    def close(self) -> None:
        try:
            self.add_audio(np.zeros((0, 2), np.float32), final=True)
            self.container.mux(self.video.encode(None))
            self.container.mux(self.audio.encode(None))
        finally:
            self.container.close()


def trim_to_whole_fragments(path: str) -> int:
    """Cut a fragmented MP4 after its last complete moof + mdat pair (a write
    that failed half-way, e.g. on a full disk, leaves a torn fragment that
    players stumble on). Returns the new length in bytes; the file is left as
    it is when its top-level boxes cannot be walked."""
    import struct

    size = os.path.getsize(path)
    good, pos, saw_moof = 0, 0, False
    with open(path, "rb") as f:
        while pos + 8 <= size:
            f.seek(pos)
            n, kind = struct.unpack(">I4s", f.read(8))
            if n == 1:  # a 64-bit size follows
                n = struct.unpack(">Q", f.read(8))[0]
            if n < 8 or pos + n > size:
                break  # the torn box
            pos += n
            if kind in (b"ftyp", b"moov") and not saw_moof:
                good = pos
            elif kind == b"moof":
                saw_moof = True
            elif kind == b"mdat" and saw_moof:
                good, saw_moof = pos, False
    if 0 < good < size:
        os.truncate(path, good)
    return good if good else size

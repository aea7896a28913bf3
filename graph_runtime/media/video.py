"""Frame sinks for the headless render: an MP4 (H.264 + AAC, PyAV) or a
folder of JPEGs (TurboJPEG), each written under a temporary name beside its
destination and renamed into place only when it is complete.

A sink is driven from one worker thread: `add(rgba)` once per frame, in order,
then `finish(n_frames)` (a valid file of that many frames) or `abort()`
(nothing left behind). The audio segment is encoded alongside the video, up to
the end of each frame as it arrives, so the MP4 is interleaved as it is
written and a render cut short still has its matching audio.

Imports numpy and (lazily) av / turbojpeg / soundfile; no torch, no GUI.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .atomic import place, temp_beside, write_atomic
from .audio_file import fold_to_stereo

AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000)


class SinkError(Exception):
    """The output cannot be written. One line, saying what to do."""


@dataclass
class SinkTimes:
    """Busy seconds per stage, accumulated on the worker thread."""

    encode: float = 0.0  # RGBA -> yuv420p -> H.264 (or -> JPEG)
    mux: float = 0.0  # audio encode + writing packets + finalising the file


# -- reading the track's audio -----------------------------------------------------

class AudioSegment:
    """The slice [start, start + seconds) of the track that plays under the
    video, read in order, a chunk at a time (an hour-long mix is never held
    in memory). Past the file's end it reads silence. Channels fold to mono or
    stereo; rates AAC cannot carry are resampled to 48 kHz (in memory)."""

    def __init__(self, rate: int, channels: int, frames: int, reader) -> None:
        self.rate, self.channels, self.frames = int(rate), int(channels), int(frames)
        self._reader = reader  # reader(n) -> (<= n, channels) float32
        self.pos = 0

    @property
    def seconds(self) -> float:
        return self.frames / self.rate

    def read(self, n: int) -> np.ndarray:
        """The next min(n, left) samples, (n', channels) float32 in [-1, 1]."""
        n = max(0, min(n, self.frames - self.pos))
        x = _fold(self._reader(n)) if n else np.zeros((0, self.channels), np.float32)
        if x.shape[0] < n:
            x = np.concatenate([x, np.zeros((n - x.shape[0], self.channels), np.float32)])
        self.pos += n
        return np.clip(x, -1.0, 1.0)

    def close(self) -> None:
        closer = getattr(self._reader, "close", None)
        if closer is not None:
            closer()


def _fold(x: np.ndarray) -> np.ndarray:
    """(n, c) -> (n, 1|2): more than two channels fold to stereo."""
    x = np.asarray(x, dtype=np.float32)
    return fold_to_stereo(x[:, None] if x.ndim == 1 else x)


class _FileReader:
    def __init__(self, f) -> None:
        self.f = f

    def __call__(self, n: int) -> np.ndarray:
        return self.f.read(n, dtype="float32", always_2d=True)

    def close(self) -> None:
        self.f.close()


class _ArrayReader:
    def __init__(self, x: np.ndarray) -> None:
        self.x, self.pos = x, 0

    def __call__(self, n: int) -> np.ndarray:
        out = self.x[self.pos:self.pos + n]
        self.pos += out.shape[0]
        return out


def _in_memory(x: np.ndarray, rate: int, frames: int) -> AudioSegment:
    """A decoded segment; resampled to 48 kHz when AAC cannot carry `rate`."""
    x = _fold(x)
    if rate not in AAC_RATES:
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(48000, rate)
        x = resample_poly(x, 48000 // g, rate // g, axis=0).astype(np.float32)
        frames = int(round(frames * 48000 / rate))
        rate = 48000
    return AudioSegment(rate, x.shape[1], frames, _ArrayReader(x))


def track_duration(path: str) -> float:
    """Seconds of audio in the file (soundfile, else PyAV for m4a/aac/...)."""
    try:
        import soundfile as sf

        info = sf.info(path)
        return info.frames / info.samplerate
    except Exception:
        pass
    import av

    try:
        with av.open(path) as c:
            if not c.streams.audio:
                raise SinkError(f"{path}: has no audio stream; give an audio file "
                                "(wav, flac, mp3, ogg)")
            s = c.streams.audio[0]
            if s.duration is not None and s.time_base is not None:
                return float(s.duration * s.time_base)
            return float(c.duration or 0) / 1e6
    except av.FFmpegError as e:
        raise SinkError(f"{path}: cannot be read as audio ({e}); "
                        "give a wav, flac, mp3 or ogg file") from None


def open_segment(path: str, start: float, seconds: float) -> AudioSegment:
    """The segment of the track, streamed from the file when soundfile can
    read it (wav, flac, ogg, mp3), else decoded with PyAV."""
    try:
        import soundfile as sf

        f = sf.SoundFile(path)
    except (RuntimeError, ValueError, OSError):
        f = None
    if f is not None:
        rate = f.samplerate
        frames = int(round(seconds * rate))
        f.seek(min(int(round(start * rate)), f.frames))
        if rate in AAC_RATES:
            return AudioSegment(rate, min(f.channels, 2), frames, _FileReader(f))
        with f:
            return _in_memory(f.read(frames, dtype="float32", always_2d=True), rate, frames)
    x, rate = _read_with_av(path, start, seconds)
    return _in_memory(x, rate, int(round(seconds * rate)))


def read_segment(path: str, start: float, seconds: float) -> np.ndarray:
    """The whole segment at once, (n, 1|2) float32 (for tests and small tools)."""
    seg = open_segment(path, start, seconds)
    try:
        return seg.read(seg.frames)
    finally:
        seg.close()


def _read_with_av(path: str, start: float, seconds: float) -> tuple[np.ndarray, int]:
    import av

    with av.open(path) as c:
        stream = c.streams.audio[0]
        rate = stream.codec_context.sample_rate
        layout = "stereo" if stream.channels > 1 else "mono"
        resampler = av.AudioResampler(format="flt", layout=layout, rate=rate)
        first, last = int(round(start * rate)), int(round((start + seconds) * rate))
        chunks, pos = [], 0
        for frame in c.decode(stream):
            for out in resampler.resample(frame):
                a = out.to_ndarray().reshape(-1, len(out.layout.channels))
                lo, hi = max(first - pos, 0), min(last - pos, a.shape[0])
                if hi > lo:
                    chunks.append(a[lo:hi])
                pos += a.shape[0]
            if pos >= last:
                break
    ch = 2 if stream.channels > 1 else 1
    x = np.concatenate(chunks) if chunks else np.zeros((0, ch), np.float32)
    return x, rate


# -- the output folder ---------------------------------------------------------------

def check_writable_folder(folder: str, what: str) -> None:
    """Raise SinkError unless a file can really be created in `folder`
    (os.access lies for root and for read-only mounts)."""
    if not os.path.isdir(folder):
        raise SinkError(f"{what}: folder {folder} does not exist; "
                        f"create it first (mkdir -p {folder})")
    try:
        fd, probe = tempfile.mkstemp(prefix=".hambajuba-probe-", dir=folder)
    except OSError as e:
        raise SinkError(f"{what}: cannot write in {folder} ({e.strerror}); "
                        "choose a folder you can write to") from None
    os.close(fd)
    os.unlink(probe)


# -- MP4 -----------------------------------------------------------------------------

def fps_fraction(fps: float) -> Fraction:
    """30 -> 30/1, 29.97 -> 30000/1001: an exact rational frame rate."""
    return Fraction(fps).limit_denominator(1001)


def add_h264_stream(container, width: int, height: int, rate: Fraction, *, crf: int = 18,
                    preset: str = "veryfast", threads: int = 0):
    """The one H.264 setting every hambajuba video uses (renders and Ray chunks
    alike, so chunks join without re-encoding into what one process makes)."""
    v = container.add_stream("libx264", rate=rate)
    v.width, v.height, v.pix_fmt = width, height, "yuv420p"
    v.time_base = 1 / rate
    # mb-tree reads memory it did not write on small frames (seen at 64 and
    # 96 px): two renders of the same frames came out different. Without
    # it x264 is bit-exact run to run, at a few % more bits for crf 18.
    v.options = {"crf": str(crf), "preset": preset, "threads": str(threads),
                 "x264-params": "no-mbtree=1"}
    # BT.709, limited range, tagged: players then need not guess from the size
    cc = v.codec_context
    cc.colorspace = cc.color_primaries = cc.color_trc = 1  # AVCOL_*_BT709
    cc.color_range = 1  # AVCOL_RANGE_MPEG
    return v


def yuv_frame(rgba: np.ndarray, width: int, height: int):
    """(H, W, 4) uint8 RGBA -> a BT.709 limited-range yuv420p av.VideoFrame (even size)."""
    import av
    from av.video.reformatter import ColorRange, Colorspace

    img = rgba[:height, :width]
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgba")
    return frame.reformat(format="yuv420p", dst_colorspace=Colorspace.ITU709,
                          dst_color_range=ColorRange.MPEG)


class Mp4Sink:
    """H.264 (yuv420p, libx264) + AAC in MP4, atomically placed at `path`."""

    kind = "mp4"

    def __init__(self, path: str, *, width: int, height: int, fps: float,
                 audio: AudioSegment | None, crf: int = 18, preset: str = "veryfast",
                 threads: int = 0, video_from=None) -> None:
        """video_from: an encoded H.264 stream to copy packets from (a Ray
        chunk's segment) instead of encoding frames here."""
        import av

        self.path = os.path.abspath(path)
        self.times = SinkTimes()
        self.rate = fps_fraction(fps)
        # yuv420p needs even sizes: an odd last row/column is dropped
        self.width, self.height = width - width % 2, height - height % 2
        self.tmp = temp_beside(self.path, suffix=".partial.mp4")
        try:
            self.container = av.open(self.tmp, "w", format="mp4",
                                     options={"movflags": "+faststart"})
            self.container.metadata["encoder"] = "hambajuba render"
            self.encoding = video_from is None
            self.video = (add_h264_stream(self.container, self.width, self.height, self.rate,
                                          crf=crf, preset=preset, threads=threads)
                          if self.encoding else self.container.add_stream_from_template(video_from))
            self.audio = audio
            self.audio_stream = None
            if audio is not None:
                layout = "stereo" if audio.channels == 2 else "mono"
                a = self.container.add_stream("aac", rate=audio.rate, layout=layout)
                a.bit_rate = 192_000
                a.time_base = Fraction(1, audio.rate)
                self.audio_stream = a
                self._layout = layout
        except BaseException:
            self._remove_tmp()
            raise
        self.frames = 0
        self._audio_pos = 0  # samples already handed to the AAC encoder
        self._audio_chunk = 1024  # AAC frame size

    # -- per frame (worker thread) ----------------------------------------------
    def add(self, rgba: np.ndarray) -> None:
        t0 = time.perf_counter()
        frame = yuv_frame(rgba, self.width, self.height)
        frame.pts = self.frames
        packets = self.video.encode(frame)
        t1 = time.perf_counter()
        self.container.mux(packets)
        self.frames += 1
        if self.audio_stream is not None:
            self._encode_audio_until(self._samples_at(self.frames), final=False)
        t2 = time.perf_counter()
        self.times.encode += t1 - t0
        self.times.mux += t2 - t1

    def add_packet(self, packet, frame: int) -> None:
        """Copy one encoded packet (video_from mode) whose frame sits at track
        frame `frame - 1` or earlier; audio follows up to the frames written."""
        packet.stream = self.video
        self.container.mux(packet)
        self.frames = max(self.frames, frame)
        if self.audio_stream is not None:
            self._encode_audio_until(self._samples_at(self.frames), final=False)

    def _samples_at(self, frames: int) -> int:
        """Audio sample index at the end of `frames` video frames."""
        return int(round(frames / self.rate * self.audio.rate))

    def _encode_audio_until(self, end: int, *, final: bool) -> None:
        import av

        end = min(end, self.audio.frames)
        step = self._audio_chunk
        while self._audio_pos < end and (final or end - self._audio_pos >= step):
            hi = min(self._audio_pos + step, end)
            chunk = np.ascontiguousarray(self.audio.read(hi - self._audio_pos).T)  # (ch, n): fltp
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=self._layout)
            frame.sample_rate = self.audio.rate
            frame.pts = self._audio_pos
            self.container.mux(self.audio_stream.encode(frame))
            self._audio_pos = hi

    # -- end -------------------------------------------------------------------
    def finish(self, n_frames: int, sidecar: tuple[str, str] | None = None) -> str:
        """Flush, close, fsync and rename into place; `sidecar` is (path, text)
        of the .json placed first. Audio stops where the last frame ends (a
        render cut short keeps matching sound)."""
        t0 = time.perf_counter()
        try:
            if self.encoding:
                self.container.mux(self.video.encode(None))
            if self.audio_stream is not None:
                self._encode_audio_until(self._samples_at(n_frames), final=True)
                self.container.mux(self.audio_stream.encode(None))
            self.container.close()
            with open(self.tmp, "rb") as f:
                os.fsync(f.fileno())
            if sidecar is not None:
                write_atomic(*sidecar)
            place(self.tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self.times.mux += time.perf_counter() - t0
        return self.path

    def abort(self) -> None:
        try:
            self.container.close()
        except Exception:
            pass
        self._remove_tmp()

    def _remove_tmp(self) -> None:
        try:
            os.unlink(self.tmp)
        except FileNotFoundError:
            pass


# -- JPEG frames -----------------------------------------------------------------------

FRAME_NAME = "frame_{:06d}.jpg"
SIDECAR_IN_DIR = "render.json"
AUDIO_IN_DIR = "audio.wav"


def frames_dir_is_ours(path: str) -> bool:
    """True when every entry is something a previous --frames-dir render wrote."""
    for name in os.listdir(path):
        if name in (SIDECAR_IN_DIR, AUDIO_IN_DIR):
            continue
        if not (name.startswith("frame_") and name.endswith(".jpg")):
            return False
    return True


class JpegDirSink:
    """frame_000000.jpg ... in a fresh folder (built beside `path`, renamed in),
    plus the audio segment as audio.wav so the frames can be assembled later."""

    kind = "jpeg"

    def __init__(self, path: str, *, fps: float, audio: AudioSegment | None, quality: int = 92,
                 overwrite: bool = False) -> None:
        from turbojpeg import TJPF_RGBA, TJSAMP_420, TurboJPEG

        self.path = os.path.abspath(path.rstrip(os.sep) or path)
        self.overwrite = overwrite
        self.times = SinkTimes()
        self.rate = fps_fraction(fps)
        self.audio = audio
        self.quality = quality
        self._jpeg = TurboJPEG()
        self._fmt, self._samp = TJPF_RGBA, TJSAMP_420
        self.tmp = temp_beside(self.path, directory=True)
        self.frames = 0

    def add(self, rgba: np.ndarray) -> None:
        t0 = time.perf_counter()
        data = self._jpeg.encode(np.ascontiguousarray(rgba), quality=self.quality,
                                 pixel_format=self._fmt, jpeg_subsample=self._samp)
        t1 = time.perf_counter()
        with open(os.path.join(self.tmp, FRAME_NAME.format(self.frames)), "wb") as f:
            f.write(data)
        self.frames += 1
        self.times.encode += t1 - t0
        self.times.mux += time.perf_counter() - t1

    def add_encoded(self, index: int, data: bytes) -> None:
        """Frame `index` as JPEG bytes made elsewhere (a Ray chunk), any order."""
        with open(os.path.join(self.tmp, FRAME_NAME.format(index)), "wb") as f:
            f.write(data)
        self.frames += 1

    def finish(self, n_frames: int, sidecar: tuple[str, str] | None = None) -> str:
        """Write audio.wav and the sidecar (text of render.json) into the
        folder, then rename it into place."""
        t0 = time.perf_counter()
        try:
            if sidecar is not None:
                with open(os.path.join(self.tmp, SIDECAR_IN_DIR), "w", encoding="utf-8") as f:
                    f.write(sidecar[1])
            if self.audio is not None:
                import soundfile as sf

                end = int(round(n_frames / self.rate * self.audio.rate))
                with sf.SoundFile(os.path.join(self.tmp, AUDIO_IN_DIR), "w", self.audio.rate,
                                  self.audio.channels, subtype="PCM_16") as out:
                    while self.audio.pos < end:
                        out.write(self.audio.read(min(65536, end - self.audio.pos)))
            if os.path.isdir(self.path):
                if not (self.overwrite and frames_dir_is_ours(self.path)):
                    raise SinkError(f"{self.path}: exists; choose a new folder or pass --overwrite")
                shutil.rmtree(self.path)
            place(self.tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self.times.mux += time.perf_counter() - t0
        return self.path

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

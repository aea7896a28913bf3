"""Audio output of the track, and the time the window follows.

Two outputs with one interface:

* DeviceOutput plays the track through sounddevice. Its callback is the
  master clock: each buffer it fills is reported to a MediaClock as
  "played-time u is heard at monotonic time callback + output latency".
* NullOutput keeps time with the monotonic clock when there is no audio
  device (CI, servers, a laptop with the sound server down).

Time is kept in two coordinates. `u` ("played time", seconds) only ever
advances while playing and never jumps; the clock follows it. Seeks and
loop wraps are recorded as segments `(u0, t0)`: from played time u0 on, the
track is read from t0. Mapping the heard u back through the segments gives
the track time heard now, so a loop wraps on screen exactly when it wraps in
the ears, not when the callback wrote it (one output latency earlier).

Imports numpy, soundfile and sounddevice (lazily); never dearpygui.
"""
from __future__ import annotations

import os
import time as _time
from typing import Callable

import numpy as np

from .audio_file import decode
from .clock import MediaClock, NullClock

_SEGMENTS_KEPT = 8


class Track:
    """Audio to play, in memory: samples float32 (n_frames, channels) at the
    file's own rate sr (what the sound device is opened at)."""

    def __init__(self, samples: np.ndarray, sr: int, path: str = "") -> None:
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        if samples.ndim == 1:
            samples = samples[:, None]
        if samples.ndim != 2 or samples.shape[1] < 1 or sr <= 0:
            raise ValueError(f"{path or 'track'}: expected (frames, channels) audio")
        self.samples = samples
        self.sr = int(sr)
        self.path = path

    @property
    def duration(self) -> float:
        return self.samples.shape[0] / self.sr

    @property
    def channels(self) -> int:
        return self.samples.shape[1]


def load_track(path: str | os.PathLike) -> Track:
    """Decode an audio file to play (wav, flac, ogg, mp3 where libsndfile has it);
    AudioFileError, one line, when it cannot be played."""
    audio = decode(path, channels_first=False)
    return Track(audio.samples, audio.sr, audio.path)


def _short(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[-1] if text else type(e).__name__


class Output:
    """What the transport drives. Subclasses supply the clock and the sound."""

    kind = "null"

    def __init__(self, clock, now: Callable[[], float] = _time.monotonic) -> None:
        self.clock = clock
        self.now = now
        self.track: Track | None = None
        self.playing = False
        self.ended = False
        self.loop: tuple[float, float] | None = None
        self.reason = ""  # why this is a null output, for the window
        self._segments: tuple[tuple[float, float], ...] = ((0.0, 0.0),)
        self._paused_at = 0.0  # track time shown while paused

    # -- queries ------------------------------------------------------------------
    @property
    def description(self) -> str:
        return self.reason or "audio: no output"

    @property
    def duration(self) -> float:
        return self.track.duration if self.track is not None else 0.0

    def time(self) -> float:
        """Track time being heard now, seconds."""
        if not self.playing or self.track is None:
            return self._paused_at
        t = self._track_time(self.clock.time())
        if t >= self.duration and self.loop is None:
            self.ended = True
            self.pause()
            self._paused_at = self.duration
            return self.duration
        return t

    def _track_time(self, u: float) -> float:
        segs = self._segments
        for u0, t0 in reversed(segs):
            if u >= u0:
                return t0 + (u - u0)
        return segs[0][1]

    # -- transport ------------------------------------------------------------------
    def load(self, track: Track) -> None:
        self.pause()
        self.track = track
        self.loop = None
        self._paused_at = 0.0
        self.ended = False

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def play(self) -> None:
        if self.track is None or self.playing:
            return
        if self._paused_at >= self.duration - 1e-3 and self.loop is None:
            self._paused_at = 0.0
        self.ended = False
        self._start(self._paused_at)
        self.playing = True

    def pause(self) -> None:
        if not self.playing:
            return
        self._paused_at = min(self._track_time(self.clock.time()), self.duration)
        self.playing = False
        self._stop()
        self.clock.hold(0.0)

    def seek(self, t: float) -> None:
        t = min(max(float(t), 0.0), self.duration)
        self.ended = False
        if not self.playing:
            self._paused_at = t
            return
        self._seek_playing(t)

    def set_loop(self, a: float | None, b: float | None = None) -> None:
        """Loop [a, b) seconds, or no loop when a is None. Needs b - a >= 50 ms."""
        if a is None or b is None:
            self.loop = None
            return
        a, b = sorted((max(0.0, float(a)), min(float(b), self.duration)))
        self.loop = (a, b) if b - a >= 0.05 else None

    def close(self) -> None:
        self.pause()

    # -- subclass hooks ---------------------------------------------------------------
    def _start(self, t: float) -> None:
        raise NotImplementedError

    def _stop(self) -> None:
        pass

    def _seek_playing(self, t: float) -> None:
        raise NotImplementedError


class NullOutput(Output):
    """No sound; the monotonic clock keeps time. Loops are wrapped here."""

    kind = "null"

    def __init__(self, reason: str = "", now: Callable[[], float] = _time.monotonic) -> None:
        super().__init__(NullClock(now=now), now)
        self.reason = reason

    def time(self) -> float:
        if self.playing and self.loop is not None:
            self._wrap(self.clock.time())
        return super().time()

    def _wrap(self, u: float) -> None:
        a, b = self.loop
        u0, t0 = self._segments[-1]
        if t0 >= b:  # loop moved behind the play head: jump to its start now
            self._segments = self._segments[-_SEGMENTS_KEPT:] + ((u, a),)
            return
        while t0 + (u - u0) >= b:  # every wrap passed since the last frame, exactly
            u0, t0 = u0 + (b - t0), a
            self._segments = self._segments[-_SEGMENTS_KEPT:] + ((u0, t0),)

    def _start(self, t: float) -> None:
        self._segments = ((0.0, t),)
        self.clock.start(0.0)

    def _seek_playing(self, t: float) -> None:
        u = self.clock.time()
        self._segments = self._segments[-_SEGMENTS_KEPT:] + ((u, t),)


class DeviceOutput(Output):
    """The track through sounddevice; the audio callback is the master clock.

    The stream runs only while playing (a new 'epoch' of played time starts
    at 0 on each play). The main thread talks to the callback through plain
    attributes: a seek request (token, frame) and the loop in frames.
    """

    kind = "device"

    def __init__(self, track_sr_hint: int = 44100, *, stream_factory=None, device=None,
                 now: Callable[[], float] = _time.monotonic, probe: bool = True) -> None:
        super().__init__(MediaClock(now=now), now)
        self.device = device
        self._stream_factory = stream_factory or self._open_stream
        self._stream = None
        self._frame = 0  # next track frame the callback writes (callback-owned)
        self._u_frames = 0  # frames played this epoch (callback-owned)
        self._seek_req: tuple[int, int] = (0, 0)  # (token, frame), main-owned
        self._seek_done = 0
        self._loop_frames: tuple[int, int] | None = None
        self.latency = 0.1  # seconds, refined from the stream
        self.underruns = 0
        if probe:  # now, so that a missing device is known before the first play
            self._probe(track_sr_hint)

    def _probe(self, sr: int) -> None:
        import sounddevice as sd

        sd.check_output_settings(device=self.device, samplerate=sr, channels=1, dtype="float32")

    def _open_stream(self, sr: int, channels: int, callback):
        import sounddevice as sd

        return sd.OutputStream(samplerate=sr, channels=channels, dtype="float32",
                               device=self.device, latency="high", callback=callback)

    @property
    def description(self) -> str:
        return f"audio: output latency {self.latency * 1000:.0f} ms"

    def set_loop(self, a, b=None) -> None:
        super().set_loop(a, b)
        sr = self.track.sr if self.track is not None else 1
        self._loop_frames = None if self.loop is None else (
            int(self.loop[0] * sr), int(self.loop[1] * sr))

    def _start(self, t: float) -> None:
        tr = self.track
        self._frame = int(t * tr.sr)
        self._u_frames = 0
        self._seek_done = self._seek_req[0]
        self._segments = ((0.0, t),)
        self._stream = self._stream_factory(tr.sr, min(tr.channels, 2), self._callback)
        lat = getattr(self._stream, "latency", None)
        if isinstance(lat, (int, float)) and 0.0 < lat < 2.0:
            self.latency = float(lat)
        # until the first buffer is heard the picture holds at t
        self.clock.start(0.0, at=self.now() + self.latency)
        self._stream.start()

    def _stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:
                pass  # a device that vanished mid-play: nothing left to stop

    def _seek_playing(self, t: float) -> None:
        self._seek_req = (self._seek_req[0] + 1, int(t * self.track.sr))

    # -- the audio thread -------------------------------------------------------------
    def _callback(self, outdata, frames, time_info, status) -> None:
        """Runs on PortAudio's thread: no allocation beyond a rare segment tuple."""
        if status and getattr(status, "output_underflow", False):
            self.underruns += 1
        tr = self.track
        sr = tr.sr
        token, frame = self._seek_req
        if token != self._seek_done:
            self._seek_done = token
            self._frame = frame
            self._segments = self._segments[-_SEGMENTS_KEPT:] + ((self._u_frames / sr, frame / sr),)
        latency = _latency(time_info, self.latency)
        self.clock.observe(self._u_frames / sr, self.now() + latency)
        self._fill(outdata, frames, tr)
        self._u_frames += frames

    def _fill(self, out: np.ndarray, frames: int, tr: Track) -> None:
        src, n_track, ch = tr.samples, tr.samples.shape[0], out.shape[1]
        done = 0
        while done < frames:
            loop = self._loop_frames
            end = loop[1] if loop is not None else n_track
            pos = self._frame
            if pos >= end:
                if loop is None:
                    out[done:] = 0.0
                    return
                pos = self._frame = loop[0]
                u0 = (self._u_frames + done) / tr.sr
                self._segments = self._segments[-_SEGMENTS_KEPT:] + ((u0, pos / tr.sr),)
            k = min(frames - done, end - pos)
            out[done:done + k] = src[pos:pos + k, :ch]
            self._frame = pos + k
            done += k


def _latency(time_info, fallback: float) -> float:
    """Output latency of this buffer: when it reaches the DAC minus now."""
    try:
        lat = time_info.outputBufferDacTime - time_info.currentTime
    except AttributeError:
        return fallback
    return lat if 0.0 < lat < 2.0 else fallback  # some hosts report 0: use the stream's


def open_output(prefer: str = "auto", *, sr_hint: int = 44100) -> Output:
    """A DeviceOutput when a device can play, else a NullOutput saying why.

    prefer: "auto" (device if any), "null" (never touch the sound system)."""
    if prefer == "null":
        return NullOutput("audio output off (--null-audio)")
    try:
        return DeviceOutput(sr_hint)
    except Exception as e:  # PortAudioError, OSError (no libportaudio), ...
        return NullOutput(f"no audio device ({_short(e)}): silent, clock kept by the system timer")

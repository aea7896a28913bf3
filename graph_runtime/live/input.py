"""Live input: a sounddevice InputStream (or a file at real-time pace, or a
test's fake stream) -> SampleRing -> analysis worker -> ChannelRing.

Threads:
- the audio callback (PortAudio's thread, or the file feeder's) only copies
  `indata` into the SampleRing and notes the time; it never allocates, never
  waits, takes no lock. A full ring drops the block and counts an overflow;
  PortAudio's own input-overflow flag is counted too.
- the worker (`pump`, looped by a daemon thread) reads fixed 10 ms blocks,
  applies the gain and runs the CausalAnalyser, which publishes rows.

Bad input, and what happens:
- no input device / unknown device / unsupported rate: LiveInputError with a
  one-line message naming the device and what to do (open() raises it);
- a mono device asked for stereo: opened mono, with a message;
- the device disappears mid-show: after LOSS_S without callbacks the worker
  feeds silence at real-time pace (the show goes on, rows keep coming), says
  so in `message`, and tries to reopen the device every RECONNECT_S;
- clipping, DC offset, NaN: counted (clipping), filtered (DC, 10 Hz
  high-pass), zeroed (NaN) in the analyser.

Monitoring (optional): `monitor=Monitor(...)` (live/monitor.py) gets every
block the callback receives and plays it to an output device; when that
device is missing or refuses, `monitor_message` says so in one line and the
input plays on without it.

`stream_factory(device=, samplerate=, channels=, blocksize=, callback=)`
builds the stream; the default is sounddevice.InputStream. Tests pass a
fake whose `feed()` calls the same callback PortAudio would.
"""
from __future__ import annotations

import threading
import time

import numpy as np

from . import audio_device
from .analyser import CausalAnalyser, block_size
from .audio_device import LiveInputError, close_stream
from .bank import LiveSource
from .ring import SampleRing

LOSS_S = 0.5           # no callback for this long while running: the device is gone
RECONNECT_S = 2.0      # between attempts to reopen a lost device
RATES = (48000, 44100)


def list_devices() -> list[dict]:
    """Every audio device: index, name, inputs, outputs, default rate, host API."""
    sd = audio_device._sounddevice()
    apis = sd.query_hostapis()
    out = []
    for i, d in enumerate(sd.query_devices()):
        out.append({"index": i, "name": d["name"], "inputs": int(d["max_input_channels"]),
                    "outputs": int(d["max_output_channels"]),
                    "default_samplerate": float(d["default_samplerate"]),
                    "hostapi": apis[d["hostapi"]]["name"] if d["hostapi"] < len(apis) else ""})
    return out


def resolve_device(device, *, channels: int) -> tuple[object, int, int, str]:
    """(device for sounddevice, channels to open, samplerate, note) or LiveInputError."""
    sd = audio_device._sounddevice()
    try:
        info = sd.query_devices(device, kind="input") if device is not None else \
            sd.query_devices(kind="input")
    except (ValueError, sd.PortAudioError) as e:
        what = f"input device {device!r}" if device is not None else "a default input device"
        raise LiveInputError(f"no {what}: {e}; see `hambajuba audio devices`") from None
    note = ""
    have = int(info["max_input_channels"])
    if have < 1:
        raise LiveInputError(f"device {info['name']!r} has no input channels; "
                             "see `hambajuba audio devices`")
    if channels > have:
        note = f"device {info['name']!r} has {have} input channel; using mono"
        channels = have
    rate = int(info["default_samplerate"])
    if rate not in RATES:
        rate = RATES[0]
    return (device if device is not None else info["name"]), min(channels, 2), rate, note


class LiveInput:
    def __init__(self, *, device=None, channels: int = 2, samplerate: int | None = None,
                 gain: float = 1.0, stream_factory=None, file: str | None = None,
                 realtime: bool = True, loop: bool = False, monitor=None) -> None:
        self.device, self.channels, self.samplerate = device, int(channels), samplerate
        self.loop = bool(loop)  # a file starts again at its end (read each block: live toggle)
        self.gain = float(gain)
        self.file = file
        self.realtime = realtime
        self.stream_factory = stream_factory
        self.monitor = monitor             # a live.monitor.Monitor (the headphone cue), or None
        self.monitor_message = ""          # why the cue is off, one line
        self.stream = None
        self.message = ""
        self.state = "stopped"
        self.overflows = 0                 # PortAudio's input-overflow flags
        self.input_latency_s = 0.0
        self.name = "file" if file else str(device if device is not None else "default input")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._feeder: threading.Thread | None = None
        self._last_callback = 0.0
        self._silence_due = 0.0
        self._next_reconnect = 0.0
        self.analyser: CausalAnalyser | None = None
        self.source: LiveSource | None = None
        # a tapped tempo from the window: (bpm, beat time s), written by the main
        # thread, then `_tap_seq` bumped; the worker applies it between blocks
        self._tap = [0.0, 0.0, 1.0]      # bpm, beat time, lead (1 tap, 2 MIDI clock, 0 let go)
        self._tap_seq = 0
        self._tap_done = 0

    # -- setup ------------------------------------------------------------------
    def open(self) -> LiveSource:
        """Open the input and build analyser and rings; raises LiveInputError."""
        if self.file is not None:
            self._open_file()
        else:
            self._open_device()
        self.block = block_size(self.samplerate)
        try:
            self.analyser = CausalAnalyser(sr=self.samplerate, channels=self.channels)
        except ValueError as e:
            raise LiveInputError(f"{self.name}: {e}") from None
        self.ring = SampleRing(self.samplerate, self.channels)      # 1 s of input
        self._buf = np.zeros((self.block, self.channels), np.float32)
        self._silence = np.zeros((self.block, self.channels), np.float32)
        self.source = LiveSource(self.analyser.ring, input=self)
        return self.source

    def _open_file(self) -> None:
        from ..analysis.decode import decode_for_analysis
        track = decode_for_analysis(self.file)
        self._file_samples = track.frames_first()
        self.samplerate = track.sr
        self.channels = self._file_samples.shape[1]
        self.name = self.file

    def _open_device(self) -> None:
        if self.stream_factory is None:
            dev, ch, rate, note = resolve_device(self.device, channels=self.channels)
            self.device, self.channels, self.message = dev, ch, note
            self.samplerate = int(self.samplerate or rate)
            if self.samplerate not in RATES:
                raise LiveInputError(f"input device {self.device!r}: {self.samplerate} Hz is not "
                                     f"supported; use 44100 or 48000")
            sd = audio_device._sounddevice()
            try:
                sd.check_input_settings(device=self.device, channels=self.channels,
                                        samplerate=self.samplerate, dtype="float32")
            except (ValueError, sd.PortAudioError) as e:
                raise LiveInputError(f"input device {self.device!r} refuses {self.channels} ch at "
                                     f"{self.samplerate} Hz: {e}") from None
        self.samplerate = int(self.samplerate or 48000)
        if self.samplerate not in RATES:
            raise LiveInputError(f"input {self.name}: {self.samplerate} Hz is not supported; "
                                 "use 44100 or 48000")

    def _make_stream(self):
        kw = dict(device=self.device, samplerate=self.samplerate, channels=self.channels,
                  blocksize=block_size(self.samplerate), callback=self.callback)
        if self.stream_factory is not None:
            return self.stream_factory(**kw)
        sd = audio_device._sounddevice()
        return sd.InputStream(dtype="float32", latency="low", **kw)

    # -- the audio callback: copy, count, nothing else --------------------------
    def callback(self, indata, frames, time_info, status) -> None:
        if status and getattr(status, "input_overflow", False):
            self.overflows += 1
        self.ring.write(indata)
        m = self.monitor                   # read once: set_monitor may swap it meanwhile
        if m is not None:
            m.write(indata)
        self._last_callback = time.monotonic()

    # -- run --------------------------------------------------------------------
    def start(self) -> LiveSource:
        if self.analyser is None:
            self.open()
        self._stop.clear()
        self.set_monitor(self.monitor)
        if self.file is not None:
            self._feeder = threading.Thread(target=self._feed_file, name="live-file", daemon=True)
            self.state = "running"
            self._feeder.start()
        else:
            self._start_stream()
        self._thread = threading.Thread(target=self._work, name="live-analysis", daemon=True)
        self._thread.start()
        return self.source

    def _start_stream(self) -> bool:
        try:
            self.stream = self._make_stream()
            self.stream.start()
        except Exception as e:  # PortAudio errors, a fake's refusal: one line, keep going
            self.stream = None
            self._lost(f"input device {self.name} failed to open: {e}")
            return False
        self.input_latency_s = float(getattr(self.stream, "latency", 0.0) or 0.0)
        if self.monitor is not None:
            self.monitor.input_latency_s = self.input_latency_s
        self._last_callback = time.monotonic()
        self.state = "running"
        return True

    def _feed_file(self) -> None:
        """The file at real-time pace through the same callback PortAudio would call."""
        x, b = self._file_samples, self.block
        n = x.shape[0] // b
        start = time.monotonic()
        k = 0
        while k < n or (self.loop and n):  # looping: block k plays the file's block k % n
            if self._stop.is_set():
                return
            due = start + k * b / self.samplerate
            wait = due - time.monotonic()
            if wait > 0 and self.realtime:
                time.sleep(wait)
            while not self.realtime and self.ring.available() > self.ring.capacity // 2:
                time.sleep(0.001)                   # as fast as the worker goes, never dropping
            i = k % n
            self.callback(x[i * b:(i + 1) * b], b, None, None)
            k += 1
        self.state = "finished"
        self.message = f"input ended: {self.file} (loop the file to keep it playing)"

    def _work(self) -> None:
        while not self._stop.is_set():
            if not self.pump():
                time.sleep(0.002)

    def pump(self) -> int:
        """The worker's body: analyse every whole block waiting; watch the device.
        Returns the blocks analysed."""
        done = 0
        if self._tap_seq != self._tap_done:
            self._tap_done = self._tap_seq
            if self._tap[2]:
                self.analyser.tracker.override(self._tap[0], self._tap[1], lead=int(self._tap[2]))
            else:
                self.analyser.tracker.release()
        while self.ring.read_into(self._buf):
            if self.gain != 1.0:
                self._buf *= self.gain
            self.analyser.push(self._buf)
            done += 1
        if self.file is None:
            done += self._watch()
        return done

    def _watch(self) -> int:
        """Device loss: silence at real-time pace, a message, reconnect attempts."""
        now = time.monotonic()
        if self.state == "running" and now - self._last_callback > LOSS_S:
            self._lost(f"input device {self.name} stopped sending audio")
        if self.state != "lost":
            return 0
        fed = 0
        while self._silence_due <= now:                 # keep the rows coming, on silence
            self.analyser.push(self._silence)
            self._silence_due += self.block / self.samplerate
            fed += 1
        if now >= self._next_reconnect:
            self._next_reconnect = now + RECONNECT_S
            self._close_stream()
            if self._start_stream():
                self.message = f"input device {self.name} is back"
        return fed

    def _lost(self, why: str) -> None:
        now = time.monotonic()
        self.state = "lost"
        self.message = f"{why}; playing on silence and reconnecting every {RECONNECT_S:.0f} s"
        self._silence_due = now
        self._next_reconnect = now + RECONNECT_S

    def _close_stream(self) -> None:
        s, self.stream = self.stream, None
        close_stream(s)

    def set_tempo(self, bpm: float, beat_time: float, *, lead: int = 1) -> None:
        """Override the tracker's tempo (lead 1: tap tempo, 2: a MIDI clock): applied by
        the worker."""
        self._tap[0], self._tap[1], self._tap[2] = float(bpm), float(beat_time), float(lead)
        self._tap_seq += 1

    def release_tempo(self) -> None:
        """The tap or MIDI clock lets go: the tracker leads again (applied by the worker)."""
        self._tap[2] = 0.0
        self._tap_seq += 1

    def set_monitor(self, monitor) -> str:
        """Play the input to `monitor` (None: no cue) from the next block on; the old
        cue stops. Returns "" or the one-line reason the new one is off (then the
        input plays on without it)."""
        old, self.monitor, self.monitor_message = self.monitor, None, ""
        if old is not None and old is not monitor:
            old.stop()
        if monitor is None or self.analyser is None:
            self.monitor = monitor
            return ""
        try:
            if monitor.stream is None:
                monitor.open(samplerate=self.samplerate, channels=self.channels, block=self.block)
            monitor.input_latency_s = self.input_latency_s
            monitor.start()
        except ValueError as e:  # monitor.MonitorError (not imported: monitor imports this module)
            self.monitor_message = f"monitor off: {e}; the show goes on without it"
            return self.monitor_message
        self.monitor = monitor               # published last: the callback sees a started cue
        return ""

    def stop(self) -> None:
        self._stop.set()
        for t in (self._feeder, self._thread):
            if t is not None and t is not threading.current_thread():
                t.join(timeout=2.0)
        self._close_stream()
        if self.monitor is not None:
            self.monitor.stop()
        if self.state != "finished":
            self.state = "stopped"

    def stats(self) -> dict:
        a = self.analyser
        return {"state": self.state, "message": self.message, "device": self.name,
                "samplerate": self.samplerate, "channels": self.channels, "gain": self.gain,
                "overflows": self.overflows + (self.ring.overflows if a is not None else 0),
                "clipped": a.clipped if a is not None else 0,
                "input_latency_s": self.input_latency_s,
                "monitor": self._monitor_stats()}

    def _monitor_stats(self) -> dict:
        """The cue's figures (live/monitor.py: latency and its parts, underruns, overruns),
        or {"state": "off", "message": why} when there is none."""
        if self.monitor is None:
            return {"state": "off", "message": self.monitor_message}
        return {**self.monitor.stats(), "message": self.monitor_message}

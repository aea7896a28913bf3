"""Monitoring: the live input played to an output device (a headphone cue).

    input callback --Monitor.write--> SampleRing (0.5 s) --Monitor.callback--> OutputStream

The input callback (PortAudio's, or the file feeder's) hands each block to
`write` right after the analysis ring; the output stream's callback copies
the oldest samples into `outdata`. Both sides only copy into preallocated
memory: no allocation, no lock, never a wait. One writer, one reader (the
SampleRing's contract).

What can go wrong, and what is done:
- the output asks before a block is there (an underrun): it plays silence,
  counts one underrun and waits for a whole block before it plays again
  (re-priming), so a lost input costs one count, not one per callback;
- the ring is full (the output stopped pulling): the input block is dropped
  from the monitor only (an overrun; the analysis never notices);
- the two devices' clocks drift apart, so the backlog grows: when more than
  BACKLOG_BLOCKS wait after a read, the oldest are skipped down to one block
  (counted in `skipped`), which keeps the cue's latency bounded;
- no output device, a device that refuses the rate, a stream that fails to
  open: MonitorError with one line; LiveInput plays on without the cue.

Latency heard, in ms: input latency (the input device's report; 0 for a
file) + output latency (the output device's report) + one block (the block
the output waits for before it plays). `stats()` gives it and its parts.

`stream_factory(device=, samplerate=, channels=, blocksize=, callback=)`
builds the output stream (default sounddevice.OutputStream), as in
live/input.py; tests pass a fake that calls `callback` as PortAudio would.
"""
from __future__ import annotations

import numpy as np

from . import audio_device
from .audio_device import LiveInputError, close_stream
from .ring import SampleRing

RING_S = 0.5           # s of audio the cue can hold
BACKLOG_BLOCKS = 4     # blocks waiting after a read before the oldest are skipped


class MonitorError(ValueError):
    """The monitor cannot play: one line naming the device and why."""


def parse_device(spec: str | int | None):
    """'' or None: the default output; digits: a device index; else a name."""
    if spec is None or spec == "":
        return None
    if isinstance(spec, int):
        return spec
    return int(spec) if spec.strip().isdigit() else spec


def resolve_output(device, *, channels: int, samplerate: int) -> tuple[object, int, str]:
    """(device for sounddevice, channels to open, the device's name) or MonitorError."""
    try:
        sd = audio_device._sounddevice()
    except LiveInputError as e:
        raise MonitorError(str(e)) from None
    what = f"output device {device!r}" if device is not None else "default output device"
    try:
        info = sd.query_devices(device, kind="output") if device is not None else \
            sd.query_devices(kind="output")
    except (ValueError, sd.PortAudioError) as e:
        raise MonitorError(f"no {what}: {e}; see `hambajuba audio devices`") from None
    have = int(info["max_output_channels"])
    if have < 1:
        raise MonitorError(f"device {info['name']!r} has no output channels; "
                           "see `hambajuba audio devices`")
    out_channels = min(max(channels, 2 if have >= 2 else 1), have, 2)   # mono in: both ears
    name = device if device is not None else info["name"]
    try:
        sd.check_output_settings(device=name, channels=out_channels, samplerate=samplerate,
                                 dtype="float32")
    except (ValueError, sd.PortAudioError) as e:
        raise MonitorError(f"output device {name!r} refuses {out_channels} ch at "
                           f"{samplerate} Hz: {e}") from None
    return name, out_channels, str(info["name"])


class Monitor:
    """The cue: a ring from the input callback to an output stream's callback."""

    def __init__(self, device=None, *, gain: float = 1.0, channels: int | None = None,
                 stream_factory=None) -> None:
        self.device = parse_device(device)
        self.channels = channels            # output channels asked for (None: as the input)
        self.gain = float(gain)             # linear; one float the output callback reads
        self.stream_factory = stream_factory
        self.name = "default output" if self.device is None else str(self.device)
        self.stream = None
        self.ring: SampleRing | None = None
        self.state = "off"
        self.samplerate = 0
        self.block = 0
        self.in_channels = self.out_channels = 0
        self.input_latency_s = 0.0          # set by LiveInput once its stream reports it
        self.output_latency_s = 0.0
        self.underruns = 0                  # callbacks that found less than a block (after playing)
        self.device_underflows = 0          # PortAudio's own output-underflow flags
        self.skipped = 0                    # samples skipped to hold the latency (clock drift)
        self._playing = False

    # -- setup (any thread but the audio ones) ----------------------------------------
    def open(self, *, samplerate: int, channels: int, block: int) -> None:
        """Allocate the ring and open (not start) the output stream; MonitorError."""
        self.samplerate, self.block, self.in_channels = int(samplerate), int(block), int(channels)
        self.out_channels = int(self.channels or self.in_channels)
        if self.stream_factory is None:
            self.device, self.out_channels, self.name = resolve_output(
                self.device, channels=self.out_channels, samplerate=self.samplerate)
        self.ring = SampleRing(max(int(RING_S * self.samplerate), 8 * self.block), self.in_channels)
        # the input's channels, read here when the output has another count (mono <-> stereo)
        self._scratch = np.zeros((self.ring.capacity, self.in_channels), np.float32)
        kw = dict(device=self.device, samplerate=self.samplerate, channels=self.out_channels,
                  blocksize=self.block, callback=self.callback)
        try:
            if self.stream_factory is not None:
                self.stream = self.stream_factory(**kw)
            else:
                self.stream = audio_device._sounddevice().OutputStream(dtype="float32", latency="low", **kw)
        except Exception as e:  # PortAudio errors, a fake's refusal: one line
            self.stream = None
            raise MonitorError(f"output device {self.name} failed to open: {e}") from None
        self.output_latency_s = float(getattr(self.stream, "latency", 0.0) or 0.0)

    def start(self) -> None:
        try:
            self.stream.start()
        except Exception as e:
            self.stop()
            raise MonitorError(f"output device {self.name} failed to start: {e}") from None
        self.state = "playing"

    def stop(self) -> None:
        s, self.stream = self.stream, None
        close_stream(s)
        self.state = "off"

    # -- input side: the input callback's thread ----------------------------------------
    def write(self, block: np.ndarray) -> None:
        """Copy one input block (frames, in_channels) in; a full ring drops it (overrun)."""
        self.ring.write(block)

    # -- output side: the output stream's thread ----------------------------------------
    def callback(self, outdata, frames, time_info, status) -> None:
        if status and getattr(status, "output_underflow", False):
            self.device_underflows += 1
        ring = self.ring
        have = ring.available()
        if have < frames or (not self._playing and have < max(frames, self.block)) \
                or frames > self._scratch.shape[0]:
            if self._playing:
                self.underruns += 1
                self._playing = False           # wait for a whole block again
            outdata.fill(0.0)
            return
        self._playing = True
        left = have - frames
        if left > BACKLOG_BLOCKS * self.block:  # the devices drift apart: hold the latency
            skip = left - self.block
            ring.consumed += skip               # the reader owns `consumed`
            self.skipped += skip
        if self.out_channels == self.in_channels:
            ring.read_into(outdata)
        else:
            src = self._scratch[:frames]
            ring.read_into(src)
            if self.out_channels > self.in_channels:    # mono input on both ears
                outdata[:] = src
            else:                                       # stereo input to a mono output
                np.add(src[:, 0:1], src[:, 1:2], out=outdata)
                outdata *= 0.5
        if self.gain != 1.0:
            outdata *= self.gain

    # -- what the window and stats() show ----------------------------------------------
    @property
    def block_s(self) -> float:
        return self.block / self.samplerate if self.samplerate else 0.0

    @property
    def latency_s(self) -> float:
        """Input latency + output latency + one block (s)."""
        return self.input_latency_s + self.output_latency_s + self.block_s

    def stats(self) -> dict:
        ring = self.ring
        return {"device": self.name, "state": self.state, "gain": self.gain,
                "latency_ms": 1e3 * self.latency_s,
                "input_latency_ms": 1e3 * self.input_latency_s,
                "output_latency_ms": 1e3 * self.output_latency_s,
                "block_ms": 1e3 * self.block_s,
                "underruns": self.underruns + self.device_underflows,
                "overruns": ring.overflows if ring is not None else 0,
                "skipped": self.skipped, "channels": self.out_channels}


def latency_text(m: dict) -> str:
    """One line for the window: 'monitor: DEVICE, 23.4 ms (in 1.2 + out 12.2 + block 10.0), ...'."""
    if not m or m.get("state") != "playing":
        return (m or {}).get("message") or "monitor: off"      # "monitor off: <why>" when it failed
    return (f"monitor: {m['device']}, {m['latency_ms']:.1f} ms (in {m['input_latency_ms']:.1f} + "
            f"out {m['output_latency_ms']:.1f} + block {m['block_ms']:.1f}); underruns "
            f"{m['underruns']}, overruns {m['overruns']}")


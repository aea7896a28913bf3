"""Helpers for the render tests: a tiny stand-in engine (a NullEngine, used beside the real
preview engine), a block sink for a small test registry, test tones, and
reading an MP4 back. Named uniquely (not conftest) so imports never collide
with another folder's conftest."""
from __future__ import annotations

import pathlib

import numpy as np

from graph_runtime.engine.null_engine import NullEngine
from graph_runtime.graph.node import Node, Param, mask, signal

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_PATCH = ROOT / "patches" / "default.patch"


class RenderSink(Node):
    """A block sink that claims a FrameParams slot and writes its strength."""

    type_id = "test.render_sink"
    family = "sinks"
    inputs = (signal("strength"), mask("mask"))
    params = (Param("block", "choice", "mid.0", choices=("down.2.1", "mid.0", "up.0.0", "up.0.1")),)

    def prepare(self, ctx):
        self.b, self.s = ctx.slots.slot(self.p["block"], self.id)
        self.frame = ctx.frame

    def process(self, t, dt):
        self.frame.set_strength(self.b, self.s, self.finite(self.strength.v))


class StandInEngine(NullEngine):
    """A NullEngine whose picture depends only on the frame's numbers (the sum of
    its strengths): render(frame) returns a reused (H, W, 4) uint8 buffer, as the
    real Engine does. `delay`: seconds each render takes; `mean`: every feature's."""

    model = "stand-in"

    def __init__(self, size: int = 64, delay: float = 0.0, mean: float = 1.0) -> None:
        super().__init__(size, np.zeros((size, size, 4), np.uint8), render_s=delay, mean=mean,
                         preview=True,
                         description="stand-in engine (tests): a picture of the strengths")
        self.yy, self.xx = np.mgrid[0:size, 0:size].astype(np.float32) / size

    def render(self, frame):
        buf = super().render(frame)   # the render time, the frame count
        s = float(frame.strength.sum())
        buf[..., 0] = (255 * ((self.xx + s * 0.37) % 1.0)).astype(np.uint8)
        buf[..., 1] = (255 * ((self.yy * 2 + s * 0.11) % 1.0)).astype(np.uint8)
        buf[..., 2] = (127 + 120 * np.sin(6.28 * (self.xx + self.yy + s))).astype(np.uint8)
        buf[..., 3] = 255
        return buf


def write_tone(path, seconds: float, rate: int = 44100, channels: int = 2) -> str:
    import soundfile as sf

    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * 220 * t)
    sf.write(str(path), np.stack([x] * channels, axis=1), rate, subtype="PCM_16")
    return str(path)


def decoded_frames(path):
    """(list of RGB arrays, video stream info dict, audio info dict or None)."""
    import av

    with av.open(str(path)) as c:
        v = c.streams.video[0]
        info = {"rate": v.average_rate, "frames": v.frames,
                "duration": float(v.duration * v.time_base) if v.duration else None,
                "width": v.codec_context.width, "height": v.codec_context.height,
                "pix_fmt": v.codec_context.pix_fmt, "codec": v.codec_context.name,
                "container_duration": c.duration / 1e6 if c.duration else None}
        ainfo = None
        if c.streams.audio:
            a = c.streams.audio[0]
            ainfo = {"codec": a.codec_context.name, "rate": a.codec_context.sample_rate,
                     "duration": float(a.duration * a.time_base) if a.duration else None}
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    if ainfo is not None:
        with av.open(str(path)) as c:
            n = sum(fr.samples for fr in c.decode(audio=0))
        ainfo["decoded_samples"] = n
    return frames, info, ainfo


def frames_hash(frames) -> str:
    import hashlib

    h = hashlib.sha256()
    for f in frames:
        h.update(f.tobytes())
    return h.hexdigest()


def as_in_a_terminal() -> None:
    """Popen preexec_fn: a child started from a background job inherits SIGINT
    ignored (POSIX), and Python then never raises KeyboardInterrupt. A user's
    Ctrl-C comes from a terminal where it is not ignored: restore that."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)

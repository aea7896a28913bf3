"""A headless show for the recorder tests: what App.tick does for the stage.

Each window frame: heard = the output's clock; fan.heard(now, heard, playing);
a frame made for `heard` is published as shown. Run as a script it records
and then dies the way the test asks:
    python stage_show.py kill OUT.mp4      SIGKILL itself after 3 s of recording
    python stage_show.py fsize OUT.mp4     the file may not grow past 150 kB (a full disk)
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

from graph_runtime.media.playback import NullOutput, Track  # noqa: E402

SR = 44100


def noise_track(seconds: float = 20.0) -> Track:
    """Noise below ~3 kHz: every stretch is unique (so a lag is found without
    doubt) and AAC keeps it nearly intact."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((int(SR * seconds), 2))
    x = np.cumsum(x, axis=0)
    x = (x[16:] - x[:-16]) / 16.0  # a 16-sample moving average: a low-pass
    return Track((x * 0.8).astype(np.float32), SR, "noise.wav")


def frame_for(t: float, h: int = 96, w: int = 128) -> np.ndarray:
    """A float RGBA frame (as the editor hands them over) whose red says the time."""
    img = np.zeros((h, w, 4), np.float32)
    img[..., 0] = (t % 10.0) / 10.0
    img[..., 1] = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    img[..., 3] = 1.0
    return img


def play(fan, out: NullOutput, seconds: float, *, seek: tuple[float, float] | None = None,
         on_frame=None) -> float | None:
    """Run the window's loop for `seconds`; seek=(after_s, to_s). Returns the
    monotonic time of the seek."""
    t0 = time.monotonic()
    seek_at = None
    while (now := time.monotonic()) - t0 < seconds:
        if seek is not None and seek_at is None and now - t0 >= seek[0]:
            out.seek(seek[1])
            seek_at = time.monotonic()
        heard = out.time()
        fan.heard(now, heard, out.playing)
        fan.publish(frame_for(heard), now, heard)
        if on_frame is not None:
            on_frame()
        time.sleep(1 / 60)
    return seek_at


def main(how: str, path: str) -> int:
    import resource
    import signal

    from graph_runtime.stage.fanout import FrameFanout
    from graph_runtime.stage.recorder import LiveRecorder

    out = NullOutput()
    out.load(noise_track())
    out.play()
    fan, rec = FrameFanout(), LiveRecorder(fps=30)
    fan.add(rec)
    if how == "fsize":
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, resource.RLIM_INFINITY))
    reason = rec.start(path, track_of=lambda: out.track)
    if reason:
        print("start failed:", reason)
        return 1
    if how == "kill":
        play(fan, out, 3.0)
        time.sleep(0.5)  # let the encoder catch up to about now
        os.kill(os.getpid(), signal.SIGKILL)
    news = []
    shown_after = [0]

    def watch():
        n = rec.poll()
        if n:
            news.append(n)
        if news:
            shown_after[0] += 1

    play(fan, out, 6.0, on_frame=watch)
    print("recording:", rec.recording)
    print("news:", news)
    print("frames shown after the message:", shown_after[0])
    fan.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

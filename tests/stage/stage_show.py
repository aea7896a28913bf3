"""A headless show for the recorder tests: what App.tick does for the stage.

Each window frame: heard = the output's clock; fan.heard(now, heard, playing);
a frame made for `heard` is published as shown. Run as a script it records
and then dies the way the test asks:
    python stage_show.py kill OUT.mp4      SIGKILL itself after 3 s of recording
    python stage_show.py fsize OUT.mp4     the file may not grow past 150 kB (a full disk)
    python stage_show.py busy OUT.mp4      512 px frames for 6 s, then SIGKILL mid-show (no
                                           grace): prints the kill's recording time and the lag
    python stage_show.py busystop OUT.mp4  the same, then Stop: prints how long finishing took
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


def die_busy(fan, out, rec, seconds: float = 6.0, kill: bool = True) -> int:
    """The window's loop with 512 px frames (as the engine hands them over), the
    recorder's lag read each frame, then kill -9 at once, mid-show."""
    import signal

    rng = np.random.default_rng(3)
    noise = rng.integers(0, 40, (512, 512, 4), dtype=np.uint8)
    behind = [0.0]

    def frame512(t: float) -> np.ndarray:
        img = noise.copy()
        img[..., 0] += np.uint8(int(t * 20) % 200)  # changes every frame: real work for x264
        img[40:56, 40:56, 0] = np.uint8(int((t % 10.0) * 25.5))
        return img

    t0 = time.monotonic()
    while (now := time.monotonic()) - t0 < seconds:
        heard = out.time()
        fan.heard(now, heard, out.playing)
        fan.publish(frame512(heard), now, heard)
        behind[0] = max(behind[0], rec.behind_s)
        if now - t0 >= 2.0 and not rec._events:  # what the window tells it as the show goes
            rec.note("scene", name="drop")
            rec.update_meta({"track": "noise.wav", "model": "preview"})
        time.sleep(1 / 60)
    end_t = time.monotonic() - rec._w0
    print(f"{'kill' if kill else 'stop'} at {end_t:.3f} behind max {behind[0]:.3f} "
          f"dropped {rec.dropped} stride {rec.stride} audio {rec._audio_rate} Hz", flush=True)
    if kill:
        os.kill(os.getpid(), signal.SIGKILL)
    t0 = time.monotonic()
    rec.stop()
    while rec.recording:  # the window goes on; the recorder finishes on its thread
        fan.heard(time.monotonic(), out.time(), out.playing)
        time.sleep(1 / 60)
    print(f"stopped in {time.monotonic() - t0:.3f} s; {rec.poll()}", flush=True)
    fan.close()
    return 0


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
    track_of = lambda: out.track  # noqa: E731
    if how in ("busy", "busystop"):  # as in the window: Record before the track has loaded, so
        out.load(noise_track(90.0))  # the file's audio rate (48 kHz) is not the track's (44.1),
        out.play()  # and a long track: reading it must not cost its length
        late = time.monotonic() + 0.5
        track_of = lambda: out.track if time.monotonic() > late else None  # noqa: E731
    reason = rec.start(path, track_of=track_of)
    if reason:
        print("start failed:", reason)
        return 1
    if how in ("busy", "busystop"):
        return die_busy(fan, out, rec, kill=how == "busy")
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

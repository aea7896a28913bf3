"""The stage: frames leave the editor for a projector, other software and a file.

fanout.py        FrameFanout: each shown frame once to every sink
shm_ring.py      a shared-memory ring of frames (no pickling per frame)
output_window.py the output window process (glfw + moderngl, fullscreen on a monitor)
supervisor.py    the parent side of it: start, feed, notice death, reopen
mjpeg.py         MJPEG over HTTP (TurboJPEG on a worker thread)
recorder.py      the live show to a fragmented MP4 with the audio as heard
heard_audio.py   the audio the room heard, from the heard-position log
live_mp4.py      the fragmented H.264 + AAC writer the recorder uses
bench.py         `hambajuba bench stage`
"""

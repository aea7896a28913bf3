"""The stage: frames leave the editor for a projector, other software and a file.

fanout.py        FrameFanout: each shown frame once to every sink
shm_ring.py      a shared-memory ring of frames (no pickling per frame)
output_window.py the output window process (glfw + moderngl, fullscreen on a monitor)
supervisor.py    the parent side of it: start, feed, notice death, reopen
jpeg_source.py   the newest shown frame as JPEG (TurboJPEG on a worker thread), for every viewer
mjpeg.py         MJPEG over HTTP on the one aiohttp loop (http/)
http/            that loop: bounds, tokens, the web control surface (perform --web)
recorder.py      the live show to a fragmented MP4 with the audio as heard
heard_audio.py   the audio the room heard, from the heard-position log
live_mp4.py      the fragmented H.264 + AAC writer the recorder uses
bench.py         `hambajuba bench stage`
"""

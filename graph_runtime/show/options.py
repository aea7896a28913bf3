"""ShowOptions: what the window is asked to do when it opens, one field each.

`hambajuba perform`'s flags, the tests' windows and the benches fill one of
these and hand it to the App (hambajuba_nodes/editor/app.py). Plain data, no
behaviour: each field is read by the part of the show that uses it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class ShowOptions:
    # what plays
    patch_path: str | None = None
    track_path: str | None = None
    autoplay: bool = False  # play the track given as soon as it and the engine are in
    analyze: Callable | None = None  # path -> Analysis; None: the real offline analysis
    live_input: str | None = None  # a live input to start with (--input), instead of a track

    # the engine: local (model, size), remote (address, token, frames in flight), or a test's
    model: str | None = None
    engine: bool | Callable[[], Any] = True  # False: none; a callable: builds a stand-in engine
    size: int | None = None  # px of the square image; None: the model's own
    engine_address: str | None = None
    engine_token: bytes | None = None
    engine_in_flight: int = 2

    # sound and files
    output: Any = None  # a media.playback.Output; None: open one by `audio`
    audio: str = "auto"  # "auto" or "null"
    config: str | None = None  # the settings folder; None: the user's data folder
    autosave_every: float = 30.0  # seconds

    # the stage: output window, MJPEG, recorder, web surface
    output_window: bool = False
    monitor: int | None = None
    fullscreen: bool = False
    serve_output: str | None = None
    record: str | None = None
    serve_token: bytes | None = None
    web: str | None = None
    web_token: bytes | None = None

    # live input and its headphone cue
    monitor_out: str | None = None  # --monitor-out: the cue's output device
    monitor_gain_db: float = 0.0

    # control: MIDI, OSC, clock and beats out, agents, the character view
    midi: tuple[str, ...] = ()
    osc: str | None = None
    clock_out: str | None = None
    beat_out: str | None = None
    mcp: bool = False
    character: dict | None = None  # view, skin, canvas

    # the window itself
    width: int = 1600
    height: int = 960
    vsync: bool = True
    title: str = "hambajuba"

    def stage(self) -> dict[str, Any]:
        """The stage's settings, as StageControls takes them."""
        return {k: getattr(self, k) for k in ("output_window", "monitor", "fullscreen", "serve_output",
                                              "record", "serve_token", "web", "web_token")}

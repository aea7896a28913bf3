"""Run by test_window_remote.py in its own interpreter (one Dear PyGui window
per process): the App on remote engine A, then the Engine tab's field set to
B through its own callback; prints what happened, one `key value` a line."""
from __future__ import annotations

import sys
import time

import dearpygui.dearpygui as dpg

from graph_runtime.analysis.store import synthetic
from graph_runtime.media.playback import NullOutput
from graph_runtime.show.options import ShowOptions
from hambajuba_nodes.editor.app import App


def analyze(path, progress, duration):
    return synthetic(max(duration, 0.1)), "synthetic analysis (test)"


def until(app, cond, timeout=60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end and not cond():
        app.step()
    return cond()


def main() -> None:
    first, second, wav, config = sys.argv[1:5]
    app = App(ShowOptions(engine_address=first, output=NullOutput("test: null audio"), config=config,
              vsync=False, analyze=analyze, track_path=wav, autoplay=True, width=1400, height=900))
    w = lambda: app.worker  # noqa: E731
    print("first_ready", until(app, lambda: w().ready and w().rendered >= 5))
    print("first_engine", w().engine.address)
    until(app, lambda: "ms" in dpg.get_value(app.engine_link), 10.0)
    print("engine_tab_link", dpg.get_value(app.engine_link))
    field = app.engine_address_input
    dpg.get_item_callback(field)(field, f"  {second} ")   # what typing + Enter does
    print("second_ready", until(app, lambda: w().ready and w().engine.address == second
                                and w().rendered >= 5))
    print("second_engine", w().engine.address)
    print("description", w().engine.description)
    dpg.get_item_callback(field)(field, "nonsense:port:x")
    print("bad_state", until(app, lambda: w().state == "failed", 20.0) and w().state)
    print("bad_message", w().message)
    app.close()


if __name__ == "__main__":
    main()

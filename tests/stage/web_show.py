"""A running show for the web surface tests: the headless show the window's
per-frame path is made of (HeadlessShow: control drain, live update, plan ->
FrameParams), its ControlSession wired to a WebSurface exactly as the Stage
menu wires it, ticking at 60 fps on its own thread (the show's "main thread").
"""
from __future__ import annotations

import threading
import time

import numpy as np
from control_helpers import small_patch

TOKEN = b"web-surface-token-0123456789"


def show_patch():
    """sink.strength and knob.value pinned; two scenes; two SAE sinks."""
    p = small_patch()
    p.meta["perform"] = [["sink", "strength"], ["knob", "value"]]
    p.scenes.append({"name": "calm", "values": {"knob": {"value": -0.5}}})
    p.scenes.append({"name": "loud", "values": {"knob": {"value": 0.75}}})
    return p


class RunningShow:
    def __init__(self, patch=None, *, token: bytes | None = TOKEN, fps: float = 60.0,
                 features=None) -> None:
        from graph_runtime.analysis.store import synthetic
        from graph_runtime.show.headless_show import HeadlessShow
        from graph_runtime.stage.fanout import FrameFanout
        from graph_runtime.stage.http.web import WebSurface
        from hambajuba_nodes.editor.features import FeatureIndex
        from hambajuba_nodes.registry import default_registry

        self.show = HeadlessShow(patch or show_patch(), registry=default_registry(),
                                 analysis=synthetic(600.0), fps=fps)
        self.session = self.show.control
        self.index = features or FeatureIndex()
        self.web = WebSurface(self.session, port=0, token=token, features=lambda: self.index)
        self.web.start()
        self.fan = FrameFanout()
        self.fan.add(self.web.source)
        self.period = 1.0 / fps
        self.t = 0.0
        self.frames = 0
        # per frame: (frame, inbox posts before its drain, track t, knob.value after the frame)
        self.log: list[tuple[int, int, float, float]] = []
        self.after: list = []  # fn(show) called after each tick (on the show thread)
        self._stop = threading.Event()
        y, x = np.mgrid[0:256, 0:256].astype(np.float32) / 255.0
        self._xy = (x, y)
        self._img = np.zeros((256, 256, 4), np.uint8)
        self._img[..., 3] = 255
        self.thread = threading.Thread(target=self._run, name="show-main", daemon=True)
        self.lock = threading.Lock()  # held while a frame runs: tests read state between frames

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web.port}"

    def start(self) -> RunningShow:
        self.thread.start()
        return self

    def _run(self) -> None:
        t0 = time.monotonic()
        nxt = t0
        while not self._stop.is_set():
            with self.lock:
                self.t = time.monotonic() - t0
                posted = self.session.inbox.posted()
                frame = self.show.tick(self.t)
                self.frames += 1
                self.log.append((self.frames, posted, self.t,
                                 self.show.model.param_value("knob", "value")))
                if self.web is not None:
                    self.web.tick(fps=1.0 / self.period, problems=())
                if frame is not None and self.frames % 2 == 0:  # a picture that follows the knob
                    self._paint(float(self.show.model.param_value("knob", "value")))
                    self.fan.publish(self._img, time.monotonic(), self.t)
                for fn in self.after:
                    fn(self)
            nxt += self.period
            time.sleep(max(0.0, nxt - time.monotonic()))

    def _paint(self, knob: float) -> None:
        x, y = self._xy
        ph = self.t * 0.8
        self._img[..., 0] = (127 + 120 * np.sin(6 * x + ph + 2 * knob)).astype(np.uint8)
        self._img[..., 1] = (127 + 120 * np.sin(5 * y - ph)).astype(np.uint8)
        self._img[..., 2] = (127 + 120 * np.cos(4 * (x + y) + ph * 0.5)).astype(np.uint8)

    def stop_web(self) -> None:
        """The web surface goes away (the Stage menu's entry: stop)."""
        with self.lock:
            old, self.web = self.web, None
        self.fan.remove(old.source)
        self._was = (old.port, old.token)
        old.close()

    def start_web(self) -> None:
        """... and comes back on the same port, with the same token."""
        from graph_runtime.stage.http.web import WebSurface

        port, token = self._was
        web = WebSurface(self.session, port=port, token=token, features=lambda: self.index)
        web.start()
        self.fan.add(web.source)
        with self.lock:
            self.web = web

    def value(self, node: str, param: str):
        with self.lock:
            return self.show.model.param_value(node, param)

    def wait(self, cond, timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if cond():
                    return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.fan.close()
        if self.web is not None:
            self.web.close()

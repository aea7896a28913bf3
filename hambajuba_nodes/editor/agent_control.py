"""`perform --mcp`: agents may play this window's show (docs/agent.md).

Opens the control endpoint (graph_runtime/control/endpoint.py) on the
control session's inbox and attaches an AgentDesk to the session, so agent
calls are drained with OSC and MIDI at the start of each frame and their
edits go through the editor model (validation, undo, Messages marked
"agent"). F12 is the panic key: it freezes agent input (and drops agent
fades in flight); F12 again hands control back. It works while typing too.

The agent's `get_frame` reads the newest shown frame from a frame sink on
the stage fan-out (copied on the sink's own thread, never the main one).
"""
from __future__ import annotations

import json
import shutil
import sys
import threading
from pathlib import Path

import dearpygui.dearpygui as dpg

from graph_runtime.agent.desk import AgentDesk
from graph_runtime.control.endpoint import ControlEndpoint, EndpointError

from .key_presses import fresh

PANIC_KEY = "F12"


class LatestFrame:
    """A frame sink keeping a copy of the newest shown frame (uint8 RGBA)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buf = None
        self.seq = 0

    def consume(self, rgba, shown_at: float, track_t: float, seq: int) -> None:
        with self._lock:
            if self._buf is None or self._buf.shape != rgba.shape:
                self._buf = rgba.copy()
            else:
                self._buf[...] = rgba
            self.seq = seq

    def read(self):
        with self._lock:
            return None if self._buf is None else self._buf.copy()


class WindowShow:
    """The host interface of graph_runtime/agent/ops.py for the window."""

    def __init__(self, app, latest: LatestFrame) -> None:
        self.app, self.latest = app, latest
        self.model, self.registry = app.model, app.registry

    @property
    def track(self):
        return getattr(self.app.transport, "path", "") or None

    @property
    def patch_path(self):
        return self.app.files.path

    def engine_info(self) -> dict:
        w = self.app.worker
        if w is None:
            return {"state": "off", "preview": False, "model": ""}
        info = {"state": w.state, "preview": bool(w.is_preview),
                "model": w.engine.description if w.engine is not None else ""}
        if w.is_preview:
            info["note"] = "preview model: tiny, untrained, random weights (shows the dataflow)"
        return info

    def frame(self):
        return self.latest.read()


class AgentControl:
    def __init__(self, app) -> None:
        self.app = app
        self.latest = LatestFrame()
        session = app.control.session
        self.desk = AgentDesk(session, WindowShow(app, self.latest))
        self.endpoint: ControlEndpoint | None = None
        try:
            self.endpoint = ControlEndpoint(session.inbox).start()
        except (EndpointError, OSError) as e:
            app.exit_problems.append(str(e))
            app.status("error", str(e))
            return
        app.show.fanout.add(self.latest)
        with dpg.handler_registry():
            panic_key = getattr(dpg, f"mvKey_{PANIC_KEY}")
            dpg.add_key_press_handler(key=panic_key, callback=lambda: fresh(panic_key) and self.panic())
        app.status("info", f"agents may play (MCP on 127.0.0.1:{self.endpoint.port}); "
                           f"{PANIC_KEY} freezes them")

    def panic(self) -> None:
        """The panic key: freeze agent input, or hand control back when frozen."""
        if self.desk.frozen:
            self.desk.enable()
        else:
            self.desk.freeze(f"the performer pressed {PANIC_KEY}")

    def close(self) -> None:
        if self.endpoint is not None:
            self.endpoint.close()
        self.app.show.fanout.remove(self.latest)


def client_config() -> str:
    """What to paste into an MCP client's configuration (a stdio server): the installed
    `hambajuba` command, else this Python with the checkout on its path."""
    found = shutil.which("hambajuba")
    if found:
        server = {"command": found, "args": ["mcp"]}
    else:
        root = str(Path(__file__).resolve().parents[2])
        server = {"command": sys.executable, "args": ["-m", "hambajuba_nodes.cli", "mcp"],
                  "env": {"PYTHONPATH": root}}
    return json.dumps({"mcpServers": {"hambajuba": server}}, indent=2)

"""The output window: its own process, glfw + moderngl, the image and nothing else.

    python -m graph_runtime.stage.output_window --ring NAME [--monitor N]
        [--fullscreen] [--size WxH] [--pos X,Y] [--title T]
    python -m graph_runtime.stage.output_window --list-monitors   (JSON on stdout)

Why a process: Dear PyGui owns one viewport per process, so the projector
gets a process of its own. Why glfw + moderngl rather than a second Dear
PyGui: glfw gives real fullscreen on a chosen monitor
(`glfw.create_window(w, h, title, monitor, None)`), and one texture upload +
one quad is about half the per-frame cost of a child Dear PyGui viewport.

Frames come from a FrameRing (shm_ring.py) the editor writes; this process
polls it every couple of ms, uploads the newest slot straight from shared
memory into the texture, draws it letterboxed (aspect kept, black bars) and
swaps: a frame is on screen within one display frame of being published.

Control, one line each on stdin: `ring NAME` (the editor made a bigger
ring), `snap FILE.npy` (write what the window shows, (H, W, 3) uint8, for
tests), `quit`. End of stdin (the editor is gone) also quits. Status lines go
to stdout: `open ...`, `warn ...`, `closed`.

Monitors: glfw's list, or the JSON list in $HAMBAJUBA_MONITORS
([{"name", "x", "y", "width", "height"}], for tests: Xvfb shows glfw one
monitor). An injected monitor is filled by an undecorated window at its
position and size (borderless fullscreen). Esc closes the window; the show
goes on in the editor.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import sys
import threading
import time

import numpy as np

MONITORS_ENV = "HAMBAJUBA_MONITORS"
DEFAULT_SIZE = (960, 540)

_VERT = """
#version 330
in vec2 pos;
out vec2 uv;
void main() {
    uv = vec2(pos.x * 0.5 + 0.5, 0.5 - pos.y * 0.5);  // image row 0 is the top
    gl_Position = vec4(pos, 0.0, 1.0);
}
"""
_FRAG = """
#version 330
uniform sampler2D image;
in vec2 uv;
out vec4 colour;
void main() { colour = vec4(texture(image, uv).rgb, 1.0); }
"""


# -- monitors --------------------------------------------------------------------------

def injected_monitors() -> list[dict] | None:
    text = os.environ.get(MONITORS_ENV)
    if not text:
        return None
    try:
        items = json.loads(text)
        return [{"index": i, "name": str(m.get("name", f"monitor {i}")), "x": int(m["x"]),
                 "y": int(m["y"]), "width": int(m["width"]), "height": int(m["height"]),
                 "handle": None} for i, m in enumerate(items[:16])]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def glfw_monitors() -> list[dict]:
    import glfw

    out = []
    for i, mon in enumerate(glfw.get_monitors() or []):
        mode = glfw.get_video_mode(mon)
        x, y = glfw.get_monitor_pos(mon)
        name = glfw.get_monitor_name(mon)
        out.append({"index": i, "name": name.decode() if isinstance(name, bytes) else str(name),
                    "x": x, "y": y, "width": mode.size.width, "height": mode.size.height,
                    "handle": mon})
    return out


def pick_monitor(monitors: list[dict], index: int | None) -> tuple[dict | None, str]:
    """(the monitor, a warning or ''): a missing index falls back to a window."""
    if index is None:
        return None, ""
    if 0 <= index < len(monitors):
        return monitors[index], ""
    n = len(monitors)
    return None, (f"monitor {index} does not exist ({n} monitor{'s' if n != 1 else ''}: "
                  f"0..{n - 1}); opened a window on the primary screen instead")


def fit_rect(img_w: int, img_h: int, fb_w: int, fb_h: int) -> tuple[int, int, int, int]:
    """The largest (x, y, w, h) inside the framebuffer with the image's aspect, centred."""
    scale = min(fb_w / img_w, fb_h / img_h)
    w, h = max(1, round(img_w * scale)), max(1, round(img_h * scale))
    return (fb_w - w) // 2, (fb_h - h) // 2, w, h


# -- the window --------------------------------------------------------------------------

class OutputWindow:
    def __init__(self, ring_name: str, *, monitor: int | None, fullscreen: bool,
                 size: tuple[int, int], title: str, pos: tuple[int, int] | None = None) -> None:
        import glfw
        import moderngl

        from .shm_ring import FrameRing

        if not glfw.init():
            raise RuntimeError("glfw could not start (no display?)")
        self.glfw = glfw
        monitors = injected_monitors() or glfw_monitors()
        chosen, warning = pick_monitor(monitors, monitor if monitor is not None or not fullscreen else 0)
        if warning:
            say("warn", warning)
        glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
        glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
        glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
        # the performer keeps patching on the laptop: the projector window takes no keyboard
        # focus when it opens, and stays fullscreen when the editor has the focus (glfw would
        # otherwise iconify a fullscreen window the moment it loses focus)
        glfw.window_hint(glfw.FOCUSED, glfw.FALSE)
        glfw.window_hint(glfw.FOCUS_ON_SHOW, glfw.FALSE)
        glfw.window_hint(glfw.AUTO_ICONIFY, glfw.FALSE)
        w, h = size
        real = None
        if chosen is not None and fullscreen:
            glfw.window_hint(glfw.DECORATED, glfw.FALSE)  # no chrome
            w, h = chosen["width"], chosen["height"]
            real = chosen["handle"]  # None for an injected monitor: borderless at its place
        self.window = glfw.create_window(w, h, title, real, None)
        if not self.window:
            raise RuntimeError("glfw could not open a window")
        if pos is not None and not fullscreen:  # where it was before (a reopen after a crash)
            glfw.set_window_pos(self.window, *pos)
        elif chosen is not None and real is None:
            glfw.set_window_pos(self.window, chosen["x"] + (0 if fullscreen else 40),
                                chosen["y"] + (0 if fullscreen else 40))
        if not fullscreen:  # the editor keeps where it is, to reopen it there after a crash
            glfw.set_window_pos_callback(self.window, lambda win, x, y: self._placed())
            glfw.set_window_size_callback(self.window, lambda win, w, h: self._placed())
            self._placed()
        if fullscreen:
            glfw.set_input_mode(self.window, glfw.CURSOR, glfw.CURSOR_HIDDEN)
        glfw.make_context_current(self.window)
        glfw.swap_interval(1)  # vsync: one upload + swap per display frame at most
        glfw.set_key_callback(self.window, self._key)
        self.ctx = moderngl.create_context()
        prog = self.ctx.program(vertex_shader=_VERT, fragment_shader=_FRAG)
        quad = self.ctx.buffer(np.array([-1, -1, 1, -1, -1, 1, 1, 1], np.float32).tobytes())
        self.vao = self.ctx.vertex_array(prog, [(quad, "2f", "pos")])
        self.texture = None
        self.ring = FrameRing(name=ring_name, create=False)
        self.seen = 0
        self.img_size = (1, 1)
        where = f"on monitor {chosen['index']} ({chosen['name']})" if chosen else "windowed"
        say("open", f"{'fullscreen' if fullscreen and chosen else 'window'} {w}x{h} {where}")

    def _placed(self) -> None:
        x, y = self.glfw.get_window_pos(self.window)
        w, h = self.glfw.get_window_size(self.window)
        say("pos", f"{x} {y} {w} {h}")

    def _key(self, window, key, scancode, action, mods) -> None:
        if key == self.glfw.KEY_ESCAPE and action == self.glfw.PRESS:
            self.glfw.set_window_should_close(window, True)

    def attach(self, ring_name: str) -> None:
        from .shm_ring import FrameRing

        old, self.ring = self.ring, FrameRing(name=ring_name, create=False)
        old.close()
        self.seen = 0

    def upload_newest(self) -> bool:
        seq = self.ring.latest()
        if seq == self.seen:
            return False
        view = self.ring.peek(seq)
        if view is None:
            return False
        h, w = view.shape[:2]
        if self.texture is None or self.texture.size != (w, h):
            if self.texture is not None:
                self.texture.release()
            self.texture = self.ctx.texture((w, h), 4, dtype="f1")
            self.texture.filter = (self.ctx.LINEAR, self.ctx.LINEAR)
        self.texture.write(view)  # straight from shared memory
        if not self.ring.still(seq) or not self.ring.intact(seq, view):
            return False  # overwritten mid-upload: the next poll takes the newer one
        self.seen, self.img_size = seq, (w, h)
        return True

    def draw(self) -> None:
        fb_w, fb_h = self.glfw.get_framebuffer_size(self.window)
        self.ctx.viewport = (0, 0, fb_w, fb_h)
        self.ctx.clear(0.0, 0.0, 0.0, 1.0)
        if self.texture is not None:
            self.ctx.viewport = fit_rect(*self.img_size, fb_w, fb_h)
            self.texture.use(0)
            self.vao.render(mode=self.ctx.TRIANGLE_STRIP)

    def snap(self, path: str) -> None:
        fb_w, fb_h = self.glfw.get_framebuffer_size(self.window)
        self.ctx.viewport = (0, 0, fb_w, fb_h)
        raw = self.ctx.screen.read(viewport=(0, 0, fb_w, fb_h), components=3)
        img = np.frombuffer(raw, np.uint8).reshape(fb_h, fb_w, 3)[::-1]  # GL rows go up
        tmp = path + ".tmp.npy"
        np.save(tmp, np.ascontiguousarray(img), allow_pickle=False)
        os.replace(tmp, path)
        say("snap", path)

    def run(self, commands: queue.Queue) -> None:
        glfw = self.glfw
        dirty, fb = True, None
        while not glfw.window_should_close(self.window):
            glfw.poll_events()
            size = glfw.get_framebuffer_size(self.window)
            if size != fb:  # resized or moved to another screen: lay the bars out again
                fb, dirty = size, True
            snap = None
            while not commands.empty():
                cmd, _, arg = commands.get().partition(" ")
                if cmd == "quit":
                    return
                if cmd == "ring":
                    self.attach(arg)
                elif cmd == "snap":
                    snap = arg
            fresh = self.upload_newest()
            if fresh or dirty or snap:
                self.draw()
                if snap:
                    self.snap(snap)
                glfw.swap_buffers(self.window)
                if fresh:
                    self.ring.mark_shown(self.seen, time.monotonic())
                dirty = False
            else:
                time.sleep(0.002)  # no new frame: poll the ring again soon

    def close(self) -> None:
        self.ring.close()
        self.glfw.terminate()


def say(kind: str, text: str) -> None:
    print(f"{kind} {text}", flush=True)


def _read_commands(q: queue.Queue) -> None:
    for line in sys.stdin:
        q.put(line.strip())
    q.put("quit")  # the editor is gone


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    w, h = int(w), int(h)
    if not (64 <= w <= 8192 and 64 <= h <= 8192):
        raise ValueError(text)
    return w, h


def _pos(text: str) -> tuple[int, int]:
    x, _, y = text.partition(",")
    x, y = int(x), int(y)
    if not (-32768 <= x <= 32767 and -32768 <= y <= 32767):
        raise ValueError(text)
    return x, y


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="output_window")
    p.add_argument("--ring")
    p.add_argument("--monitor", type=int, default=None)
    p.add_argument("--fullscreen", action="store_true")
    p.add_argument("--size", type=_size, default=DEFAULT_SIZE)
    p.add_argument("--pos", type=_pos, default=None, help="X,Y of a windowed window")
    p.add_argument("--title", default="hambajuba output")
    p.add_argument("--list-monitors", action="store_true")
    args = p.parse_args(argv)
    # a window on a projector: Ctrl-C in the terminal ends it like the editor (a child of a
    # background job would otherwise inherit SIGINT ignored)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if args.list_monitors:
        mons = injected_monitors()
        if mons is None:
            import glfw

            if not glfw.init():
                print("[]")
                return 1
            mons = glfw_monitors()
            glfw.terminate()
        print(json.dumps([{k: v for k, v in m.items() if k != "handle"} for m in mons]))
        return 0
    commands: queue.Queue = queue.Queue()
    threading.Thread(target=_read_commands, args=(commands,), daemon=True).start()
    try:
        win = OutputWindow(args.ring, monitor=args.monitor, fullscreen=args.fullscreen,
                           size=args.size, title=args.title, pos=args.pos)
    except Exception as e:
        say("error", f"{type(e).__name__}: {e}")
        return 1
    try:
        win.run(commands)
    finally:
        win.close()
        say("closed", "")
    return 0


if __name__ == "__main__":
    sys.exit(main())

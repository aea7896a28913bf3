"""`hambajuba bench soak --minutes M [--json]`: an hour on stage, or M minutes of it
(hambajuba_nodes/cli/soak_show.py says what runs). Needs a display; without
one it starts a private Xvfb."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile


def add_bench_soak_parser(sub) -> None:
    p = sub.add_parser("soak", help="the window, output window, MJPEG viewer, recording, OSC at "
                                    "200 msg/s, scene recalls and live input for M minutes: "
                                    "RSS, frames dropped, recording vs time played")
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_bench_soak)


def show_output(proc: subprocess.CompletedProcess, most: int = 3000) -> str:
    """The last `most` characters of what the show printed, without faulthandler's list of
    extension modules: on an abort that one line is ~3000 characters, and it pushed the
    cause (glfw's "Failed to open display", the stack through show_viewport) out of view
    of the user and of the window tests' rerun of a window that never opened."""
    lines = (proc.stdout + proc.stderr).splitlines()
    return "\n".join(ln for ln in lines if not ln.startswith("Extension modules:"))[-most:]


def run_bench_soak(args) -> int:
    if not 0.1 <= args.minutes <= 600:
        print("hambajuba bench soak: --minutes must be in 0.1..600", file=sys.stderr)
        return 2
    from hambajuba_nodes.editor.display import has_display, private_display

    env, xvfb = dict(os.environ), None
    if not has_display():
        try:
            name, xvfb = private_display(size="1600x1000x24", first=300 + os.getpid() % 300)
        except RuntimeError as e:
            print(f"hambajuba bench soak: {e}", file=sys.stderr)
            return 1
        env["DISPLAY"] = name
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    try:
        with tempfile.TemporaryDirectory(prefix="hambajuba-soak-") as work:
            proc = subprocess.run([sys.executable, "-m", "hambajuba_nodes.cli.soak_show",
                                   str(args.minutes), work], capture_output=True, text=True,
                                  env=env, timeout=60 * args.minutes + 900)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)
    found = [ln for ln in proc.stdout.splitlines() if ln.startswith("SOAK ")]
    if proc.returncode != 0 or not found:
        print(f"hambajuba bench soak: the show failed (exit {proc.returncode}):\n"
              f"{show_output(proc)}", file=sys.stderr)
        # killed by a signal: say which, as a shell does (128 + signal: 134 is an abort)
        return 128 - proc.returncode if proc.returncode < 0 else 1
    r = json.loads(found[-1][5:])
    if args.json:
        print(json.dumps(r, sort_keys=True))
        return 0
    print(f"soak {r['minutes']:g} min: RSS {r['rss_start_mb']} -> {r['rss_end_mb']} MB (max "
          f"{r['rss_max_mb']}); output window {r['window_rss_start_mb']} -> "
          f"{r['window_rss_end_mb']} MB; frames shown {r['frames_shown']}, dropped "
          f"{r['frames_dropped']}; MJPEG frames {r['mjpeg_frames']}; OSC {r['osc_sent']} sent, "
          f"{r['scene_recalls']} recalls; recording {r['recording_s']} s for "
          f"{r['played_s']} s played")
    return 0

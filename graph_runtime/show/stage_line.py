"""The operator's stage line: what the F11 overlay says, as plain text.

Perform mode (F11) shows the output alone on the laptop; this thin line over
it tells the operator what the audience cannot see: the time heard, the BPM
with a flash on each beat, the scene playing and the one waiting (with its
count-in), the engine link (RTT and fps when remote), the recording and the
patch's problems. It is drawn by the window only, never into a frame, so the
output window, the MJPEG stream and the recording never show it.

Pure functions of numbers the window already has; no Dear PyGui here.
"""
from __future__ import annotations

from dataclasses import dataclass

FLASH_BEATS = 0.15  # the beat light is on for this fraction of a beat after each beat


@dataclass
class StageFacts:
    heard: float = 0.0  # track time heard, s
    bar: int = 0
    beat: int = 0
    bpm: float = 0.0
    beat_phase: float = 0.0  # fraction of the current beat, [0, 1)
    playing: bool = False
    scene: str = ""  # the scene heard now ('' before any recall)
    cue: str = ""  # "next: drop in 3 beats" or ''
    link: str = ""  # "local" / "remote 23 ms 28 fps" / "remote: reconnecting"
    output_fps: float = 0.0
    recording: str = ""  # "REC 3:02" (+ ", 1.2 s behind") or ''
    problems: int = 0


def clock(t: float) -> str:
    t = max(0.0, t)
    m, s = divmod(t, 60.0)
    return f"{int(m):02d}:{s:04.1f}"


def beat_flash(facts: StageFacts) -> bool:
    """True while the beat light is on (the first FLASH_BEATS of each beat, playing)."""
    return facts.playing and facts.bpm > 0 and facts.beat_phase < FLASH_BEATS


def stage_line(f: StageFacts) -> str:
    """One line, ' | '-separated, empty parts left out."""
    parts = [clock(f.heard) + ("" if f.playing else " paused")]
    if f.bpm > 0:
        parts.append(f"{f.bpm:.1f} BPM" + (f"  bar {f.bar}.{f.beat}" if f.bar or f.beat else ""))
    scenes = " ".join(x for x in (f"scene {f.scene}" if f.scene else "", f.cue) if x)
    if scenes:
        parts.append(scenes)
    if f.link:
        parts.append(f"engine {f.link}" + (f", {f.output_fps:.0f} fps out" if f.output_fps else ""))
    if f.recording:
        parts.append(f.recording)
    if f.problems:
        parts.append(f"{f.problems} problem{'s' if f.problems != 1 else ''}")
    return "  |  ".join(parts)


def link_text(engine, worker_state: str) -> str:
    """'local', 'remote 23 ms' or 'remote: engine disconnected, reconnecting (...)'."""
    if engine is None:
        return worker_state or "none"
    status = engine.status
    if status is None:  # a local engine
        return "local" if worker_state == "ready" else worker_state
    if status != "connected":
        return f"remote: {status}"
    rtt = float(engine.timing.get("rtt_ms", 0.0) or 0.0)
    return f"remote {rtt:.0f} ms"

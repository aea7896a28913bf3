"""Tempo shared with the rig: MIDI clock in (a DJ mixer or drum machine leads) and
MIDI clock + OSC beat messages out (lights and other visuals follow hambajuba).

Times are time.perf_counter() seconds ("wall"), tempo in BPM, 24 clock ticks
per quarter note (MIDI's ppqn).

The lead: `Lead` is an immutable snapshot (source, bpm, a beat's wall time,
that beat's index, beats per bar). The main thread publishes a new one into
`LeadSlot.value` (one reference store); the clock-out thread reads it.

ClockIn: rtmidi's thread calls `feed(kind, wall)` for clock/start/stop/continue;
it writes only into preallocated rings (tick wall times and tick counts since
start) and plain ints/bools, never waits. The main thread calls `read(now)`: a
line through the last FIT_TICKS ticks of this run gives the tick period and the
wall time of the last beat boundary (every 24th tick since start). A tick is
stamped when Python gets it, so it can only be late (the GIL, a busy core, a
stalled sender catching up), never early: the fit drops ticks more than LATE_S
above the line and fits again, so it follows the on-time ticks. The clock leads
only after SETTLE_TICKS ticks of a run (start or continue), so the tempo shown
when it takes over is not a two-tick guess. No tick for LOST_S: the clock is lost.

ClockOut: one thread sends 24 ticks per beat of the lead. It keeps its own
tick counter and corrects each interval by a share of its phase error against
the lead (PHASE_GAIN per tick, clamped to +-MAX_BEND of a tick), so a tempo
change or a correction bends the clock instead of jumping it: ticks stay
evenly spaced, no beat is doubled or skipped. Each 24th tick is a beat: OSC
`/hambajuba/beat [beat index, position in bar]`, `/hambajuba/tempo [bpm]`, and
`/hambajuba/bar [bar index]` on the one. It sleeps until SPIN_S before a tick,
then spins to it; every tick's lateness against its schedule is kept in a ring
(`jitter_ms`, `hambajuba bench clock`).
"""
from __future__ import annotations

import dataclasses
import math
import socket
import threading
import time

import numpy as np

PPQN = 24
FIT_TICKS = 48            # ticks (two beats) in the tempo fit
SETTLE_TICKS = 12         # ticks (half a beat) of a run before the clock leads
LATE_S = 0.002            # a tick this far above the fitted line is late: refit without it
FIT_PASSES = 3
LOST_S = 0.5              # no tick for this long: the clock stopped or was unplugged
PHASE_GAIN = 0.1          # share of the phase error (ticks) corrected per tick
MAX_BEND = 0.2            # largest change of one tick interval, share of a tick
SPIN_S = 0.0015           # sleep until this long before a tick, then spin
JITTER_RING = 4096        # ticks of lateness kept
MIN_BPM, MAX_BPM = 20.0, 400.0
CLOCK_KINDS = ("clock", "start", "stop", "continue")


@dataclasses.dataclass(frozen=True)
class Lead:
    source: str = "tracker"     # "tracker", "tap", "midi clock", "analysis"
    bpm: float = 0.0            # 0: no tempo yet (clock out stays silent)
    beat_wall: float = 0.0      # perf_counter s of a beat
    beat_index: int = 0         # that beat's index (counted from the start)
    beats_per_bar: int = 4
    bar_anchor: int = 0         # a downbeat's beat index, modulo beats_per_bar

    @property
    def period(self) -> float:
        return 60.0 / self.bpm if self.bpm > 0 else 0.0

    def position(self, wall: float) -> float:
        """Beats (float) since beat 0 at wall time `wall`."""
        return self.beat_index + (wall - self.beat_wall) / self.period if self.bpm > 0 else 0.0


class LeadSlot:
    """One reference, written by the main thread, read by the clock thread."""

    def __init__(self) -> None:
        self.value = Lead()


# -- in ------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ClockReading:
    running: bool
    bpm: float = 0.0
    beat_wall: float = 0.0       # wall time of the newest beat boundary (tick count % 24 == 0)
    beat_index: int = 0          # beats since start at beat_wall
    ticks: int = 0               # ticks since start


class ClockIn:
    def __init__(self) -> None:
        self.walls = np.zeros(FIT_TICKS)
        self.counts = np.zeros(FIT_TICKS, np.int64)
        self.n = 0                   # ticks received (ever): written last, read first
        self.since_start = 0         # ticks since the last start
        self.running = False
        self.started = 0             # start/continue messages seen (the main thread sees a new run)
        self.run_from = 0            # self.n at the last start/continue: the fit never spans a pause
        self.last_wall = -math.inf

    # rtmidi's thread
    def feed(self, kind: str, wall: float) -> None:
        if kind == "clock":
            k = self.n % FIT_TICKS
            self.walls[k], self.counts[k] = wall, self.since_start
            self.since_start += 1
            self.last_wall = wall
            self.n += 1
        elif kind == "start":
            self.since_start = 0
            self.run_from = self.n
            self.running = True
            self.started += 1
        elif kind == "continue":
            self.run_from = self.n
            self.running = True
            self.started += 1
        elif kind == "stop":
            self.running = False

    # the main thread
    def read(self, now: float) -> ClockReading:
        n = self.n
        m = min(n - self.run_from, FIT_TICKS)
        if not self.running or m < SETTLE_TICKS or now - self.last_wall > LOST_S:
            return ClockReading(False, ticks=self.since_start)
        idx = np.arange(n - m, n) % FIT_TICKS
        w, c = self.walls[idx], self.counts[idx].astype(np.float64)
        breaks = np.flatnonzero(np.diff(c) != 1)   # a start (or a tick written meanwhile)
        if len(breaks):
            w, c = w[breaks[-1] + 1:], c[breaks[-1] + 1:]
            if len(c) < 2:
                return ClockReading(False, ticks=self.since_start)
        slope, icpt = _fit_on_time(c - c[-1], w - w[-1])    # s per tick; centred for precision
        if slope <= 0:
            return ClockReading(False, ticks=self.since_start)
        bpm = 60.0 / (slope * PPQN)
        if not MIN_BPM <= bpm <= MAX_BPM:
            return ClockReading(False, ticks=self.since_start)
        last = int(c[-1])
        beat = last - last % PPQN
        wall = w[-1] + icpt + slope * (beat - last)
        return ClockReading(True, bpm, float(wall), beat // PPQN, last + 1)


def _fit_on_time(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Line y = slope * x + icpt (x: tick counts, y: wall s) through the on-time ticks:
    least squares, then again without the ticks more than LATE_S above the line
    (the median residual of those kept is the line's level)."""
    keep = np.ones(len(x), bool)
    slope, icpt = np.polyfit(x, y, 1)
    for _ in range(FIT_PASSES - 1):
        res = y - (slope * x + icpt)
        now_kept = res <= np.median(res[keep]) + LATE_S
        if now_kept.sum() < 2 or (now_kept == keep).all():
            break
        keep = now_kept
        slope, icpt = np.polyfit(x[keep], y[keep], 1)
    return float(slope), float(icpt)


# -- out -----------------------------------------------------------------------------------------
RT_PRIORITY = 10          # SCHED_FIFO priority asked for the clock thread (audio apps use 10..90)


def _realtime_priority() -> bool:
    """Ask for SCHED_FIFO for the calling thread, as audio and MIDI software does: on a
    busy machine a normal thread waits for a core for milliseconds. Refused (no
    CAP_SYS_NICE, no rtprio limit): the thread keeps its normal priority."""
    import os
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(RT_PRIORITY))
        return True
    except (AttributeError, OSError):
        return False


class OscBeatOut:
    """UDP sender of /hambajuba/beat, /bar, /tempo (python-osc's message builder)."""

    def __init__(self, host: str, port: int) -> None:
        self.to = (host, int(port))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.errors = 0
        self.sent = 0

    def _send(self, address: str, *args) -> None:
        from pythonosc.osc_message_builder import OscMessageBuilder
        b = OscMessageBuilder(address=address)
        for a in args:
            b.add_arg(a)
        try:
            self.sock.sendto(b.build().dgram, self.to)
            self.sent += 1
        except OSError:          # nobody listening, buffer full: drop, count
            self.errors += 1

    def beat(self, index: int, in_bar: int, bpm: float, bar: int = 0) -> None:
        if in_bar == 0:
            self._send("/hambajuba/bar", int(bar))
        self._send("/hambajuba/beat", int(index), int(in_bar))
        self._send("/hambajuba/tempo", float(bpm))

    def close(self) -> None:
        self.sock.close()


class ClockOut:
    """Sends MIDI clock (to a mido output port, or nothing) and OSC beats following a LeadSlot."""

    def __init__(self, lead: LeadSlot, *, port=None, osc: OscBeatOut | None = None,
                 spin_s: float = SPIN_S) -> None:
        import mido
        self.lead, self.port, self.osc, self.spin_s = lead, port, osc, spin_s
        self._msgs = {k: mido.Message(k) for k in CLOCK_KINDS}   # built once
        self.late = np.zeros(JITTER_RING)       # s each tick was sent after its schedule
        self.sent_wall = np.zeros(JITTER_RING)  # wall time each tick was sent
        self.target_wall = np.zeros(JITTER_RING)  # ... and when it was due (the schedule)
        self.ticks = 0                          # ticks sent since start
        self.beats = 0
        self.bars = 0                           # bars begun since start (OSC /hambajuba/bar)
        self.running = False
        self.realtime = False                   # the thread got a real-time priority
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._paused = threading.Event()

    # the main thread
    def start(self) -> None:
        """MIDI start, then ticks from the lead's next beat."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._paused.clear()
        self._thread = threading.Thread(target=self._run, name="midi-clock-out", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        self._send("stop")
        self.running = False

    def pause(self) -> None:
        """MIDI stop; `resume` sends continue and goes on counting."""
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def _send(self, kind: str) -> None:
        if self.port is not None:
            try:
                self.port.send(self._msgs[kind])
            except Exception:        # a vanished port: the show goes on
                pass

    # the clock thread
    def _wait_until(self, target: float) -> float:
        while True:
            now = time.perf_counter()
            left = target - now
            if left <= 0 or self._stop.is_set():
                return now
            if left > self.spin_s:
                time.sleep(left - self.spin_s)
            else:
                time.sleep(0)       # spin, but let go of the GIL: the show's threads go on

    def _first_tick(self) -> tuple[float, Lead]:
        """Wait for a lead with a tempo; the first tick is its next beat."""
        while not self._stop.is_set():
            lead = self.lead.value
            if lead.bpm > 0:
                now = time.perf_counter()
                pos = lead.position(now)
                nxt = math.ceil(pos)
                self.beats = nxt
                return lead.beat_wall + (nxt - lead.beat_index) * lead.period, lead
            time.sleep(0.01)
        return 0.0, self.lead.value

    def _run(self) -> None:
        self.realtime = _realtime_priority()
        target, lead = self._first_tick()
        if self._stop.is_set():
            return
        self._wait_until(target - 0.001)
        self._send("start")
        self.running = True
        paused = False
        tick_pos = float(self.beats)            # beats, where this tick stands in the lead's count
        while not self._stop.is_set():
            if self._paused.is_set() != paused:
                paused = not paused
                self._send("stop" if paused else "continue")
            now = self._wait_until(target)
            if not paused:
                self._tick(now, target, tick_pos)
            lead = self.lead.value
            tick_s = lead.period / PPQN if lead.bpm > 0 else 0.5 / PPQN
            err = 0.0
            if lead.bpm > 0:      # ticks: how far the lead is ahead of this clock at the next tick
                err = (lead.position(target + tick_s) - (tick_pos + 1.0 / PPQN)) * PPQN
                err = (err + PPQN / 2) % PPQN - PPQN / 2       # within half a beat
            bend = float(np.clip(PHASE_GAIN * err, -MAX_BEND, MAX_BEND))
            target += tick_s * (1.0 - bend)
            tick_pos += 1.0 / PPQN

    def _tick(self, now: float, target: float, tick_pos: float) -> None:
        k = self.ticks % JITTER_RING
        self._send("clock")
        sent = time.perf_counter()
        self.late[k], self.sent_wall[k], self.target_wall[k] = sent - target, sent, target
        if self.ticks % PPQN == 0:
            lead = self.lead.value
            index = int(round(tick_pos))
            self.beats = index
            if self.osc is not None:    # the bar as the lead counts it, at this beat
                in_bar = (round(lead.position(target)) - lead.bar_anchor) % max(1, lead.beats_per_bar)
                self.bars += in_bar == 0
                self.osc.beat(index, in_bar, lead.bpm, self.bars)
        self.ticks += 1

    def jitter_ms(self) -> dict:
        """{p50, p99, max} ms of tick lateness against the schedule, and the p99 deviation
        of tick intervals from their median (what a receiver hears)."""
        n = min(self.ticks, JITTER_RING)
        if n < 3:
            return {"ticks": n}
        idx = np.arange(self.ticks - n, self.ticks) % JITTER_RING
        late = self.late[idx] * 1e3
        iv = np.diff(self.sent_wall[idx]) * 1e3
        dev = np.abs(iv - np.median(iv))
        return {"ticks": int(n), "late_p50_ms": round(float(np.percentile(late, 50)), 4),
                "late_p99_ms": round(float(np.percentile(late, 99)), 4),
                "late_max_ms": round(float(late.max()), 4),
                "interval_p99_ms": round(float(np.percentile(dev, 99)), 4)}


# -- the bench -------------------------------------------------------------------------------------
class _Loopback:
    """An output port that stamps each message as it is handed over (the wire)."""

    def __init__(self) -> None:
        self.walls = np.zeros(1 << 16)
        self.n = 0

    def send(self, msg) -> None:
        if msg.type == "clock" and self.n < len(self.walls):
            self.walls[self.n] = time.perf_counter()
            self.n += 1


def bench_clock(seconds: float = 10.0, bpm: float = 120.0) -> dict:
    """Run the clock out for `seconds` at `bpm` into a loopback port and OSC to a
    loopback socket; tick lateness against the schedule and interval deviation (ms)."""
    lead = LeadSlot()
    lead.value = Lead("tap", bpm, time.perf_counter(), 0)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    osc = OscBeatOut("127.0.0.1", rx.getsockname()[1])
    port = _Loopback()
    out = ClockOut(lead, port=port, osc=osc)
    out.start()
    time.sleep(seconds)
    out.stop()
    osc.close()
    rx.close()
    j = out.jitter_ms()
    iv = np.diff(port.walls[:port.n]) * 1e3
    ideal = 60e3 / bpm / PPQN
    return {"bpm": bpm, "seconds": seconds, "realtime_priority": out.realtime, **j,
            "wire_interval_p99_ms": round(float(np.percentile(np.abs(iv - ideal), 99)), 4)
            if len(iv) else None,
            "osc_messages": osc.sent, "osc_errors": osc.errors, "target_p99_ms": 1.0}

"""`hambajuba midi ports` and `hambajuba bench control`."""
from __future__ import annotations

import argparse
import json
import sys


def add_midi_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("midi", help="MIDI input ports (for `perform --midi PORT`)")
    sub = p.add_subparsers(dest="midi_command", metavar="ACTION")
    ports = sub.add_parser("ports", help="list the MIDI input ports")
    ports.set_defaults(func=run_midi_ports)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    return p


def run_midi_ports(args) -> int:
    from graph_runtime.control.inbox import Inbox
    from graph_runtime.control.midi import MidiError, MidiInputs

    try:
        names = MidiInputs(Inbox(capacity=1)).names()
    except MidiError as e:
        print(f"hambajuba midi ports: {e}", file=sys.stderr)
        return 1
    if not names:
        print("no MIDI input ports (plug a controller in, or start a virtual port)")
    for n in names:
        print(n)
    return 0


def add_bench_control_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("control", help="OSC message -> FrameParams latency (loopback)",
                              description="Sends OSC messages over UDP loopback to a headless "
                                          "show of the default patch and times each one until "
                                          "it reaches a FrameParams.")
    p.add_argument("--messages", type=int, default=2000)
    p.add_argument("--rate", type=float, default=1000.0, help="messages per second")
    p.add_argument("--fps", type=float, default=60.0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_bench_control)
    return p


def add_bench_clock_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("clock", help="MIDI clock out jitter (24 ppqn, loopback) and OSC beats")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--bpm", type=float, default=120.0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_bench_clock)
    return p


def run_bench_clock(args) -> int:
    if not 1 <= args.seconds <= 600 or not 20 <= args.bpm <= 400:
        print("hambajuba bench clock: --seconds 1..600, --bpm 20..400", file=sys.stderr)
        return 2
    from graph_runtime.control.midi_clock import bench_clock
    r = bench_clock(args.seconds, args.bpm)
    if args.json:
        print(json.dumps(r, sort_keys=True))
        return 0
    print(f"clock out: {r.get('ticks', 0)} ticks at {r['bpm']:.1f} BPM (24 ppqn): late p50 "
          f"{r.get('late_p50_ms')} ms, p99 {r.get('late_p99_ms')} ms (target <= 1 ms), max "
          f"{r.get('late_max_ms')} ms; interval deviation p99 {r.get('interval_p99_ms')} ms; "
          f"{r['osc_messages']} OSC messages ({r['osc_errors']} dropped)")
    return 0


def run_bench_control(args) -> int:
    if not 1 <= args.messages <= 5119 or not 1 <= args.rate <= 1e6 or not 1 <= args.fps <= 1000:
        print("hambajuba bench control: --messages 1..5119, --rate 1..1e6, --fps 1..1000",
              file=sys.stderr)
        return 2
    from hambajuba_nodes.cli.bench_control import bench_control

    r = bench_control(args.messages, args.rate, args.fps)
    if args.json:
        print(json.dumps(r, sort_keys=True))
        return 0
    print(f"control: {r['applied']}/{r['messages']} OSC messages reached a FrameParams "
          f"(at {r['rate_per_s']:.0f}/s, {r['fps']:.0f} fps): latency p50 {r['p50_ms']} ms, "
          f"p99 {r['p99_ms']} ms (target {r['target_p99_ms']} ms); frame work p99 "
          f"{r['frame_work_p99_ms']} ms; {r['recompiles']} recompiles; load {r['load_avg']}")
    return 0

"""The rig's clock: MIDI clock out and OSC beats out, following the session's lead.

    rig = RigClock(session)
    reason = rig.start("Midi Through", "127.0.0.1:9001")   # None, or one line saying why not
    rig.stop()

The session publishes its lead (tracker, tap or MIDI clock in) every frame
(ControlSession._lead_tempo); the ClockOut thread follows it (midi_clock.py).
An OSC host other than this machine needs the user's permission, as osc.out's
does (--osc-out-host).
"""
from __future__ import annotations

from .midi import MidiError, open_output
from .midi_clock import ClockOut, OscBeatOut
from .osc import OscError, out_host_refusal, parse_endpoint


class RigClock:
    def __init__(self, session, *, backend_name: str | None = None) -> None:
        self.session = session
        self.backend_name = backend_name
        self.out: ClockOut | None = None
        self.port_name = ""
        self.osc_to: tuple[str, int] | None = None

    def start(self, midi_port: str | None, osc_endpoint: str | None) -> str | None:
        self.stop()
        port = osc = None
        try:
            if osc_endpoint:
                host, number = parse_endpoint(osc_endpoint)
                refusal = out_host_refusal(host)  # the same rule as a patch's osc.out
                if refusal is not None:
                    return f"OSC beat out: {refusal}"
                if number == 0:
                    return "OSC beat out: give the port to send to (HOST:PORT)"
                osc, self.osc_to = OscBeatOut(host, number), (host, number)
            if midi_port:
                port = open_output(midi_port, backend_name=self.backend_name)
                self.port_name = midi_port
        except (MidiError, OscError) as e:
            if osc is not None:
                osc.close()
            return str(e)
        self.out = ClockOut(self.session.lead, port=port, osc=osc)
        self.out.start()
        return None

    def describe(self) -> str:
        parts = []
        if self.port_name:
            parts.append(f"MIDI clock out to {self.port_name}")
        if self.osc_to:
            parts.append(f"OSC beats to {self.osc_to[0]}:{self.osc_to[1]}")
        return ", ".join(parts) or "no clock out"

    def stop(self) -> None:
        if self.out is None:
            return
        self.out.stop()
        if self.out.port is not None:
            try:
                self.out.port.close()
            except Exception:    # a vanished device
                pass
        if self.out.osc is not None:
            self.out.osc.close()
        self.out = None


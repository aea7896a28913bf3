"""OSC address space, interpreted on the main thread.

    /hambajuba/<node_id>/<param>      one value: float, int, bool, or a choice
                                      by name or index (clamped to the range)
    /hambajuba/scene/<n or name> [when] [fade beats]
                                      recall; n counts from 1; when = now|beat|bar
    /hambajuba/tap                    tap tempo
    /hambajuba/nudge/earlier|later    move the beat phase by one nudge step
    /hambajuba/transport/play|pause   transport
    /hambajuba/transport/seek <s>     jump to track time s (seconds)
anything else: an osc.in node's address, an OSC binding, or (when learning)
the control to learn; otherwise reported once and ignored.
A button sends 1 on press and 0 on release: a first argument of 0 on a
scene/tap/nudge/transport address is a release and does nothing.
"""
from __future__ import annotations

import math

from .mapping import coerce

PREFIX = "/hambajuba/"


def _released(args: tuple) -> bool:
    return bool(args) and isinstance(args[0], (int, float)) and not isinstance(args[0], str) \
        and args[0] == 0


def route_osc(session, address: str, args: tuple, count: int) -> None:
    listened = session.hub.on_osc(address, args)
    if address.startswith(PREFIX):
        parts = address[len(PREFIX):].split("/")
        if _command(session, address, parts, args):
            return
        if len(parts) == 2 and all(parts):
            set_param(session, address, parts[0], parts[1], args)
            return
        session.report_once(("osc?", address), f"OSC {address}: unknown address; ignored")
        return
    if session.learning and session.learn_target is not None:
        session.learn("osc", -1, address)
        return
    bound = session.bound("osc", -1, address)
    for b in bound:
        session.play(b, args, count)
    if not bound and not listened:
        session.report_once(("osc?", address), f"OSC {address}: unknown address; ignored")


COMMANDS = ("tap", "nudge/earlier", "nudge/later", "transport/play", "transport/pause",
            "transport/seek")


def known_addresses(patch, registry, bindings) -> list[str]:
    """Every OSC address this patch answers, besides osc.in nodes' (the hub has those):
    /hambajuba/<node>/<param> per param, the commands, each scene by name and number,
    and the OSC bindings. The inbox gives slots to these only."""
    out = [PREFIX + c for c in COMMANDS]
    for spec in patch.nodes:
        cls = registry.get(spec.type)
        for prm in getattr(cls, "params", ()) if cls is not None else ():
            out.append(f"{PREFIX}{spec.id}/{prm.name}")
    for i, scene in enumerate(patch.scenes):
        out += [f"{PREFIX}scene/{i + 1}", f"{PREFIX}scene/{scene.get('name', '')}"]
    out += [str(b.control) for b in bindings if b.source == "osc"]
    return out


def _command(session, address: str, parts: list[str], args: tuple) -> bool:
    """True when the address was a command (handled or refused)."""
    head = parts[0]
    if head not in ("scene", "tap", "nudge", "transport"):
        return False
    if _released(args):
        return True
    if head == "tap" and len(parts) == 1:
        session.tap()
    elif head == "nudge" and len(parts) == 2 and parts[1] in ("earlier", "later"):
        session.nudge(-1 if parts[1] == "earlier" else 1)
    elif head == "scene" and len(parts) == 2:
        _scene(session, address, parts[1], args)
    elif head == "transport" and len(parts) == 2 and parts[1] in ("play", "pause", "seek"):
        _transport(session, address, parts[1], args)
    else:
        session.report_once(("osc?", address), f"OSC {address}: unknown address; ignored")
    return True


def _scene(session, address: str, which: str, args: tuple) -> None:
    names = session.scene_names()
    name = which
    if which.isdigit() and which not in names:
        i = int(which) - 1
        if not 0 <= i < len(names):
            session.report_once(("osc-scene", which),
                                f"OSC {address}: no scene {which} (this patch has {len(names)})")
            return
        name = names[i]
    rest = [a for a in args if not (isinstance(a, (int, float)) and a == 1 and not isinstance(a, str))]
    when = next((a for a in rest if isinstance(a, str)), "now")
    beats = next((float(a) for a in rest if isinstance(a, (int, float)) and not isinstance(a, bool)
                  and math.isfinite(a)), 0.0)
    reason = session.recall(name, when, beats=beats, source=f"OSC {address}")
    if reason:
        session.report_once(("osc-scene", which, reason), f"OSC {address}: {reason}")


def _transport(session, address: str, what: str, args: tuple) -> None:
    fn = session.transport.get(what)
    if fn is None:
        session.report_once(("osc-transport", what), f"OSC {address}: no transport here; ignored")
        return
    if what != "seek":
        fn()
        return
    t = args[0] if len(args) == 1 else None
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
        session.report_once(("osc-seek", repr(t)[:40]),
                            f"OSC {address}: expects one time in seconds >= 0; ignored")
        return
    fn(float(t))


def set_param(session, address: str, node: str, name: str, args: tuple) -> None:
    """/hambajuba/<node>/<param> <value>: checked (here, once), clamped, written like a typed value."""
    spec = session.model.patch.node(node)
    cls = session.registry.get(spec.type) if spec is not None else None
    prm = cls.param(name) if cls is not None else None
    if prm is None:
        session.report_once(("osc?", address), f"OSC {address}: no param {node}.{name} in this "
                            "patch; ignored")
        return
    if len(args) != 1:
        session.report_once(("osc#", address, len(args)),
                            f"OSC {address}: expects one value, got {len(args)}; ignored")
        return
    value, reason = coerce(prm, args[0])
    if reason:
        session.report_once(("osc!", address, reason), f"OSC {address}: {reason}; ignored")
        return
    session.write(node, name, value, merge=("osc", address), checked=True)  # coerce checked it

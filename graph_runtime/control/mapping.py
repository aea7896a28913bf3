"""From a controller's position to a param value: curves, ranges, takeover.

A control's position is normalised to x in [0, 1] (CC value / 127, pitch
bend (value + 8192) / 16383, an OSC float as sent). A curve bends x, then
the binding's [lo, hi] range scales it:

    lin  y = x
    log  y = log10(1 + 9 x)        fast at the bottom (log taper)
    exp  y = (10**x - 1) / 9       slow at the bottom; the inverse of log

All three are exact at 0 and 1 and strictly increasing, so each has an
inverse (used by pickup takeover and relative encoders, which start from
where the param is now).

Takeover, when the hardware and the param disagree:
    jump      the param follows the control at once
    pickup    the control moves nothing until it crosses the param's value
    relative  endless encoders send steps, not positions: two's complement
              (1..63 up, 127..65 down) or offset (64 +/- n); each step moves
              x by 1/127.
Pure Python, no numpy: called a few times a frame.
"""
from __future__ import annotations

import math
from typing import Any

CURVES = ("lin", "log", "exp")
TAKEOVERS = ("jump", "pickup", "relative")
RELATIVE_STYLES = ("twos", "offset")
STEP = 1.0 / 127.0  # one encoder click, in normalised travel
PICKUP_SLACK = 0.5 / 127.0  # within half a CC step counts as "at" the value


def shape(curve: str, x: float) -> float:
    if curve == "log":
        return math.log10(1.0 + 9.0 * x)
    if curve == "exp":
        return (10.0 ** x - 1.0) / 9.0
    return x


def unshape(curve: str, y: float) -> float:
    if curve == "log":
        return (10.0 ** y - 1.0) / 9.0
    if curve == "exp":
        return math.log10(1.0 + 9.0 * y)
    return y


def clamp01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def relative_delta(style: str, value: int) -> int:
    """Encoder clicks in one relative CC message (7-bit value)."""
    if style == "offset":
        return value - 64
    return value - 128 if value >= 64 else value  # two's complement


def to_value(prm, x: float, lo: float, hi: float, curve: str) -> Any:
    """Normalised x -> a value the Param accepts (clamped into its range)."""
    x = clamp01(x)
    if prm.kind == "bool":
        return x >= 0.5
    if prm.kind == "choice":
        n = len(prm.choices)
        return prm.choices[min(int(x * n), n - 1)]
    y = lo + (hi - lo) * shape(curve, x)
    if prm.kind == "int":
        y = round(y)
    return clamp_to(prm, y)


def to_position(prm, value: Any, lo: float, hi: float, curve: str) -> float:
    """Where on the control (x in [0, 1]) the param's current value sits."""
    if prm.kind == "bool":
        return 1.0 if value else 0.0
    if prm.kind == "choice":
        n = len(prm.choices)
        i = prm.choices.index(value) if value in prm.choices else 0
        return (i + 0.5) / n
    if hi == lo:
        return 0.0
    return unshape(curve, clamp01((float(value) - lo) / (hi - lo)))


def clamp_to(prm, y: float) -> Any:
    """Like a typed value: out of range is clamped to the param's range."""
    if prm.min is not None and y < prm.min:
        y = prm.min
    if prm.max is not None and y > prm.max:
        y = prm.max
    return int(y) if prm.kind == "int" else float(y)


def default_range(prm) -> tuple[float, float]:
    """A binding's range when learned: the param's own, or +-1 when unbounded."""
    lo = prm.min if prm.min is not None else -1.0
    hi = prm.max if prm.max is not None else 1.0
    if prm.kind in ("bool", "choice"):
        return 0.0, 1.0
    # unbounded floats with a huge declared range (+-1e6) are unplayable on a fader
    if hi - lo > 1.0e4:
        mid = prm.default if isinstance(prm.default, (int, float)) else 0.0
        lo, hi = float(mid) - 1.0, float(mid) + 1.0
    return float(lo), float(hi)


def coerce(prm, arg: Any) -> tuple[Any, str | None]:
    """An OSC argument -> (value for the param, None) or (None, why not).

    floats/ints clamp into range; bools take true/false or 0/1; a choice
    takes its name or its index."""
    if prm.kind == "bool":
        if isinstance(arg, bool):
            return arg, None
        if isinstance(arg, (int, float)) and math.isfinite(arg):
            return bool(arg >= 0.5), None
        return None, f"expected true/false or a number, got {type(arg).__name__}"
    if prm.kind == "choice":
        if isinstance(arg, str):
            if arg in prm.choices:
                return arg, None
            return None, f"{arg!r} is not one of {', '.join(prm.choices)}"
        if isinstance(arg, (int, float)) and not isinstance(arg, bool) and math.isfinite(arg) \
                and float(arg) == int(arg) and 0 <= int(arg) < len(prm.choices):
            return prm.choices[int(arg)], None
        return None, f"expected a choice name or an index 0..{len(prm.choices) - 1}"
    if prm.kind in ("float", "int"):
        if isinstance(arg, bool) or not isinstance(arg, (int, float)):
            return None, f"expected a number, got {type(arg).__name__}"
        if not math.isfinite(arg):
            return None, f"{arg} is not a finite number"
        return clamp_to(prm, round(arg) if prm.kind == "int" else arg), None
    if prm.kind == "text" and isinstance(arg, str):
        return prm.check(arg)
    return None, f"a {prm.kind} param cannot be set from a controller"

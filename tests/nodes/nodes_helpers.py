"""Shared helpers for the node tests: compile one node, drive its inputs, read outputs."""
from __future__ import annotations

import math

import numpy as np

from graph_runtime.analysis.store import synthetic
from graph_runtime.graph.compiler import compile_patch
from graph_runtime.graph.patch import Patch
from hambajuba_nodes.registry import default_registry

FPS = 50.0
DT = 1.0 / FPS


def single(type_id: str, params: dict | None = None, analysis=None, feature_mean=None,
           fps: float = FPS):
    """Compile a patch holding one node 'n'; return (plan, node). Its unconnected
    inputs are constant wires the test can set frame by frame."""
    patch = Patch()
    patch.add_node(type_id, params or {}, node_id="n")
    plan = compile_patch(patch, default_registry(), analysis=analysis, feature_mean=feature_mean,
                         fps=fps)
    return plan, plan.nodes["n"]


def compile_(patch: Patch, analysis=None, **kw):
    return compile_patch(patch, default_registry(), analysis=analysis, **kw)


def run(plan, node, port: str, seconds: float, fps: float = FPS, start: float = 0.0,
        before=None) -> np.ndarray:
    """Run the plan for `seconds`; return output `port` of `node` per frame.
    before(i, t) is called ahead of each frame to set inputs."""
    n = int(round(seconds * fps))
    out = np.empty(n)
    dt = 1.0 / fps
    wire = getattr(node, port)
    for i in range(n):
        t = start + i * dt
        if before is not None:
            before(i, t)
        plan.run(t, dt)
        out[i] = wire.v
    return out


def track(seconds: float = 10.0, bpm: float = 120.0, **channels) -> object:
    """A synthetic analysis; channel names with '__' for '/', values a
    constant or an array of one value per frame."""
    n = int(round(seconds * FPS))
    data = {}
    for key, v in channels.items():
        name = key.replace("__", "/")
        data[name] = np.full(n, float(v)) if np.isscalar(v) else np.asarray(v, dtype=np.float64)
    return synthetic(seconds, bpm=bpm, channels=data)


def damping_ratio(y: np.ndarray, target: float, dt: float) -> tuple[float, float]:
    """(zeta, natural frequency rad/s) measured from a sampled step response.

    The error e = y - target of a second-order system obeys, sample to
    sample, e[n+1] = a1 e[n] + a2 e[n-1]; fit a1, a2 by least squares, take
    the roots z of z^2 - a1 z - a2 and map them back to s = ln(z) / dt.
    Works alike for under-, critically and over-damped responses."""
    e = np.asarray(y, dtype=np.float64) - target
    keep = np.abs(e) > 1e-12 * max(1.0, abs(target))
    e = e[: max(3, int(np.argmin(keep)) if not keep.all() else e.size)]
    A = np.stack([e[1:-1], e[:-2]], axis=1)
    a1, a2 = np.linalg.lstsq(A, e[2:], rcond=None)[0]
    z = np.roots([1.0, -a1, -a2]).astype(complex)
    s = np.log(z) / dt
    if abs(s[0].imag) > 1e-9:
        return float(-s[0].real / abs(s[0])), float(abs(s[0]))
    s1, s2 = float(s[0].real), float(s[1].real)
    wn = math.sqrt(s1 * s2)
    return (-s1 - s2) / (2.0 * wn), wn


def log_decrement_zeta(y: np.ndarray, target: float) -> float:
    """zeta from two successive peaks of |y - target| (underdamped only)."""
    e = np.asarray(y) - target
    peaks = [i for i in range(1, e.size - 1)
             if abs(e[i]) >= abs(e[i - 1]) and abs(e[i]) > abs(e[i + 1]) and abs(e[i]) > 1e-12]
    # successive extrema of the error alternate sign: half periods apart
    d = math.log(abs(e[peaks[0]]) / abs(e[peaks[1]])) * 2.0  # per full period
    return d / math.sqrt(4.0 * math.pi ** 2 + d * d)

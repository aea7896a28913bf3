"""Destinations: where in prompt space and latent space the image travels.

Prompt destination: two prompts A and B and a position 0..1 between them
(the engine SLERPs their embeddings). The position comes from a slider (a
param), from the music (reactive: the ensemble's weighted energy pushes
toward B, quiet drifts back to A) or from any signal (linked: e.g. tension).

Node-to-node transitions: going to a new destination while between A and B
freezes the current blend as the new A (a PromptBlend), makes the new
destination B and resets the position to 0. The embedding the engine
computes is the same before and after, and the position then glides, so
the image never jumps. A transition happens when prompt_b is edited, or on
the `next` trigger (the next line of the playlist).

Latent destination (album art): the VAE latent of an image is A, the noise
is B, and the deviation 0..1 says how far from the image the frame strays.
"""
from __future__ import annotations

import math
import os

import numpy as np

from graph_runtime.graph.frame import LATENT_DEV, PROMPT_POS, PromptBlend
from graph_runtime.graph.node import Node, Param, signal, trigger

MAX_BLEND_DEPTH = 16  # nested freezes kept; deeper ones snap to their nearer end
SNAP = 1e-4  # a position this close to 0 or 1 freezes as A or B itself, not a blend
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


# -- what the engine does with a PromptBlend (numpy reference) -------------------------

def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation of two embeddings (flattened angle), falling
    back to a straight line when they are nearly parallel."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    cos = float(np.dot(a.ravel(), b.ravel()) / (na * nb)) if na > 0 and nb > 0 else 1.0
    omega = math.acos(max(-1.0, min(1.0, cos)))
    if omega < 1e-4:
        return (1.0 - t) * a + t * b
    s = math.sin(omega)
    return (math.sin((1.0 - t) * omega) / s) * a + (math.sin(t * omega) / s) * b


def resolve_prompt(prompt, embed) -> np.ndarray:
    """Embedding of a prompt text or a (nested) PromptBlend; embed(text) -> array."""
    if isinstance(prompt, PromptBlend):
        return slerp(resolve_prompt(prompt.a, embed), resolve_prompt(prompt.b, embed), prompt.pos)
    return embed(prompt)


def blend_depth(prompt) -> int:
    if isinstance(prompt, PromptBlend):
        return 1 + max(blend_depth(prompt.a), blend_depth(prompt.b))
    return 0


def _capped(prompt, depth: int):
    """Bound the nesting a long performance builds up: below `depth`, a blend
    becomes its nearer end (by then it weighs < 2^-depth of the image)."""
    if not isinstance(prompt, PromptBlend):
        return prompt
    if depth <= 0:  # the nearer end, itself collapsed to a text
        return _capped(prompt.a if prompt.pos < 0.5 else prompt.b, 0)
    return PromptBlend(_capped(prompt.a, depth - 1), _capped(prompt.b, depth - 1), prompt.pos)


def freeze(a, b, pos: float):
    """The current blend as a single destination."""
    if pos <= SNAP:
        return a
    if pos >= 1.0 - SNAP:
        return b
    return _capped(PromptBlend(a, b, float(pos)), MAX_BLEND_DEPTH)


def album_image(node_id: str, image: str, ctx) -> str | None:
    """The image file a latent destination reads, or None (plain noise).

    A relative path starts at the patch file's folder (a shared patch and its
    cover travel together). A missing or wrongly named file is a warning on
    the node, not an error: the show goes on with the noise destination.
    Whether the file really is an image only the engine finds out (it checks
    the header); it refuses that Scene and keeps the last good one."""
    image = image.strip()
    if not image:
        return None
    path = ctx.resolve_path(image)
    if not image.lower().endswith(IMAGE_SUFFIXES):
        ctx.warn(f"node {node_id}: image {image!r} is not a {'/'.join(IMAGE_SUFFIXES)} file; "
                 "showing plain noise")
        return None
    if not os.path.isfile(path):
        ctx.warn(f"node {node_id}: image {image!r} not found (looked for {path}); "
                 "showing plain noise")
        return None
    return os.path.abspath(path)


def _one_pole(dt: float, ms: float) -> float:
    return 1.0 if ms <= 0.0 else 1.0 - math.exp(-dt * 1000.0 / ms)


class PromptDestination(Node):
    type_id = "dest.prompt"
    family = "destinations"
    title = "Prompt destination"
    doc = ("Travels between prompt A and prompt B. slider: the position param; reactive: the "
           "drive input (e.g. the ensemble's energy) pushes toward B, quiet drifts back to A; "
           "linked: the drive input is the position (e.g. tension). Editing prompt B, or a "
           "`next` trigger (next playlist line), freezes the current blend as A and starts "
           "again from 0: no jump.")
    inputs = (signal("drive", doc="reactive: energy 0..1; linked: position 0..1"),
              trigger("next", doc="go to the next destination"))
    outputs = (signal("position", doc="blend position in use"),
               signal("destination", doc="how many transitions so far"))
    params = (
        Param("prompt_a", "text", "a quiet harbour at dawn, soft light", max_len=1000),
        Param("prompt_b", "text", "a neon city at night, rain, reflections", max_len=1000),
        Param("playlist", "text", "", max_len=20000,
              doc="destinations for `next`, one per line (empty: alternate A and B)"),
        Param("mode", "choice", "slider", choices=("slider", "reactive", "linked")),
        Param("position", "float", 0.0, 0.0, 1.0, doc="slider mode: the crossfader"),
        Param("gain", "float", 1.0, 0.0, 10.0, doc="reactive: drive is multiplied by this"),
        Param("glide_ms", "float", 200.0, 0.0, 20000.0, unit="ms",
              doc="time constant toward the target (toward B in reactive mode)"),
        Param("release_ms", "float", 1500.0, 0.0, 60000.0, unit="ms",
              doc="reactive: time constant of the drift back toward A"),
    )
    state = ("_a", "_b", "_pos", "_a_text", "_b_text", "_slider", "_slider_param", "_count",
             "_next_index")
    # position (the crossfader) and gain are live: a drag must not touch the Scene
    reprepare = ("prompt_a", "prompt_b", "playlist", "mode", "glide_ms", "release_ms")

    def on_param(self, name: str) -> None:
        if name == "position":  # what _sync does after a recompile: the slider moved
            self._slider = self._slider_param = float(self.p["position"])

    def prepare(self, ctx) -> None:
        ctx.slots.own("prompt", self.id)
        p = self.p
        self._scene, self._vec = ctx.frame.scene, ctx.frame.vec
        self._a, self._b = p["prompt_a"], p["prompt_b"]
        self._a_text, self._b_text = p["prompt_a"], p["prompt_b"]
        self._slider = self._slider_param = float(p["position"])
        self._pos = self._slider if p["mode"] == "slider" else 0.0
        self._count, self._next_index = 0, 0
        self._playlist = [ln.strip() for ln in p["playlist"].splitlines() if ln.strip()]
        self._target = {"slider": self._target_slider, "reactive": self._target_reactive,
                        "linked": self._target_linked}[p["mode"]]
        self._fall_ms = p["release_ms"] if p["mode"] == "reactive" else p["glide_ms"]
        self._dt, self._k_rise, self._k_fall = -1.0, 1.0, 1.0
        self._fresh = True
        self._publish()

    # -- scene ------------------------------------------------------------------------
    def _publish(self) -> None:
        self._scene.prompt_a, self._scene.prompt_b = self._a, self._b
        self._scene.touch()
        self._vec[PROMPT_POS] = self._pos

    def _sync(self) -> None:
        """First frame after a compile: the carried state meets the edited params."""
        self._fresh = False
        p = self.p
        if p["prompt_a"] != self._a_text:  # A itself edited: the user asked for a jump
            self._a, self._a_text = p["prompt_a"], p["prompt_a"]
        if p["prompt_b"] != self._b_text:  # a new destination: travel on from here
            self._b_text = p["prompt_b"]
            self.go_to(p["prompt_b"])
        if float(p["position"]) != self._slider_param:  # the slider moved
            self._slider = self._slider_param = float(p["position"])
        self._publish()

    def go_to(self, destination) -> None:
        """Freeze where we are as A, head for `destination` from position 0."""
        self._a = freeze(self._a, self._b, self._pos)
        self._b = destination
        self._pos = 0.0
        self._slider = 0.0  # slider mode waits at 0 until the slider is moved
        self._count += 1
        self._publish()

    def _advance(self) -> None:
        if self._playlist:
            dest = self._playlist[self._next_index % len(self._playlist)]
            self._next_index += 1
        else:  # no playlist: ping-pong between the two prompt params
            dest = self.p["prompt_a"] if self._b == self.p["prompt_b"] else self.p["prompt_b"]
        self.go_to(dest)

    # -- targets, bound in prepare --------------------------------------------------------
    def _target_slider(self) -> float:
        return self._slider

    def _target_reactive(self) -> float:
        x = self.finite(self.drive.v) * self.p["gain"]
        return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x

    def _target_linked(self) -> float:
        x = self.finite(self.drive.v)
        return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x

    def process(self, t: float, dt: float) -> None:
        if self._fresh:
            self._sync()
        if self.next.v:
            self._advance()
        if dt != self._dt:
            self._dt = dt
            self._k_rise = _one_pole(dt, self.p["glide_ms"])
            self._k_fall = _one_pole(dt, self._fall_ms)
        target = self._target()
        pos = self._pos
        pos += (self._k_rise if target > pos else self._k_fall) * (target - pos)
        self._pos = pos
        self._vec[PROMPT_POS] = pos
        self.position.v = pos
        self.destination.v = float(self._count)

    def reset(self) -> None:
        """A transport jump keeps the scene (it is where the image is) and its position."""


class LatentDestination(Node):
    type_id = "dest.latent"
    family = "destinations"
    title = "Latent destination (album art)"
    doc = ("Album-art mode: an image's latent is A, the noise is B. Deviation 0 shows the "
           "image, 1 pure noise; slider: the param; driven: the drive input (e.g. bass "
           "energy through a Dance node with stages 0.2 / 0.2 / 0.8).")
    inputs = (signal("drive", doc="driven mode: deviation 0..1"),)
    outputs = (signal("deviation"),)
    params = (
        Param("image", "path", "", max_len=1024,
              doc="image file (png, jpg, webp, bmp); read, never written"),
        Param("mode", "choice", "slider", choices=("slider", "driven")),
        Param("deviation", "float", 0.3, 0.0, 1.0, doc="slider mode: distance from the image"),
    )

    # deviation is live in slider mode: a drag must not re-encode the image
    reprepare = ("image", "mode")

    def prepare(self, ctx) -> None:
        ctx.slots.own("latent", self.id)
        self._image = album_image(self.id, self.p["image"], ctx)
        ctx.frame.scene.latent_image = self._image
        ctx.frame.scene.touch()
        self._vec = ctx.frame.vec
        dev = float(self.p["deviation"]) if self._image else 1.0
        self._vec[LATENT_DEV] = dev
        self.deviation.v = dev
        if self.p["mode"] == "slider" or not self._image:
            self.process = self._constant  # nothing moves per frame

    def on_param(self, name: str) -> None:
        if name == "deviation" and self._image and self.p["mode"] == "slider":
            dev = float(self.p["deviation"])
            self._vec[LATENT_DEV] = dev
            self.deviation.v = dev

    def _constant(self, t: float, dt: float) -> None:
        pass

    def process(self, t: float, dt: float) -> None:
        x = self.finite(self.drive.v)
        x = 0.0 if x < 0.0 else 1.0 if x > 1.0 else x
        self._vec[LATENT_DEV] = x
        self.deviation.v = x


NODES = (PromptDestination, LatentDestination)

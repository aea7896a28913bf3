"""The shipped example patches, built in code so they always match the node schemas.

    python -m hambajuba_nodes.content.examples [--out patches/]

writes default.patch and the others into patches/. The files are committed;
a test checks that they equal what this script builds, validate and compile.
Nodes are laid out left to right, one column per stage, COLUMN px apart.
Feature ids are plausible picks per block (from the write-ups' examples);
browse the labels to choose your own.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from graph_runtime.graph.patch import Patch, save

from .album_cover import COVER_NAME, write_cover

COLUMN = 240.0
ROW = 240.0
PATCH_DIR = Path(__file__).resolve().parents[2] / "patches"

# block -> feature id (plausible picks; 0-5119)
FEATURES = {"down.2.1": 412, "mid.0": 2960, "up.0.0": 4977, "up.0.1": 801}


class Builder:
    """Patch.add_node and connect with grid positions and short link syntax."""

    def __init__(self, title: str, description: str) -> None:
        self.patch = Patch(meta={"title": title, "description": description})

    def node(self, nid: str, type_id: str, col: float, row: float, **params) -> str:
        self.patch.add_node(type_id, params, (col * COLUMN, row * ROW), node_id=nid)
        return nid

    def link(self, src: str, dst: str) -> None:
        """'node.port' -> 'node.port'."""
        a, b = src.split("."), dst.split(".")
        self.patch.connect((a[0], a[1]), (b[0], b[1]))


def default_patch() -> Patch:
    b = Builder("default", "Four stems on the four steered blocks: bass moves the composition "
                "from the floor, drums hit the details, the voice paints texture where its "
                "pitch is, 'other' breathes in the middle. An ensemble shares the stage, the "
                "ensemble's energy pushes the prompt toward B, the noise walks on the beats.")
    for row, stem in enumerate(("bass", "drums", "vocals", "other")):
        b.node(f"src_{stem}", "audio.source", 0, row * 1.5, stem=stem)
    # bass -> down.2.1: heavy blended physics, floor mask
    b.node("phys_bass", "physics.blend", 1, 0, preset="bass")
    b.node("dance_bass", "dance.dancer", 2, 0, stage_left=-40.0, stage_home=0.0, stage_right=40.0)
    b.node("mask_bass", "mask.paint", 3, 0, preset="floor")
    b.node("sink_bass", "sae.block", 4, 0, block="down.2.1", feature_id=FEATURES["down.2.1"])
    # drums -> up.0.0: a kick spring, kicked again by every hit
    b.node("phys_drums", "physics.spring", 1, 1.5, preset="kick", kick=3.0)
    b.node("dance_drums", "dance.dancer", 2, 1.5, stage_right=35.0)
    b.node("sink_drums", "sae.block", 4, 1.5, block="up.0.0", feature_id=FEATURES["up.0.0"])
    # vocals -> up.0.1: melodic blend, a band that follows the pitch
    b.node("phys_vocals", "physics.blend", 1, 3, preset="vocals")
    b.node("dance_vocals", "dance.dancer", 2, 3, stage_right=30.0, silence="home")
    b.node("mask_vocals", "mask.pitch", 3, 3, spread=0.25)
    b.node("sink_vocals", "sae.block", 4, 3, block="up.0.1", feature_id=FEATURES["up.0.1"])
    # other -> mid.0: ambient blend, the middle band
    b.node("phys_other", "physics.blend", 1, 4.5, preset="ambient")
    b.node("dance_other", "dance.dancer", 2, 4.5, stage_right=25.0, curve="gamma", gamma=0.7)
    b.node("mask_other", "mask.paint", 3, 4.5, preset="center")
    b.node("sink_other", "sae.block", 4, 4.5, block="mid.0", feature_id=FEATURES["mid.0"])
    b.node("ensemble", "ensemble.prominence", 3, 6.5, rank_drums="R1", rank_vocals="R1",
           rank_bass="R2", rank_other="R3", rank_drums_low="auto", rank_drums_high="auto",
           rank_other_high="auto")
    b.node("prompt", "dest.prompt", 4, 6.5, mode="reactive", gain=1.2,
           prompt_a="a quiet harbour at dawn, soft light",
           prompt_b="a neon city at night, rain, reflections")
    b.node("noise", "noise.walk", 4, 8, mode="auto", distance=0.5, seed_a=0, seed_b=1)
    for stem in ("bass", "vocals", "other"):
        b.link(f"src_{stem}.energy_smooth", f"phys_{stem}.target")
        b.link(f"src_{stem}.stem", f"phys_{stem}.stem")
    b.link("src_drums.energy_smooth", "phys_drums.target")
    b.link("src_drums.hit", "phys_drums.impulse")
    for stem in ("bass", "drums", "vocals", "other"):
        b.link(f"phys_{stem}.out", f"dance_{stem}.intensity")
        b.link(f"src_{stem}.stem", f"dance_{stem}.stem")
        b.link(f"dance_{stem}.out", f"sink_{stem}.strength")
        b.link(f"ensemble.{stem}", f"sink_{stem}.gain")
    b.link("src_vocals.pitch", "mask_vocals.pitch")
    for stem in ("bass", "vocals", "other"):
        b.link(f"mask_{stem}.out", f"sink_{stem}.mask")
    b.link("ensemble.energy", "prompt.drive")
    return b.patch


def album_art_patch() -> Patch:
    b = Builder("album art", "The cover is destination A, the noise is B: the bass pushes the "
                "frame away from the cover (deviation 0.15..0.75) and drops bring it back; "
                "the drums steer texture on the top half. Your own cover: set the cover "
                "node's image (a path relative to this file's folder, or absolute).")
    b.node("src_bass", "audio.source", 0, 0, stem="bass")
    b.node("src_drums", "audio.source", 0, 1.5, stem="drums")
    b.node("phys_bass", "physics.spring", 1, 0, preset="bass")
    b.node("dance_dev", "dance.dancer", 2, 0, stage_left=0.15, stage_home=0.15, stage_right=0.75)
    b.node("cover", "dest.latent", 4, 0, image=COVER_NAME, mode="driven")  # ships beside it
    b.node("phys_drums", "physics.spring", 1, 1.5, preset="kick", kick=2.0)
    b.node("dance_drums", "dance.dancer", 2, 1.5, stage_right=25.0)
    b.node("mask_top", "mask.paint", 3, 1.5, preset="ceiling")
    b.node("sink_drums", "sae.block", 4, 1.5, block="up.0.1", feature_id=FEATURES["up.0.1"])
    b.node("noise", "noise.walk", 4, 3, mode="pulse", distance=0.25, seed_a=42, seed_b=7)
    b.link("src_bass.energy_smooth", "phys_bass.target")
    b.link("phys_bass.out", "dance_dev.intensity")
    b.link("src_bass.stem", "dance_dev.stem")
    b.link("dance_dev.out", "cover.drive")
    b.link("src_drums.energy_smooth", "phys_drums.target")
    b.link("src_drums.hit", "phys_drums.impulse")
    b.link("phys_drums.out", "dance_drums.intensity")
    b.link("src_drums.stem", "dance_drums.stem")
    b.link("dance_drums.out", "sink_drums.strength")
    b.link("mask_top.out", "sink_drums.mask")
    return b.patch


def pitch_masks_patch() -> Patch:
    b = Builder("pitch-aligned masks", "Features appear at the height of the notes: the voice "
                "steers details in a band that follows its pitch, the bass steers composition "
                "where its pitch band meets the floor, and the 'other' stem's melody picks "
                "where in the stage range mid.0 leans.")
    b.node("src_vocals", "audio.source", 0, 0, stem="vocals")
    b.node("src_bass", "audio.source", 0, 1.5, stem="bass")
    b.node("src_other", "audio.source", 0, 3.5, stem="other")
    b.node("phys_vocals", "physics.spring", 1, 0, preset="vocals")
    b.node("dance_vocals", "dance.dancer", 2, 0, stage_right=30.0, silence="home")
    b.node("mask_vocals", "mask.pitch", 3, 0, spread=0.25)
    b.node("sink_vocals", "sae.block", 5, 0, block="up.0.0", feature_id=FEATURES["up.0.0"])
    b.node("phys_bass", "physics.spring", 1, 1.5, preset="bass")
    b.node("dance_bass", "dance.dancer", 2, 1.5, stage_right=35.0)
    b.node("pitch_bass", "mask.pitch", 3, 1.5, spread=0.35)
    b.node("floor", "mask.paint", 3, 2.5, preset="floor")
    b.node("mix_bass", "mask.mix", 4, 1.5, mode="multiply")
    b.node("sink_bass", "sae.block", 5, 1.5, block="down.2.1", feature_id=FEATURES["down.2.1"])
    b.node("follow_other", "physics.pitch_follow", 1, 3.5, threshold=0.4)
    b.node("phys_other", "physics.spring", 1, 5, preset="vocals")
    b.node("dance_other", "dance.dancer", 2, 3.5, stage_left=-20.0, stage_right=20.0,
           position_source="input")
    b.node("sink_other", "sae.block", 5, 3.5, block="mid.0", feature_id=FEATURES["mid.0"])
    for stem in ("vocals", "bass", "other"):
        b.link(f"src_{stem}.energy_smooth", f"phys_{stem}.target")
        b.link(f"phys_{stem}.out", f"dance_{stem}.intensity")
        b.link(f"src_{stem}.stem", f"dance_{stem}.stem")
        b.link(f"dance_{stem}.out", f"sink_{stem}.strength")
    b.link("src_vocals.pitch", "mask_vocals.pitch")
    b.link("mask_vocals.out", "sink_vocals.mask")
    b.link("src_bass.pitch", "pitch_bass.pitch")
    b.link("pitch_bass.out", "mix_bass.a")
    b.link("floor.out", "mix_bass.b")
    b.link("mix_bass.out", "sink_bass.mask")
    b.link("src_other.pitch_hz", "follow_other.pitch_hz")
    b.link("src_other.pitch_confidence", "follow_other.confidence")
    b.link("follow_other.out", "dance_other.position")
    return b.patch


SCENES = ("a quiet harbour at dawn, soft light",
          "a storm over black cliffs, lightning",
          "a cathedral made of glass, sunbeams",
          "an overgrown city, vines and moss, golden hour")


def tension_scenes_patch() -> Patch:
    b = Builder("tension-driven scenes", "Harmony drives the scene: the mix's roughness "
                "(tension) is the prompt position, and each time tension peaks the current "
                "blend freezes and the next scene of the playlist becomes the destination. "
                "Tension also picks where the 'other' stem leans on mid.0; the noise drifts "
                "with the harmony.")
    b.node("src_mix", "audio.source", 0, 0, stem="mix")
    b.node("smooth_tension", "shape.smooth", 1, 0, attack_ms=400.0, release_ms=1200.0)
    b.node("peak", "logic.threshold", 1, 1, threshold=0.7, hysteresis=0.3)
    b.node("prompt", "dest.prompt", 3, 0, mode="linked", glide_ms=600.0,
           prompt_a=SCENES[0], prompt_b=SCENES[1], playlist="\n".join(SCENES[2:] + SCENES[:2]))
    b.node("src_drums", "audio.source", 0, 2.5, stem="drums")
    b.node("phys_drums", "physics.spring", 1, 2.5, preset="kick", kick=2.0)
    b.node("dance_drums", "dance.dancer", 2, 2.5, stage_right=30.0)
    b.node("sink_drums", "sae.block", 3, 2.5, block="up.0.0", feature_id=FEATURES["up.0.0"])
    b.node("src_other", "audio.source", 0, 4, stem="other")
    b.node("phys_other", "physics.blend", 1, 4, preset="ambient")
    b.node("dance_other", "dance.dancer", 2, 4, stage_left=-25.0, stage_right=25.0,
           position_source="tension", silence="home")
    b.node("sink_other", "sae.block", 3, 4, block="mid.0", feature_id=FEATURES["mid.0"])
    b.node("noise", "noise.walk", 3, 5.5, mode="continuous", distance=0.3)
    b.link("src_mix.tension", "smooth_tension.x")
    b.link("smooth_tension.out", "prompt.drive")
    b.link("src_mix.tension", "peak.x")
    b.link("peak.fire", "prompt.next")
    b.link("src_drums.energy_smooth", "phys_drums.target")
    b.link("src_drums.hit", "phys_drums.impulse")
    b.link("phys_drums.out", "dance_drums.intensity")
    b.link("src_drums.stem", "dance_drums.stem")
    b.link("dance_drums.out", "sink_drums.strength")
    b.link("src_other.energy_smooth", "phys_other.target")
    b.link("src_other.stem", "phys_other.stem")
    b.link("phys_other.out", "dance_other.intensity")
    b.link("src_other.stem", "dance_other.stem")
    b.link("dance_other.out", "sink_other.strength")
    return b.patch


def breathing_pads_patch() -> Patch:
    b = Builder("breathing pads", "Sustained models that never settle, kicked by the beat: "
                "the 'other' stem breathes through coupled oscillators, its high band drifts "
                "through noise, and every kick-drum hit tightens and jolts both. The high band "
                "is ranked auto: it only surges when the analysis sees it enter.")
    b.node("src_other", "audio.source", 0, 0, stem="other")
    b.node("src_air", "audio.source", 0, 1.5, stem="other_high")
    b.node("src_kick", "audio.source", 0, 3, stem="drums_low")
    b.node("osc", "physics.oscillator", 1, 0, kick=0.6, tighten=4.0)
    b.node("drift", "physics.perlin", 1, 1.5, seed=11, speed=0.1, speed_gain=0.8)
    b.node("dance_pad", "dance.dancer", 2, 0, stage_left=-30.0, stage_right=30.0,
           intensity_source="energy_smooth", position_source="input")
    b.node("dance_air", "dance.dancer", 2, 1.5, stage_right=30.0)
    b.node("air_mask", "mask.paint", 3, 1.5, preset="ceiling")
    b.node("ensemble", "ensemble.prominence", 3, 3, rank_other="R1", rank_other_high="auto",
           rank_drums_low="R2")
    b.node("sink_pad", "sae.block", 4, 0, block="mid.0", feature_id=FEATURES["mid.0"])
    b.node("sink_air", "sae.block", 4, 1.5, block="up.0.1", feature_id=FEATURES["up.0.1"])
    b.node("noise", "noise.walk", 4, 3, mode="auto", distance=0.4, seed_a=3, seed_b=4)
    b.link("src_other.energy_smooth", "osc.energy")
    b.link("src_kick.hit", "osc.impulse")
    b.link("osc.out", "dance_pad.position")
    b.link("src_other.stem", "dance_pad.stem")
    b.link("src_air.energy_smooth", "drift.energy")
    b.link("src_kick.hit", "drift.impulse")
    b.link("drift.out", "dance_air.intensity")
    b.link("src_air.stem", "dance_air.stem")
    b.link("dance_pad.out", "sink_pad.strength")
    b.link("dance_air.out", "sink_air.strength")
    b.link("air_mask.out", "sink_air.mask")
    b.link("ensemble.other", "sink_pad.gain")
    b.link("ensemble.other_high", "sink_air.gain")
    return b.patch


EXAMPLES = {
    "default": default_patch,
    "album_art": album_art_patch,
    "pitch_masks": pitch_masks_patch,
    "tension_scenes": tension_scenes_patch,
    "breathing_pads": breathing_pads_patch,
}


def build_all() -> dict[str, Patch]:
    return {name: make() for name, make in EXAMPLES.items()}


def write_all(folder: str | os.PathLike = PATCH_DIR) -> list[str]:
    os.makedirs(folder, exist_ok=True)
    paths = []
    for name, patch in build_all().items():
        path = os.path.join(folder, f"{name}.patch")
        save(patch, path)
        os.chmod(path, 0o644)  # shipped files: readable by all (save() writes 0600)
        paths.append(path)
    paths.append(write_cover(folder))  # the album_art patch's image
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hambajuba_nodes.content.examples",
                                 description="write the example patches")
    ap.add_argument("--out", default=str(PATCH_DIR), help="folder (default: the repo's patches/)")
    args = ap.parse_args(argv)
    for path in write_all(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

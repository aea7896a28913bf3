"""The compositor alone: nothing allocated per frame, glances toward the
loudest stem, the eyes widen on a drop, approximate stems dim the orbs."""
from __future__ import annotations

import tracemalloc

import numpy as np
from character_helpers import crop, groove, lit


def _comp(analysis, skin="terminal"):
    from graph_runtime.stage.character.compositor import Compositor
    from graph_runtime.stage.character.skin import load_skin

    return Compositor(load_skin(skin), 1280, 720, None, analysis)


def test_a_frame_allocates_nothing():
    comp = _comp(groove(10.0))
    heart = np.full((512, 512, 4), 200, np.uint8)
    for i in range(30):
        comp.frame(heart, i / 60, 1 / 60)
    tracemalloc.start()
    base = tracemalloc.take_snapshot()
    for i in range(30, 330):
        comp.frame(heart, i / 60, 1 / 60)
    grown = tracemalloc.take_snapshot().compare_to(base, "filename")
    tracemalloc.stop()
    assert sum(s.size_diff for s in grown if s.size_diff > 0) < 4096  # no frame buffers


def test_he_glances_toward_the_loudest_stem():
    a = groove(4.0)
    for s in ("bass", "drums", "vocals", "other"):
        a.data[f"{s}/energy_smooth"] = np.zeros_like(a.times, dtype=np.float32)
    a.data["vocals/energy_smooth"][a.times >= 2.0] = 0.9  # vocals on his right, from 2 s
    a.data["bass/energy_smooth"][a.times < 2.0] = 0.9  # bass on his left, until then
    comp = _comp(a)
    heart = np.zeros((128, 128, 4), np.uint8)
    text = comp.skin.colors["text"]
    y, x, h, w = comp.eye_rect(0)
    left, right = (y, x, h, w // 2), (y, x + w // 2, h, w - w // 2)
    for i in range(int(1.8 * 30)):
        img = comp.frame(heart, i / 30 + 0.12, 1 / 30)  # 0.12: off the beat, eyes open
    assert comp.drive.glance == -1 and lit(crop(img, left), text) > lit(crop(img, right), text)
    for i in range(int(1.8 * 30), int(3.0 * 30)):
        img = comp.frame(heart, i / 30 + 0.12, 1 / 30)
    assert comp.drive.glance == 1 and lit(crop(img, right), text) > lit(crop(img, left), text)


def test_the_eyes_widen_on_a_drop():
    a = groove(6.0)
    nov = np.zeros_like(a.times, dtype=np.float32)
    nov[(a.times >= 3.0) & (a.times < 3.5)] = 0.9  # a section change at 3 s
    a.data["mix/novelty_long"] = nov
    comp = _comp(a)
    from graph_runtime.stage.character.drive import SyncLog

    comp.drive.log = log = SyncLog(200)
    heart = np.zeros((128, 128, 4), np.uint8)
    wide = []
    for i in range(180):
        comp.frame(heart, i / 30, 1 / 30)
        wide.append(comp.drive.wide)
    assert log.sidecar()["widen"] == [3.0]
    assert max(wide[:90]) == 0.0 and wide[90] == 1.0 and wide[95] > 0.3


def test_approximate_stems_show_as_dimmer_orbs():
    plain, approx = groove(4.0), groove(4.0)
    approx.meta["separator"] = "approx"
    heart = np.zeros((128, 128, 4), np.uint8)
    a, b = _comp(plain), _comp(approx)
    for i in range(60):
        ia = a.frame(heart, i / 30, 1 / 30)
        ib = b.frame(heart, i / 30, 1 / 30)
    orb = a.layout.orbs[1]
    assert crop(ib, orb)[..., :3].max() < 0.6 * crop(ia, orb)[..., :3].max()


class _Wire:
    def __init__(self, v):
        self.v = v


class _LiveSource:
    """The live source's interface (make_bank -> signal/trigger/freeze/update/seek),
    with a 120 BPM grid of its own: beats at whole half-seconds, drums loud."""

    def make_bank(self):
        return self

    def signal(self, name):
        return self.wires.setdefault(name, _Wire(0.0))

    def trigger(self, name):
        return self.wires.setdefault(name, _Wire(False))

    def freeze(self):
        pass

    def seek(self):
        self.last = -1

    def update(self, t):
        beat_no = int(t / 0.5)
        self.wires["global/beat"].v = beat_no > self.last >= 0
        self.last = beat_no
        self.wires["global/beat_phase"].v = t / 0.5 - beat_no
        self.wires["drums/energy_smooth"].v = 0.9

    def __init__(self):
        self.wires, self.last = {}, -1


def test_live_input_drives_him_through_its_bank():
    from graph_runtime.stage.character.drive import SyncLog

    comp = _comp(_LiveSource())
    comp.drive.log = log = SyncLog(100)
    heart = np.zeros((128, 128, 4), np.uint8)
    pulses = []
    for i in range(60):
        comp.frame(heart, i / 30, 1 / 30)
        pulses.append(comp.drive.pulse)
    assert log.sidecar()["blinks"] == [0.5, 1.0, 1.5]  # the live grid's beats
    assert pulses[15] == 1.0 and pulses[22] < 0.5  # glows on the beat, fades through it
    assert comp.drive.orbs[1] > 0.8 and comp.drive.approximate

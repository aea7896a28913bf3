"""Envelope followers run on a ~1 ms grid and are sampled on the 50 fps
frames: attack times shorter than a frame stay distinct."""
from __future__ import annotations

import numpy as np
import pytest

from graph_runtime.analysis import envelope, features, spectral

SR, FPS, HOP = spectral.ANALYSIS_SR, spectral.FPS, spectral.HOP
ONSET_S = 1.0


def hit(freq=200.0, seconds=3.0, amp=0.5):
    """Silence, then a steady sine from ONSET_S (a hit that holds)."""
    t = np.arange(int(seconds * SR)) / SR
    return np.where(t >= ONSET_S, amp * np.sin(2 * np.pi * freq * t), 0.0).astype(np.float32)


def frames_of(y, attack_ms, release_ms=100.0):
    mag = spectral.stft_magnitude(y)
    rms = spectral.rms(mag)
    level = envelope.fine_level(y, hop=HOP, ref=float(rms.max()))
    fine = envelope.follow(level, fps=FPS * envelope.FINE_PER_FRAME,
                           attack_ms=attack_ms, release_ms=release_ms)
    return envelope.on_frames(fine, len(rms))


def test_fine_grid_is_about_one_millisecond_and_lands_on_frames():
    step_ms = 1000.0 * (HOP // envelope.FINE_PER_FRAME) / SR
    assert 0.5 < step_ms < 1.5
    assert HOP % envelope.FINE_PER_FRAME == 0          # every frame instant is a fine step
    ramp = np.arange(10 * envelope.FINE_PER_FRAME, dtype=np.float32)
    np.testing.assert_array_equal(envelope.on_frames(ramp, 10), ramp[::envelope.FINE_PER_FRAME])


def test_2_ms_and_20_ms_attacks_differ_at_50_fps():
    y = hit()
    fast, slow = frames_of(y, 2.0), frames_of(y, 20.0)
    onset = int(ONSET_S * FPS)
    assert np.abs(fast - slow)[onset:onset + 4].max() > 0.2
    assert np.all(fast[onset:onset + 4] >= slow[onset:onset + 4])   # the fast one leads
    assert fast[-10:] == pytest.approx(slow[-10:], abs=0.02)        # and both settle alike


def test_attacks_shorter_than_a_frame_are_ordered_not_all_instant():
    """On the 20 ms grid alone 2, 5 and 10 ms all read as one step."""
    y = hit()
    onset = int(ONSET_S * FPS)
    first = [frames_of(y, a)[onset] for a in (2.0, 5.0, 10.0)]   # the frame the hit lands on
    assert first[0] > first[1] + 0.05 and first[1] > first[2] + 0.05
    on_frames_only = [envelope.follow(np.r_[np.zeros(5), np.ones(5)], fps=FPS, attack_ms=a,
                                      release_ms=100.0)[5] for a in (2.0, 5.0)]
    assert on_frames_only[0] == pytest.approx(on_frames_only[1], abs=0.02)   # the old problem


def test_a_held_bass_note_does_not_ripple():
    """The fine level's window is a frame long: a 41 Hz bass reads steady."""
    y = hit(freq=41.2)
    e = frames_of(y, 2.0, 150.0)[int((ONSET_S + 0.3) * FPS):-10]
    assert e.max() - e.min() < 0.05 and e.mean() > 0.9


def test_stem_channels_use_the_preset_on_the_fine_grid(monkeypatch):
    """The analysis' own path: drums' 2 ms attack against a 20 ms one."""
    y = hit()
    onset = int(ONSET_S * FPS)

    def smooth():
        return features.stem_channels(y, sr=SR, stem="drums", mix_peak=0.35, bpm=120.0)

    fast = smooth()
    monkeypatch.setitem(envelope.ENERGY_PRESETS, "drums", (20.0, 100.0))
    slow = smooth()
    assert fast["energy_smooth"][onset + 1] > slow["energy_smooth"][onset + 1] + 0.2
    for ch in (fast, slow):
        for name in ("energy_smooth", "flash", "sustain"):
            x = ch[name]
            assert x.dtype == np.float32 and x.shape == ch["envelope"].shape
            assert np.all((x >= 0.0) & (x <= 1.0))
    assert fast["flash"][onset:onset + 3].max() > 0.5          # the hit pops
    assert fast["flash"][-10] < 0.05 and fast["sustain"][-10] > 0.9   # and the tail holds


def test_fine_level_reads_like_the_frame_rms():
    y = hit(freq=440.0, amp=0.8)
    rms = spectral.rms(spectral.stft_magnitude(y))
    level = envelope.on_frames(envelope.fine_level(y, hop=HOP, ref=1.0), len(rms))
    steady = slice(int((ONSET_S + 0.2) * FPS), -5)
    np.testing.assert_allclose(level[steady], rms[steady], rtol=0.02)
    assert level[: int(ONSET_S * FPS) - 2].max() == 0.0

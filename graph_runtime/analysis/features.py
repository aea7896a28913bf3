"""All per-stem channels except pitch, from one STFT of the stem.

stem_channels(y) -> {envelope, energy_smooth, flash, sustain, flux, transient,
brightness, flatness, harmonic_ratio, novelty_*, layer_entry, activity}, each
(n_frames,) float32 on the 50 fps grid. Loudness is relative to the mix: a
stem is active above -40 dB of the mix's loudest frame, and its envelope is
scaled by its own loudest frame, but never by less than that gate (a near
silent stem stays near zero instead of being blown up to full scale).
"""
from __future__ import annotations

import numpy as np
import scipy.ndimage

from . import envelope as env
from . import novelty, onsets, spectral
from .framewise import framewise

ACTIVITY_DB = -40.0         # dB re the mix's loudest frame
SILENCE_DBFS = -80.0        # below this RMS nothing is active, however quiet the mix
ACTIVITY_HOLD_S = 0.1       # gaps shorter than this stay active
N_NOVELTY_MELS = 16


def activity(rms: np.ndarray, *, mix_peak: float, fps: float) -> np.ndarray:
    """1 where the stem is above ACTIVITY_DB re the mix peak (and above SILENCE_DBFS),
    gaps shorter than ACTIVITY_HOLD_S closed."""
    if mix_peak <= 0:
        return np.zeros(len(rms), np.float32)
    on = (rms > mix_peak * 10.0 ** (ACTIVITY_DB / 20.0)) & (rms > 10.0 ** (SILENCE_DBFS / 20.0))
    hold = max(1, int(ACTIVITY_HOLD_S * fps))
    if on.any():
        on = scipy.ndimage.binary_closing(np.pad(on, hold), structure=np.ones(2 * hold + 1))[hold:-hold]
    return on.astype(np.float32)


def envelope_from_rms(rms: np.ndarray, *, mix_peak: float) -> np.ndarray:
    """RMS / max(stem peak, gate level), clipped to [0, 1]."""
    ref = envelope_ref(rms, mix_peak=mix_peak)
    if ref <= 0:
        return np.zeros(len(rms), np.float32)
    return np.clip(rms / ref, 0.0, 1.0).astype(np.float32)


def envelope_ref(rms: np.ndarray, *, mix_peak: float) -> float:
    """The level an envelope reads as 1: the stem's loudest frame, never below the gate."""
    return max(float(rms.max(initial=0.0)), mix_peak * 10.0 ** (ACTIVITY_DB / 20.0))


def stem_channels(y: np.ndarray, *, sr: int, stem: str, mix_peak: float, bpm: float,
                  fps: float = spectral.FPS, magnitude: np.ndarray | None = None
                  ) -> dict[str, np.ndarray]:
    """The stem's channels (all of CHANNELS but the pitch ones)."""
    mag = spectral.stft_magnitude(y) if magnitude is None else magnitude
    rms = framewise(spectral.rms, mag)  # blocks of frames: no hour-long float64 temporaries
    active = activity(rms, mix_peak=mix_peak, fps=fps)
    on = active.astype(bool)
    ch: dict[str, np.ndarray] = {"activity": active}
    ch["envelope"] = envelope_from_rms(rms, mix_peak=mix_peak)
    # followers on the ~1 ms grid, sampled on frames: sub-frame attacks stay distinct
    level = env.fine_level(y, hop=spectral.HOP, ref=envelope_ref(rms, mix_peak=mix_peak))
    ch.update(env.fine_followers(level, fps=fps, stem=stem, n_frames=len(rms)))
    raw_flux = framewise(spectral.spectral_flux, mag, context=2)
    ch["flux"] = onsets.normalise_flux(raw_flux, active)
    ch["transient"] = onsets.pick_peaks(ch["flux"], fps=fps) * active
    centroid = framewise(lambda m: spectral.centroid(m, sr=sr), mag)
    ch["brightness"] = np.where(on, spectral.brightness(centroid), 0.0)
    ch["flatness"] = np.where(on, framewise(spectral.flatness, mag), 0.0)
    ch["harmonic_ratio"] = np.where(on, framewise(spectral.harmonic_ratio, mag, context=64,
                                                  align=2), 0.0)
    mel = spectral.mel_filterbank(sr=sr, n_mels=N_NOVELTY_MELS) @ mag
    feats = novelty.novelty_features(spectral.log_compress(mel), ch["flux"])
    ch.update(novelty.novelty_channels(feats, active, fps=fps, bpm=bpm))
    ch["layer_entry"] = novelty.layer_entries(active, ch["novelty_medium"], ch["sustain"], fps=fps)
    return {k: np.asarray(v, dtype=np.float32) for k, v in ch.items()}


def silent_pitch(n: int) -> dict[str, np.ndarray]:
    """Pitch channels of a stem that carries no pitch."""
    z = np.zeros(n, np.float32)
    return {"pitch_hz": z, "pitch_confidence": z.copy(), "pitch_normalized": z.copy()}

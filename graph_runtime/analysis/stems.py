"""The four source stems: bass, drums, vocals, other.

Three ways to get them, in the order `separator="auto"` tries:

- user stems (--stems DIR): files a DAW or DJ tool exported, used as they are.
- Demucs htdemucs_ft (demucs_separator.py) when its weights are on disk.
- "approx": HPSS plus band filters, named as such everywhere it shows. The
  percussive part of the mix is the drums; the harmonic part is split into
  bass (below 200 Hz), vocals (the centre-panned part of 200 Hz..3.5 kHz)
  and other (the rest). The four add up to the mix. It is a rough guess:
  vocals and other are not really separated, a mono mix puts every mid
  sound in "vocals".

Every function returns name -> mono float32 at ANALYSIS_SR.
"""
from __future__ import annotations

import os
import re

import numpy as np

from ..media.audio_file import AUDIO_EXTENSIONS
from .decode import decode_for_analysis, resample
from .errors import AnalysisError
from .spectral import ANALYSIS_SR, HOP

SOURCE_STEMS = ("bass", "drums", "vocals", "other")
APPROX_WARNING = ("no Demucs weights and no --stems: using the approximate separation "
                  "(HPSS + band filters), so vocals and other are rough guesses; for real stems "
                  "put htdemucs_ft in the Hugging Face cache or pass --demucs-weights DIR, "
                  "or export stems from your DAW and pass --stems DIR")

# what producers name their stem files: stem -> words that identify it
STEM_WORDS = {
    "bass": ("bass",),
    "drums": ("drums", "drum", "percussion", "perc", "beat"),
    "vocals": ("vocals", "vocal", "vox", "voice", "acapella", "lead"),
    "other": ("other", "instrumental", "inst", "music", "melody", "synths", "keys"),
}
BASS_HZ, VOICE_LO_HZ, VOICE_HI_HZ = 200.0, 200.0, 3500.0


# -- user stems --------------------------------------------------------------------
def find_user_stems(folder) -> dict[str, str]:
    """stem -> file path in `folder`, matched on whole words of the file name."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise AnalysisError(folder, "is not a folder of stems",
                            "give a folder with bass/drums/vocals/other audio files")
    found: dict[str, list[str]] = {s: [] for s in SOURCE_STEMS}
    for name in sorted(os.listdir(folder)):
        base, ext = os.path.splitext(name)
        if ext.lower() not in AUDIO_EXTENSIONS or name.startswith("."):
            continue
        words = set(re.split(r"[^a-z]+", base.lower()))
        hits = [s for s in SOURCE_STEMS if words & set(STEM_WORDS[s])]
        if len(hits) == 1:
            found[hits[0]].append(os.path.join(folder, name))
    for stem, files in found.items():
        if len(files) > 1:
            names = ", ".join(os.path.basename(f) for f in files)
            raise AnalysisError(folder, f"has {len(files)} files for the {stem} stem ({names})",
                                "keep one per stem")
    out = {s: f[0] for s, f in found.items() if f}
    if not out:
        raise AnalysisError(folder, "has no stem files",
                            "name them bass, drums, vocals and other (wav, flac, ogg or mp3)")
    return out


def load_user_stems(folder, *, n_samples: int, sr: int = ANALYSIS_SR
                    ) -> tuple[dict[str, np.ndarray], list[str]]:
    """(stems, warnings): each stem mono at sr, padded or cut to n_samples.

    Stems at other rates are resampled; a missing stem is silence; a stem
    whose length differs from the track by more than 0.5 s gets a warning."""
    files = find_user_stems(folder)
    stems: dict[str, np.ndarray] = {}
    warnings: list[str] = []
    for stem in SOURCE_STEMS:
        if stem not in files:
            stems[stem] = np.zeros(n_samples, np.float32)
            warnings.append(f"{os.fspath(folder)}: no {stem} stem; it is analysed as silence")
            continue
        track = decode_for_analysis(files[stem])
        warnings += track.warnings
        y = resample(track.mono(), track.sr, sr)
        if abs(len(y) - n_samples) > 0.5 * sr:
            warnings.append(f"{files[stem]}: {len(y) / sr:.1f} s long, the track is "
                            f"{n_samples / sr:.1f} s; aligned at the start")
        stems[stem] = _fit(y, n_samples)
    return stems, warnings


def _fit(y: np.ndarray, n: int) -> np.ndarray:
    return y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))


# -- approximate separation --------------------------------------------------------
def _stft(y: np.ndarray, *, n_fft: int, hop: int) -> np.ndarray:
    """(n_bins, n_frames) complex64 (spectral.stft_frames, transposed view)."""
    from .spectral import stft_frames
    return stft_frames(y, n_fft=n_fft, hop=hop).T


def _istft(z: np.ndarray, *, n: int, n_fft: int, hop: int) -> np.ndarray:
    from .spectral import istft_frames
    return istft_frames(z.T, n_fft=n_fft, hop=hop, length=n)


def percussive_mask(magnitude: np.ndarray, *, time_kernel: int = 17, freq_kernel: int = 9,
                    freq_pool: int = 2) -> np.ndarray:
    """Soft HPSS mask P^2 / (H^2 + P^2) (Fitzgerald 2010), same shape as magnitude.

    The medians run on bins pooled by freq_pool (they dominate the cost); the
    mask is spread back over the pooled bins. At n_fft 1024, hop 441 and
    22050 Hz the kernels span 0.34 s and 390 Hz."""
    from .spectral import median_along
    n_bins, n = magnitude.shape
    usable = n_bins // freq_pool * freq_pool
    pooled = np.abs(magnitude[:usable]).reshape(-1, freq_pool, n).mean(axis=1).astype(np.float32)
    harm = median_along(pooled, time_kernel, axis=1)
    perc = median_along(pooled, freq_kernel, axis=0)
    h2, p2 = harm ** 2, perc ** 2
    mask = np.repeat(p2 / np.maximum(h2 + p2, 1e-20), freq_pool, axis=0)
    return np.vstack([mask, np.repeat(mask[-1:], n_bins - usable, axis=0)]).astype(np.float32)


def centre_mask(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """How centre-panned each bin is: 2|L R*| / (|L|^2 + |R|^2), 1 = centre."""
    num = 2.0 * np.abs(left * np.conj(right))
    den = np.abs(left) ** 2 + np.abs(right) ** 2
    return np.where(den > 1e-20, num / np.maximum(den, 1e-20), 1.0).astype(np.float32)


def lr4_weights(freqs: np.ndarray, cutoff: float) -> np.ndarray:
    """Zero-phase LR4 low-pass magnitude 1 / (1 + (f/fc)^4) on given frequencies."""
    return 1.0 / (1.0 + (freqs / cutoff) ** 4)


def separate_approx(samples: np.ndarray, *, sr: int, out_sr: int = ANALYSIS_SR,
                    n_fft: int = 1024, hop: int = HOP) -> dict[str, np.ndarray]:
    """HPSS + band split of a (channels, n) track -> the four stems, mono at out_sr.

    The masks are made on the analysis grid (hop 441, frame i centred on
    sample i * hop, as spectral.stft_magnitude frames it), so each stem's
    channels are measured on the frames its mask was made on. On another hop
    (512 until 2026-12) the resynthesised stems carry the beat between the two
    grids: the harmonic stems' onset channel then changed with the hop alone
    (r 0.77 between hops 512 and 441 on other_mid/flux of the eval chorales)."""
    stereo = resample(samples, sr, out_sr)
    left, right = stereo[0], stereo[-1]
    n = stereo.shape[1]
    zl, zr = _stft(left, n_fft=n_fft, hop=hop), _stft(right, n_fft=n_fft, hop=hop)
    mid = np.float32(0.5) * (zl + zr)
    p_mask = percussive_mask(np.abs(mid))
    harmonic = mid * (np.float32(1.0) - p_mask)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / out_sr)[:, None]
    w_bass = lr4_weights(freqs, BASS_HZ).astype(np.float32)
    w_voice = ((1.0 - w_bass) * lr4_weights(freqs, VOICE_HI_HZ)).astype(np.float32)
    voice = w_voice * centre_mask(zl, zr) ** 2
    del zl, zr
    parts = {  # one at a time: each masked spectrum is as large as the track's STFT
        "drums": lambda: mid * p_mask,
        "bass": lambda: harmonic * w_bass,
        "vocals": lambda: harmonic * voice,
        "other": lambda: harmonic * (np.float32(1.0) - w_bass - voice),
    }
    return {k: _istft(part(), n=n, n_fft=n_fft, hop=hop) for k, part in parts.items()}

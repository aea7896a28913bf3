"""Long tracks in bounded memory: separation in blocks, stems one at a time.

At 60 minutes one mono stem at 22050 Hz is 317 MB and one magnitude
spectrogram (513 bins x 180,000 frames) 370 MB, so holding every stem's
audio and spectrum at once (what a short track can afford) takes about
7 GB. Here:

* `separate_approx_blocks` runs the approximate separation on blocks of
  about a minute with two seconds of context either side and keeps each
  block's centre: every operation in it (STFT, HPSS medians over 17
  frames, masks, ISTFT, resampling) reaches less than a second, so the
  result equals the whole-track separation up to float rounding, and its
  temporaries are a minute's, not an hour's.
* `stem_channels_in_turn` computes each stem's channels from its own
  spectrum, made and dropped one stem at a time, derives the sub-band stems
  from their source just before they are needed, and releases every stem's
  audio as soon as nothing later reads it (the drums and the sub-bands after
  their channels; the mix after its channels; only the pitched stems stay,
  for the pitch stage and the tension of the mix without drums).

Shapes: audio (n_samples,) float32 at ANALYSIS_SR; channels (n_frames,).
"""
from __future__ import annotations

import numpy as np

from . import crossover, features, spectral
from .store import ALL_STEMS

APPROX_HOP = spectral.HOP       # the approximate separation's STFT hop (stems.separate_approx)
BLOCK_HOPS = 3000                # a block's centre: 3000 hops = 60.0 s at 22050 Hz
MARGIN_HOPS = 100                # context either side: 2.0 s, beyond every kernel's reach


def separate_approx_blocks(samples: np.ndarray, *, sr: int, out_sr: int = spectral.ANALYSIS_SR,
                           block_hops: int = BLOCK_HOPS, margin_hops: int = MARGIN_HOPS
                           ) -> dict[str, np.ndarray]:
    """stems.separate_approx of a (channels, n) track at sr, block by block:
    {bass, drums, vocals, other} mono float32 at out_sr."""
    from .stems import SOURCE_STEMS, separate_approx
    n_in = samples.shape[1]
    n_out = int(round(n_in * out_sr / sr))
    block, margin = block_hops * APPROX_HOP, margin_hops * APPROX_HOP        # out-rate samples
    if n_out <= block + 2 * margin:
        return separate_approx(samples, sr=sr, out_sr=out_sr)
    out = {s: np.zeros(n_out, np.float32) for s in SOURCE_STEMS}
    for start in range(0, n_out, block):
        lo, hi = max(0, start - margin), min(n_out, start + block + margin)
        part = separate_approx(samples[:, _in(lo, sr, out_sr):_in(hi, sr, out_sr)], sr=sr,
                               out_sr=out_sr)
        keep = min(block, n_out - start)
        for name, y in part.items():
            centre = y[start - lo:start - lo + keep]
            out[name][start:start + len(centre)] = centre
    return out


def _in(i_out: int, sr: int, out_sr: int) -> int:
    """The input-rate sample index of out-rate index i_out."""
    return int(round(i_out * sr / out_sr))


# The order stems are analysed in: each source is followed by its sub-bands, so
# it can be released as soon as they are made; the pitched stems come last.
ORDER = ("mix", "drums", "drums_low", "drums_mid", "drums_high",
         "other", "other_mid", "other_high", "bass", "vocals")


def stem_channels_in_turn(audio: dict[str, np.ndarray], mags: dict[str, np.ndarray], *, sr: int,
                          fps: float, mix_peak: float, bpm: float, step=None,
                          keep: tuple[str, ...] = ("bass", "vocals", "other")
                          ) -> dict[str, dict[str, np.ndarray]]:
    """Every stem's channels (features.stem_channels), keyed in ALL_STEMS order.

    audio: the source stems and "mix"; mags: spectra already made (the mix's,
    for the beat tracker), used instead of recomputed. Both are consumed: on
    return `audio` holds only the stems named in `keep` (the pitch stage's)
    and `mags` is empty. step.step() after each stem."""
    assert sorted(ORDER) == sorted(ALL_STEMS)
    channels: dict[str, dict[str, np.ndarray]] = {}
    pending: dict[str, object] = {}            # sub-band name -> its generator's next value
    for name in ORDER:
        if name in crossover.SUB_BANDS or name == "mix":
            y = audio[name] if name in keep else audio.pop(name)
            if name in crossover.SUB_BANDS:    # its bands, made one at a time after it
                names, cutoffs = crossover.SUB_BANDS[name]
                pending.update(dict.fromkeys(names, _bands_in_turn(y, sr=sr, cutoffs=cutoffs)))
        elif name in pending:
            bands = pending.pop(name)
            y = next(bands)
            if bands not in pending.values():
                bands.close()                  # the last band is out: free the frame holding it
            del bands
        else:
            y = audio[name] if name in keep else audio.pop(name)
        channels[name] = features.stem_channels(y, sr=sr, stem=name, mix_peak=mix_peak, bpm=bpm,
                                                fps=fps, magnitude=mags.pop(name, None))
        del y
        if step is not None:
            step.step()
    return {name: channels[name] for name in ALL_STEMS}


def _bands_in_turn(y: np.ndarray, *, sr: int, cutoffs: tuple[float, ...]):
    """crossover.split_bands(y), one band per next(): low to high, holding at most
    the remainder and one band (the bands sum to y, as there)."""
    rest = np.asarray(y, dtype=np.float32)
    del y
    for c in sorted(cutoffs):
        low = crossover.lr4_lowpass(rest, sr=sr, cutoff=min(c, 0.45 * sr))
        rest = rest - low
        yield low
        del low
    yield rest


# PESTO's CQT and its copies over a whole stem cost ~0.06 GB per minute of
# audio (3.6 GB for an hour); in blocks of five minutes they cost 0.3 GB.
PITCH_BLOCK_FRAMES = 15000     # 5 min at 50 fps
PITCH_MARGIN_FRAMES = 100      # 2 s either side: longer than the CQT's lowest window


def pitch_in_blocks(run, y: np.ndarray, *, sr: int, n_frames: int, fps: float,
                    frames: np.ndarray | None = None, y_confidence: np.ndarray | None = None,
                    **kw) -> tuple[np.ndarray, np.ndarray]:
    """run(y, sr=, n_frames=, fps=, frames=, y_confidence=, **kw) -> (hz, conf), each
    (n_frames,), computed on blocks of PITCH_BLOCK_FRAMES grid frames with
    PITCH_MARGIN_FRAMES of context; frame k is at sample k * sr / fps."""
    if n_frames <= PITCH_BLOCK_FRAMES + 2 * PITCH_MARGIN_FRAMES:
        return run(y, sr=sr, n_frames=n_frames, fps=fps, frames=frames,
                   y_confidence=y_confidence, **kw)
    hop = int(round(sr / fps))
    hz = np.full(n_frames, np.nan, np.float32)
    conf = np.zeros(n_frames, np.float32)
    for start in range(0, n_frames, PITCH_BLOCK_FRAMES):
        lo = max(0, start - PITCH_MARGIN_FRAMES)
        hi = min(n_frames, start + PITCH_BLOCK_FRAMES + PITCH_MARGIN_FRAMES)
        seg = slice(lo * hop, hi * hop if hi < n_frames else None)
        todo = None if frames is None else np.asarray(frames)[(frames >= lo) & (frames < hi)] - lo
        h, c = run(y[seg], sr=sr, n_frames=hi - lo, fps=fps, frames=todo,
                   y_confidence=None if y_confidence is None else y_confidence[seg], **kw)
        keep = min(PITCH_BLOCK_FRAMES, n_frames - start)
        hz[start:start + keep] = h[start - lo:start - lo + keep]
        conf[start:start + keep] = c[start - lo:start - lo + keep]
    return hz, conf


TENSION_BLOCK_FRAMES = 15000   # 5 min at 50 fps; tonal.tension's spectra of an hour take ~1 GB
TENSION_MARGIN_FRAMES = 50     # 1 s either side: beyond its 0.25 s smoothing and 186 ms window


def tension_in_blocks(y: np.ndarray, active: np.ndarray, *, sr: int, hop: int, fps: float,
                      block: int = TENSION_BLOCK_FRAMES, margin: int = TENSION_MARGIN_FRAMES
                      ) -> np.ndarray:
    """tonal.tension(y, active) on blocks of frames with context: (n_frames,) float32.
    Block edges are even frames, so its 25 fps analysis grid falls where it would."""
    from .tonal import TENSION_STEP, tension
    n = len(active)
    if n <= block + 2 * margin:
        return tension(y, active, sr=sr, hop=hop, fps=fps)
    margin = -(-margin // TENSION_STEP) * TENSION_STEP
    block = -(-block // TENSION_STEP) * TENSION_STEP
    out = np.empty(n, np.float32)
    for start in range(0, n, block):
        lo, hi = max(0, start - margin), min(n, start + block + margin)
        seg = y[lo * hop:hi * hop if hi < n else None]
        part = tension(seg, active[lo:hi], sr=sr, hop=hop, fps=fps)
        keep = min(block, n - start)
        out[start:start + keep] = part[start - lo:start - lo + keep]
    return out

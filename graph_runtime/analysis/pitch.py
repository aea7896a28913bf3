"""Pitch of the melodic stems: PESTO for vocals, bass (and other, as fallback).

PESTO (Sony CSL; weights ship in its wheel) reads a constant-Q spectrum and is
monophonic. Its step size is in milliseconds and its frame i is centred on
i * step, so a 20 ms step lands on our 50 fps grid when the hop in samples
is a whole number (16000 Hz * 20 ms = 320).

Three things make it fit music rather than a solo singer:

- Bass is analysed two octaves up: the audio is declared to PESTO at 4x its
  rate (time runs 4x faster, every frequency reads 4x higher, the hop in
  samples is unchanged). PESTO was trained on singing; below ~80 Hz it
  reports the 2nd or 3rd harmonic of a bass note instead of the note.
- Sung and bowed notes ring on (release, reverb) into the next note, and the
  next note's attack is slow, so PESTO stays on the old note. Partials that
  are decaying are attenuated before PESTO sees them (suppress_decays), and
  the result is read 40 ms ahead: the pitch changes where the note starts.
- The network runs on every other frame (25 per second, held in between;
  bass lines move slower: every third frame) and only where the stem sounds
  and PESTO's cheap voicing classifier does not rule the frame out; the
  other frames are unvoiced anyway. Of those it runs every 4th (bass: 3rd)
  first, then, level by level, the frame halfway between two neighbours
  whose pitches differ by more than REFINE_CENTS: a held note costs a few
  frames, every note change is still found to the frame step.

Cost: the encoder is evaluated with FFT convolutions (pesto_fast.py, ~0.3 ms
a frame on one core instead of ~2 ms), in small batches under
torch.inference_mode, on one thread when the machine's other processes
already keep its cores busy (torch_threads). The CQT runs once per audio
signal; the decay suppression is a blockwise float32 STFT.

Output per stem on the 50 fps grid: pitch_hz (0 where unvoiced),
pitch_confidence [0, 1], pitch_normalized [0, 1] (log over the stem's range,
holding the last voiced value). Voiced = confidence >= CONFIDENCE_GATE and
the stem active.
"""
from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.ndimage

PESTO_CHECKPOINT = "mir-1k_g7"
PESTO_SR = 16000               # Hz: the rate PESTO was trained at (its voicing classifier needs it)
CONFIDENCE_GATE = 0.5
SKIP_BELOW = 0.25              # frames whose (dilated) confidence is below this skip the network
_ENCODER_BATCH = 512           # frames per network call


@dataclass(frozen=True)
class PitchSetting:
    transpose: float = 1.0          # analysed this many times higher (declared rate x transpose)
    suppress_decays: bool = True    # attenuate ringing partials first
    lookahead_frames: int = 2       # read the track this many frames ahead (40 ms at 50 fps)
    frame_step: int = 2             # run the network on every n-th grid frame ...
    coarse: int = 4                 # ... first on every coarse-th of those, then where notes change


SETTINGS = {
    "vocals": PitchSetting(),
    "bass": PitchSetting(transpose=4.0, suppress_decays=False, lookahead_frames=0, frame_step=3,
                         coarse=3),
    "other": PitchSetting(),
}
# pitch_normalized: log map of (lo, hi) Hz -> (0, 1) per stem
RANGES = {"vocals": (80.0, 1200.0), "bass": (30.0, 400.0), "other": (60.0, 2000.0),
          "other_mid": (60.0, 2000.0), "mix": (60.0, 2000.0)}


# -- preprocessing ---------------------------------------------------------------
_SUPPRESS_BLOCK = 1024        # STFT frames per block (bounds memory; the peaks carry over)


def suppress_decays(y: np.ndarray, *, sr: int, alpha: float = 4.0,
                    release_db_per_s: float = 10.0, frame_s: float = 0.096,
                    hop_s: float = 0.012) -> np.ndarray:
    """Attenuate partials that are decaying: y (n,) -> (n,) float32.

    Each bin keeps a peak that falls at release_db_per_s; the bin's gain is
    (magnitude / peak) ** alpha, so steady and rising partials pass and a
    ringing tail 6 dB under its peak is cut by 6 * alpha dB.

    A Hann STFT (frames centred on k * hop, zero-padded ends) and its
    weighted overlap-add inverse, as scipy.signal.stft/istft compute them,
    run block by block in float32: the peaks carry from block to block, the
    temporaries stay a few MB however long the track."""
    from .spectral import _overlap_add
    y = np.asarray(y, np.float32)
    n = len(y)
    if n < 16:
        return y.copy()
    n_fft = int(2 ** math.ceil(math.log2(frame_s * sr)))
    hop = max(1, int(hop_s * sr))
    half = n_fft // 2
    extra = (-n) % hop                                   # whole frames, as stft(padded=True)
    padded = np.concatenate([np.zeros(half, np.float32), y, np.zeros(half + extra, np.float32)])
    n_frames = (len(padded) - n_fft) // hop + 1
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(n_frames, n_fft), strides=(padded.strides[0] * hop, padded.strides[0]),
        writeable=False)
    win = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    fall = np.float32(10.0 ** (-release_db_per_s * hop / sr / 20.0))
    out = np.zeros(len(padded), np.float32)
    norm = np.zeros(len(padded), np.float32)
    peak = None
    whole = alpha == 4.0
    for b0 in range(0, n_frames, _SUPPRESS_BLOCK):
        spec = scipy.fft.rfft(frames[b0:b0 + _SUPPRESS_BLOCK] * win, axis=1, workers=1)
        mag = np.abs(spec)
        held = np.empty_like(mag)
        if peak is None:
            peak = mag[0].copy()
        for t in range(len(mag)):  # a frame loop over whole spectra: faster than log-domain cummax
            np.maximum(peak * fall, mag[t], out=peak)
            held[t] = peak
        ratio = mag / np.maximum(held, np.float32(1e-12))
        if whole:
            ratio *= ratio
            ratio *= ratio                               # ** 4 without pow
        else:
            ratio **= np.float32(alpha)
        spec *= ratio
        block = scipy.fft.irfft(spec, n=n_fft, axis=1, workers=1) * win
        _overlap_add(out, block, b0 * hop, hop)
    _overlap_add(norm, np.broadcast_to(win * win, (n_frames, n_fft)), 0, hop)
    out = np.where(norm > 1e-10, out / np.maximum(norm, 1e-10), out)[half:half + n]
    return out.astype(np.float32)


# -- PESTO -------------------------------------------------------------------------
_MODELS: dict = {}


@contextlib.contextmanager
def torch_threads():
    """Run the networks on a thread count the machine has room for, then restore it.

    torch starts one thread per core. When the other processes already keep
    the cores busy (1-minute load average within half a core of the core
    count, this process included), a second thread only waits its turn and
    adds synchronisation: one thread then costs less CPU and as much wall
    time. The batches are large, so on an idle machine every core helps."""
    import torch
    before = torch.get_num_threads()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = 0.0
    cores = os.cpu_count() or 1
    wanted = 1 if load >= cores - 0.5 else before
    if wanted != before:
        torch.set_num_threads(wanted)
    try:
        yield wanted
    finally:
        if wanted != before:
            torch.set_num_threads(before)


def _safe_globals() -> list:
    """Plain-data classes the bundled checkpoint's hyper-parameters pickle as."""
    found: list = []
    try:
        from omegaconf.base import ContainerMetadata, Metadata
        from omegaconf.dictconfig import DictConfig
        from omegaconf.listconfig import ListConfig
        from omegaconf.nodes import AnyNode
        found += [ListConfig, DictConfig, ContainerMetadata, Metadata, AnyNode]
    except ImportError:
        pass
    import collections
    import typing
    return found + [typing.Any, list, dict, int, collections.defaultdict]


def load_pesto(*, declared_sr: int, step_ms: float):
    """PESTO built from its bundled checkpoint, loaded with weights_only=True.

    Cached per (declared_sr, step_ms); returns (model, encoder), the encoder
    evaluated by FFT convolutions (pesto_fast.py) when it checks out equal
    to PESTO's own, else PESTO's own."""
    key = (int(declared_sr), float(step_ms))
    if key in _MODELS:
        return _MODELS[key]
    import pesto
    import torch
    from pesto.data import Preprocessor
    from pesto.model import PESTO, Resnet1d

    path = os.path.join(os.path.dirname(pesto.__file__), "weights", PESTO_CHECKPOINT + ".ckpt")
    with torch.serialization.safe_globals(_safe_globals()):
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    hparams, hcqt = ckpt["hparams"], dict(ckpt["hcqt_params"])
    pre = Preprocessor(hop_size=step_ms, sampling_rate=declared_sr, **hcqt)
    model = PESTO(Resnet1d(**hparams["encoder"]), preprocessor=pre,
                  crop_kwargs=hparams["pitch_shift"], reduction=hparams["reduction"])
    missing = model.load_state_dict(ckpt["state_dict"], strict=False).missing_keys
    if any("cqt_kernels" not in k for k in missing):  # CQT kernels are rebuilt, not stored
        raise RuntimeError(f"PESTO checkpoint is missing weights: {missing}")
    model.eval()
    if "encoder" not in _MODELS:  # the same weights for every key: build and check it once
        from . import pesto_fast
        _MODELS["encoder"] = pesto_fast.build(model.encoder) or model.encoder
        _MODELS["encoder_of"] = model.encoder
    encoder = _MODELS["encoder"] if _MODELS["encoder"] is not _MODELS["encoder_of"] else model.encoder
    _MODELS[key] = (model, encoder)
    return _MODELS[key]


def pesto_pitch(y: np.ndarray, *, sr: int, n_frames: int, fps: float = 50.0,
                transpose: float = 1.0, frames: np.ndarray | None = None,
                y_confidence: np.ndarray | None = None, coarse: int = 1,
                ) -> tuple[np.ndarray, np.ndarray]:
    """(hz, confidence), each (n_frames,), for mono y at sr Hz.

    Runs PESTO's network only on `frames` (indices on the grid; all if None),
    and with coarse > 1 only on every coarse-th of them at first, then
    between neighbours that disagree (refine_frames); hz is NaN on frames
    not run. Confidence (PESTO's voicing classifier) is computed for every
    frame, from y_confidence when given (the audio before any
    preprocessing: the classifier was trained on natural spectra)."""
    import torch
    from pesto.utils import reduce_activations

    declared = int(round(sr * transpose))
    step_ms = 1000.0 / fps / transpose
    if abs(sr / fps - round(sr / fps)) > 1e-9:
        raise ValueError(f"PESTO hop must be whole samples: sr {sr} at {fps} fps")
    model, encoder = load_pesto(declared_sr=declared, step_ms=step_ms)
    hz = np.full(n_frames, np.nan, np.float32)
    conf = np.zeros(n_frames, np.float32)
    if len(y) == 0:
        return hz, conf
    y = _pad_short(y, sr)
    if y_confidence is not None:
        y_confidence = _pad_short(y_confidence, sr)
    with torch.inference_mode(), torch_threads():
        x = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))
        log_power = _log_power(model, x, declared)
        m = min(n_frames, log_power.shape[0])
        if y_confidence is not None:
            natural = torch.from_numpy(np.ascontiguousarray(y_confidence, dtype=np.float32))
            conf_power = _log_power(model, natural, declared)[:m]
        else:
            conf_power = log_power[:m]
        conf[:m] = model.confidence(conf_power.exp().squeeze(1)).numpy()
        cropped = model.crop_cqt(log_power[:m])
        todo = np.arange(m) if frames is None else np.asarray(frames)[np.asarray(frames) < m]
        # unvoiced frames are gated out later: do not pay the network for them
        near = scipy.ndimage.maximum_filter1d(conf[:m], size=5) if m else conf[:m]
        todo = todo[near[todo] >= SKIP_BELOW]
        shift = round(float(model.shift) * model.bins_per_semitone)

        def run(frames_now: np.ndarray) -> None:
            for start in range(0, len(frames_now), _ENCODER_BATCH):
                idx = frames_now[start:start + _ENCODER_BATCH]
                act = encoder(cropped[torch.from_numpy(idx)]).roll(-shift, -1)
                semis = reduce_activations(act, reduction=model.reduction).numpy()
                hz[idx] = 440.0 * 2.0 ** ((semis - 69.0) / 12.0) / transpose

        done = np.zeros(len(todo), bool)
        batch = first_pass(len(todo), coarse)
        while len(batch):
            run(todo[batch])
            done[batch] = True
            batch = refine_frames(todo, done, hz)
    return hz, conf


REFINE_CENTS = 12.0   # neighbours further apart than this get the frame between them run


def first_pass(n: int, coarse: int) -> np.ndarray:
    """Positions (into a list of n candidate frames) run first: every coarse-th and the last."""
    if n == 0:
        return np.zeros(0, np.int64)
    pos = np.arange(0, n, max(1, coarse))
    return pos if pos[-1] == n - 1 else np.append(pos, n - 1)


def refine_frames(todo: np.ndarray, done: np.ndarray, hz: np.ndarray,
                  *, cents: float = REFINE_CENTS) -> np.ndarray:
    """Positions to run next: the middle candidate between two neighbouring run
    frames whose pitches differ by more than `cents` (a note changes in
    between). Where they agree, the frames between hold their value, which
    is what the fine grid would have said on a held note."""
    pos = np.flatnonzero(done)
    if len(pos) < 2:
        return np.zeros(0, np.int64)
    a, b = pos[:-1], pos[1:]
    gap = b - a > 1
    ha, hb = hz[todo[a]], hz[todo[b]]
    with np.errstate(divide="ignore", invalid="ignore"):
        apart = ~(np.abs(1200.0 * np.log2(ha / hb)) <= cents)   # NaN (not voiced) counts as apart
    need = gap & apart
    return ((a[need] + b[need]) // 2).astype(np.int64)


def _pad_short(y: np.ndarray, sr: int, seconds: float = 4.0) -> np.ndarray:
    """Zero-pad the end of clips shorter than the CQT's longest kernel needs."""
    need = int(seconds * sr)
    return y if len(y) >= need else np.pad(np.asarray(y, np.float32), (0, need - len(y)))


def _log_power(model, x, declared_sr: int):
    """PESTO's CQT as natural-log power: (n_frames, 1, n_bins). Its forward
    scales the dB CQT by ln(10)/10 before both the classifier and the encoder."""
    return model.preprocessor(x, sr=declared_sr).flatten(0, 1) * (math.log(10.0) / 10.0)


# -- per stem ----------------------------------------------------------------------
def frames_to_run(active: np.ndarray, *, step: int = 1, margin: int = 5) -> np.ndarray:
    """Grid frames worth running: active ones (dilated by margin), every step-th."""
    if len(active) == 0:
        return np.zeros(0, np.int64)
    near = np.convolve(active.astype(np.float32), np.ones(2 * margin + 1), mode="same") > 0
    idx = np.flatnonzero(near)
    return idx[idx % step == 0] if step > 1 else idx


def fill_gaps(hz: np.ndarray) -> np.ndarray:
    """Replace NaN frames by the nearest computed one (holds across frame steps)."""
    ok = np.flatnonzero(np.isfinite(hz))
    if len(ok) == 0:
        return np.zeros_like(hz)
    nearest = np.clip(np.searchsorted(ok, np.arange(len(hz))), 0, len(ok) - 1)
    left = np.clip(nearest - 1, 0, len(ok) - 1)
    pick = np.where(np.abs(ok[left] - np.arange(len(hz))) < np.abs(ok[nearest] - np.arange(len(hz))),
                    ok[left], ok[nearest])
    return hz[pick]


def shift_earlier(x: np.ndarray, frames: int) -> np.ndarray:
    """x read `frames` ahead: out[i] = x[i + frames], the last value held."""
    if frames <= 0 or len(x) == 0:
        return x
    return np.concatenate([x[frames:], np.repeat(x[-1:], min(frames, len(x)))])[: len(x)]


def track_stem(y: np.ndarray, *, sr: int, stem: str, active: np.ndarray,
               fps: float = 50.0) -> tuple[np.ndarray, np.ndarray]:
    """(raw hz, confidence) for one stem, (n_frames,) each; hz ungated, 0 where not run."""
    setting = SETTINGS.get(stem, PitchSetting())
    n = len(active)
    if not active.any():
        return np.zeros(n, np.float32), np.zeros(n, np.float32)
    work_sr = int(PESTO_SR / setting.transpose)
    natural = _resample(y, sr, work_sr)
    audio = suppress_decays(natural, sr=work_sr) if setting.suppress_decays else natural
    frames = frames_to_run(active, step=setting.frame_step)
    from .stream import pitch_in_blocks  # an hour in 5-minute blocks: bounded memory
    hz, conf = pitch_in_blocks(pesto_pitch, audio, sr=work_sr, n_frames=n, fps=fps,
                               transpose=setting.transpose, frames=frames,
                               y_confidence=natural if audio is not natural else None,
                               coarse=setting.coarse)
    hz = fill_gaps(hz)
    hz = shift_earlier(hz, setting.lookahead_frames)
    conf = shift_earlier(conf, setting.lookahead_frames)
    return hz.astype(np.float32), conf.astype(np.float32)


def _resample(y: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    from .decode import resample
    return resample(y, sr_in, sr_out)


def gate(hz: np.ndarray, confidence: np.ndarray, active: np.ndarray,
         *, threshold: float = CONFIDENCE_GATE) -> np.ndarray:
    """pitch_hz: hz where confident and active, else 0, (n_frames,) float32."""
    voiced = (confidence >= threshold) & active.astype(bool) & np.isfinite(hz) & (hz > 0)
    return np.where(voiced, hz, 0.0).astype(np.float32)


def normalized(pitch_hz: np.ndarray, *, lo_hz: float, hi_hz: float) -> np.ndarray:
    """Log map lo..hi Hz -> 0..1, holding the last voiced value (0 before the first)."""
    voiced = pitch_hz > 0
    value = np.zeros(len(pitch_hz), np.float32)
    value[voiced] = np.clip(np.log(pitch_hz[voiced] / lo_hz) / np.log(hi_hz / lo_hz), 0.0, 1.0)
    last = np.maximum.accumulate(np.where(voiced, np.arange(len(value)), -1))
    return np.where(last >= 0, value[np.maximum(last, 0)], 0.0).astype(np.float32)

"""Demucs htdemucs_ft separation from weights already on disk (never downloaded).

htdemucs_ft is a bag of four Hybrid Transformer Demucs models, one per
source (the bag's weights pick drums from model 0, bass from model 1, ...).
Where the weights may be, in the order searched:

1. a folder the user gives (--demucs-weights DIR),
2. the Hugging Face cache (adefossez/HTDemucs-ft: htdemucs_ft.yaml and
   <signature>.safetensors),
3. the torch hub cache, where demucs' legacy download puts
   <signature>-<sha256 prefix>.th files.

A folder may hold either format: the bag's yaml (the one shipped inside the
demucs package is used when absent) and one file per signature. Nothing is
unpickled: .th files load with torch.load(weights_only=True) allowing only
the demucs model classes and Fraction; safetensors name their model class
in metadata, which must be one of the demucs model classes.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
from dataclasses import dataclass

import numpy as np

from .decode import resample
from .errors import AnalysisError
from .spectral import ANALYSIS_SR

MODEL_NAME = "htdemucs_ft"
HF_REPO_DIR = "models--adefossez--HTDemucs-ft"
ALLOWED_CLASSES = ("demucs.htdemucs.HTDemucs", "demucs.hdemucs.HDemucs", "demucs.demucs.Demucs")
# Architecture of each htdemucs_ft model (demucs' training grid mmi.py: the
# bottom_channels=0, t_layers=5 run, fine-tuned per source). Real weights carry
# their own arguments; these only build same-shaped models with random weights.
HTDEMUCS_FT_KWARGS = {
    "sources": ["drums", "bass", "other", "vocals"], "audio_channels": 2,
    "samplerate": 44100, "channels": 48, "depth": 4, "dconv_mode": 3,
    "t_layers": 5, "t_dropout": 0.02, "bottom_channels": 0,
}
HTDEMUCS_FT_SEGMENT = (39, 5)   # 7.8 s, as a Fraction (numerator, denominator)


@dataclass(frozen=True)
class WeightsLocation:
    folder: str
    signatures: tuple[str, ...]
    files: tuple[str, ...]       # one per signature (.th or .safetensors)
    weights: tuple | None        # the bag's per-source weights, from its yaml

    def identity(self) -> str:
        """Names and sizes of the weight files: part of the cache key."""
        parts = [f"{os.path.basename(f)}:{os.path.getsize(f)}" for f in self.files]
        return "|".join(parts)


# -- finding weights ------------------------------------------------------------------
def _bag_spec(folder: str | None) -> tuple[list[str], list | None]:
    import yaml
    path = os.path.join(folder, MODEL_NAME + ".yaml") if folder else ""
    if not (folder and os.path.isfile(path)):
        import demucs
        path = os.path.join(os.path.dirname(demucs.__file__), "remote", MODEL_NAME + ".yaml")
    with open(path) as f:
        bag = yaml.safe_load(f)
    return [str(s) for s in bag["models"]], bag.get("weights")


def _file_for(folder: str, sig: str) -> str | None:
    for pattern in (f"{sig}.safetensors", f"{sig}.th", f"{sig}-*.th"):
        hits = sorted(glob.glob(os.path.join(glob.escape(folder), pattern)))
        if hits:
            return hits[0]
    return None


def location_in(folder: str) -> WeightsLocation | None:
    """The bag in `folder`, or None if any signature's file is missing."""
    sigs, weights = _bag_spec(folder)
    files = [_file_for(folder, s) for s in sigs]
    if any(f is None for f in files):
        return None
    return WeightsLocation(folder, tuple(sigs), tuple(files),
                           tuple(map(tuple, weights)) if weights else None)


def _cache_folders() -> list[str]:
    hub = os.environ.get("HF_HUB_CACHE") or os.path.join(
        os.environ.get("HF_HOME", os.path.expanduser("~/.cache/huggingface")), "hub")
    folders = sorted(glob.glob(os.path.join(glob.escape(hub), HF_REPO_DIR, "snapshots", "*")))
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch")
    folders.append(os.path.join(torch_home, "hub", "checkpoints"))
    return [f for f in folders if os.path.isdir(f)]


def find_weights(weights_dir=None) -> WeightsLocation | None:
    """Where htdemucs_ft's weights are; AnalysisError if a given folder lacks them."""
    if weights_dir is not None:
        folder = os.fspath(weights_dir)
        if not os.path.isdir(folder):
            raise AnalysisError(folder, "is not a folder of Demucs weights",
                                f"give the folder holding {MODEL_NAME}.yaml and its model files")
        found = location_in(folder)
        if found is None:
            sigs, _ = _bag_spec(folder)
            missing = [s for s in sigs if _file_for(folder, s) is None]
            raise AnalysisError(folder, f"lacks {MODEL_NAME} model files for {', '.join(missing)}",
                                "put <signature>.safetensors or <signature>-<hash>.th files there")
        return found
    for folder in _cache_folders():
        found = location_in(folder)
        if found is not None:
            return found
    return None


# -- loading ---------------------------------------------------------------------------
def _allowed_class(name: str):
    if name not in ALLOWED_CLASSES:
        raise ValueError(f"model class {name!r} is not a demucs model")
    import importlib
    module, cls = name.rsplit(".", 1)
    return getattr(importlib.import_module(module), cls)


def _decode(value):
    """JSON args of the HF export: fractions come as {"_type": "fraction", ...}."""
    from fractions import Fraction
    if isinstance(value, dict):
        if value.get("_type") == "fraction":
            return Fraction(value["numerator"], value["denominator"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _load_safetensors(path: str):
    from safetensors import safe_open
    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
        state = {k: f.get_tensor(k) for k in f.keys()}
    if "structure" in meta:
        raise ValueError("quantized (diffq) Demucs models are not supported")
    klass = _allowed_class(meta["klass"])
    args = _decode(json.loads(meta.get("args", "[]")))
    kwargs = _decode(json.loads(meta.get("kwargs", "{}")))
    return klass, args, kwargs, state


def _load_th(path: str):
    from fractions import Fraction

    import torch
    from demucs.demucs import Demucs
    from demucs.hdemucs import HDemucs
    from demucs.htdemucs import HTDemucs
    _check_sha(path)
    with torch.serialization.safe_globals([HTDemucs, HDemucs, Demucs, Fraction]):
        pkg = torch.load(path, map_location="cpu", weights_only=True)
    klass = pkg["klass"]
    _allowed_class(f"{klass.__module__}.{klass.__name__}")
    if pkg["state"].get("__quantized"):
        raise ValueError("quantized (diffq) Demucs models are not supported")
    return klass, pkg["args"], pkg["kwargs"], pkg["state"]


def _check_sha(path: str) -> None:
    """<sig>-<sha256 prefix>.th files carry their checksum in the name."""
    stem = os.path.splitext(os.path.basename(path))[0]
    if "-" not in stem:
        return
    expected = stem.rsplit("-", 1)[1]
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            sha.update(chunk)
    if not sha.hexdigest().startswith(expected):
        raise ValueError(f"checksum mismatch (expected {expected}); the file is damaged")


def build_model(klass, args, kwargs, state):
    import inspect
    params = inspect.signature(klass).parameters
    model = klass(*args, **{k: v for k, v in kwargs.items() if k in params})
    model.load_state_dict({k: v.float() for k, v in state.items()})
    return model.eval()


def load_bag(location: WeightsLocation):
    """demucs BagOfModels from a WeightsLocation; AnalysisError names the bad file."""
    from demucs.apply import BagOfModels
    models = []
    for path in location.files:
        try:
            loader = _load_safetensors if path.endswith(".safetensors") else _load_th
            models.append(build_model(*loader(path)))
        except AnalysisError:
            raise
        except Exception as e:
            raise AnalysisError(path, f"is not a loadable Demucs model ({str(e).splitlines()[0]})",
                                "replace it, or use --separator approx") from None
    weights = [list(w) for w in location.weights] if location.weights else None
    return BagOfModels(models, weights)


# -- separating ------------------------------------------------------------------------
# One htdemucs_ft model on one CPU thread takes about 5 s per 7.8 s segment
# (measured on the random-weight full-size model; the segments overlap by a
# quarter), so the bag of four needs about 3.5 CPU-thread seconds per second of
# audio. On a CUDA GPU the same work takes seconds per track.
CPU_THREAD_SECONDS_PER_AUDIO_SECOND = 3.5
LONG_CPU_SEPARATION_S = 60.0    # estimates above this are said before starting
OVERLAP = 0.25


def cpu_estimate_s(audio_seconds: float, threads: int | None = None) -> float:
    """Expected wall seconds of htdemucs_ft on this CPU for a track of audio_seconds."""
    import torch
    threads = threads or torch.get_num_threads()
    return audio_seconds * CPU_THREAD_SECONDS_PER_AUDIO_SECOND / max(1, threads)


def chunk_total(bag, n_samples: int) -> int:
    """Model calls apply_model makes for n_samples at the bag's rate: models x segments."""
    total = 0
    for model in getattr(bag, "models", [bag]):
        segment = int(bag.samplerate * float(model.segment))
        stride = max(1, int((1 - OVERLAP) * segment))
        total += -(-n_samples // stride)
    return total


BLOCK_S = 120.0     # a long track is separated in blocks of this much audio ...
MARGIN_S = 10.0     # ... each with this much context either side (a segment is 7.8 s)


def separate(samples: np.ndarray, *, sr: int, bag, out_sr: int = ANALYSIS_SR,
             show_progress: bool = False, device=None, on_chunk=None,
             say=None) -> dict[str, np.ndarray]:
    """(channels, n) audio -> {drums, bass, other, vocals} mono float32 at out_sr.

    device: torch device for the models (default: CUDA when available, see
    device.py); the track stays in host memory, segments go to the device.
    A track longer than BLOCK_S is separated block by block (each block's
    centre kept, MARGIN_S of context either side, one level normalisation
    for the whole track), so memory follows the block, not the track (the
    four stereo outputs of an hour at 44.1 kHz would be 5 GB).
    on_chunk(done, total) is called after each model call on a segment.
    say(text) hears the time estimate before a long CPU separation.
    """
    import torch

    from .device import analysis_device
    device = torch.device(device) if device is not None else analysis_device()
    stereo = samples if samples.shape[0] == 2 else np.repeat(samples[:1], 2, axis=0)
    rate = bag.samplerate
    audio = torch.from_numpy(np.ascontiguousarray(resample(stereo, sr, rate)))
    n_out = int(round(samples.shape[1] * out_sr / sr))
    ref = audio.mean(0)
    scale = float(ref.std())
    if scale < 1e-8:  # silence: nothing to separate
        return {s: np.zeros(n_out, np.float32) for s in bag.sources}
    centre = float(ref.mean())
    del ref
    seconds = audio.shape[1] / rate
    if device.type == "cpu" and say is not None and cpu_estimate_s(seconds) > LONG_CPU_SEPARATION_S:
        say(f"Demucs {MODEL_NAME} on the CPU ({torch.get_num_threads()} threads): about "
            f"{cpu_estimate_s(seconds) / 60:.0f} min for this {seconds / 60:.1f} min track "
            "(an estimate; a CUDA GPU takes seconds)")
    spans = _blocks(audio.shape[1], int(BLOCK_S * rate), int(MARGIN_S * rate))
    hooks = _chunk_hooks(bag, sum(chunk_total(bag, hi - lo) for _, _, lo, hi in spans), on_chunk)
    out = {s: np.zeros(n_out, np.float32) for s in bag.sources}
    try:
        for a, b, lo, hi in spans:
            part = _separate_block(bag, audio[:, lo:hi], centre, scale, device, show_progress)
            a_out, b_out = _at(a, rate, out_sr), min(n_out, _at(b, rate, out_sr))
            skip = a_out - _at(lo, rate, out_sr)
            for i, name in enumerate(bag.sources):
                mono = resample(part[i], rate, out_sr)[skip:skip + b_out - a_out]
                out[name][a_out:a_out + len(mono)] = mono
    finally:
        for h in hooks:
            h.remove()
    return out


def _separate_block(bag, block, centre: float, scale: float, device, show_progress: bool):
    """(2, n) audio at the bag's rate -> (sources, n) mono float32, on `device`."""
    import torch
    from demucs.apply import apply_model
    with torch.inference_mode():
        out = apply_model(bag, ((block - centre) / scale)[None], shifts=0, split=True,
                          overlap=OVERLAP, progress=show_progress, device=device)[0]
    return (out * scale + centre).mean(dim=1).cpu().numpy()


def _blocks(n: int, block: int, margin: int) -> list[tuple[int, int, int, int]]:
    """(start, end, start with context, end with context) of each block; one if short."""
    if n <= block + margin:
        return [(0, n, 0, n)]
    return [(a, min(n, a + block), max(0, a - margin), min(n, a + block + margin))
            for a in range(0, n, block)]


def _at(i: int, rate: int, out_sr: int) -> int:
    return int(round(i * out_sr / rate))


def _chunk_hooks(bag, total: int, on_chunk) -> list:
    """Forward hooks counting each model call (one per segment) into on_chunk(done, total)."""
    if on_chunk is None:
        return []
    done = [0]

    def hook(module, args, out):
        done[0] += 1
        on_chunk(min(done[0], total), total)
    return [m.register_forward_hook(hook) for m in getattr(bag, "models", [bag])]

"""analyze(track) -> Analysis: every stage, once per track, cached.

Order: load -> stems (user / demucs / approx) -> the mix's spectrum -> beats ->
per-stem channels (sub-bands split there, one stem at a time: stream.py keeps
a 60-minute track within ~3 GB) -> pitch -> tonal -> coupling ->
classification -> cache.
Heavy libraries (torch, demucs, pesto, beat_this, onnxruntime) are imported
inside the stages that use them.
"""
from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass, field

import numpy as np

from . import basic_pitch_onnx, beat_this_runner, cache, demucs_separator, stems
from .beat_grid_correction import apply_saved
from .decode import TRACK_SR, check_path, decode_for_analysis, resample
from .errors import AnalysisError
from .stages import Progress, Stages
from .store import ALL_STEMS, CHANNELS, STEMS, Analysis, pair_key

# planning and cache hits import only the modules above (numpy, no scipy.signal,
# no torch): a cached track loads in ~0.1 s. The stages import the rest.

log = logging.getLogger("hambajuba.analysis")
SEPARATORS = ("auto", "demucs", "approx")
PITCHED = ("vocals", "bass", "other")


@dataclass
class Plan:
    """What will run, resolved before any audio is decoded (it keys the cache)."""
    separator: str                          # "user" | "demucs" | "approx"
    beat_tracker: str                       # "beat_this" | "fallback"
    pitch_tracker: dict[str, str]
    stems_dir: str | None = None
    user_stems: dict[str, str] = field(default_factory=dict)
    weights: demucs_separator.WeightsLocation | None = None
    beat_checkpoint: str | None = None
    warnings: list[str] = field(default_factory=list)

    def settings(self) -> dict:
        """Everything besides the audio that changes the result."""
        return {
            "separator": self.separator,
            "stems": {s: cache.file_hash(p) for s, p in sorted(self.user_stems.items())},
            "demucs": self.weights.identity() if self.weights else None,
            "beat_tracker": self.beat_tracker,
            "beat_checkpoint": _file_identity(self.beat_checkpoint),
            "pitch_tracker": self.pitch_tracker,
        }


def _file_identity(path: str | None) -> str | None:
    if not path:
        return None
    st = os.stat(path)
    return f"{os.path.abspath(path)}:{st.st_size}:{int(st.st_mtime)}"


def plan_for(path: str, *, stems_dir=None, separator: str = "auto", demucs_weights=None,
             beat_checkpoint=None) -> Plan:
    if separator not in SEPARATORS:
        raise AnalysisError(path, f"unknown separator {separator!r}",
                            f"use one of {', '.join(SEPARATORS)}")
    trackers = {"vocals": "pesto", "bass": "pesto",
                "other": "basic_pitch" if basic_pitch_onnx.available() else "pesto"}
    ckpt = beat_this_runner.find_checkpoint(beat_checkpoint)
    plan = Plan(separator="approx", beat_tracker="beat_this" if ckpt else "fallback",
                pitch_tracker=trackers, beat_checkpoint=ckpt)
    if stems_dir is not None:
        if separator != "auto":
            raise AnalysisError(stems_dir, f"--stems and --separator {separator} both given",
                                "use one: given stems are never separated again")
        plan.separator, plan.stems_dir = "user", os.fspath(stems_dir)
        plan.user_stems = stems.find_user_stems(stems_dir)
        return plan
    if separator in ("auto", "demucs"):
        plan.weights = demucs_separator.find_weights(demucs_weights)
        if plan.weights is not None:
            plan.separator = "demucs"
        elif separator == "demucs":
            raise AnalysisError(path, "no htdemucs_ft weights found (Hugging Face or torch hub "
                                "cache)", "pass --demucs-weights DIR, or use --separator approx")
    if plan.separator == "approx":
        plan.warnings.append(stems.APPROX_WARNING)
    return plan


def analyze(path, *, stems_dir=None, separator: str = "auto", demucs_weights=None,
            beat_checkpoint=None, progress: Progress | None = None, use_cache: bool = True,
            cache_dir: str | None = None) -> Analysis:
    """Analyse a track (cached). Raises AnalysisError with a one-line message."""
    path = check_path(path)
    plan = plan_for(path, stems_dir=stems_dir, separator=separator,
                    demucs_weights=demucs_weights, beat_checkpoint=beat_checkpoint)
    key = cache.cache_key(cache.file_hash(path), plan.settings())
    where = cache.cache_path(path, key, cache_dir)
    if use_cache:
        found = cache.lookup(where, key)
        if found is not None:
            found.meta.update(cache_path=where, cache_hit=True)
            return apply_saved(path, found, folder=cache_dir)  # the user's grid correction wins
    for w in plan.warnings:
        log.warning(w)
    run = Stages(progress)
    analysis = run_plan(path, plan, run)
    analysis.meta.update(cache_key=key, timings=dict(run.timings), cpu_timings=dict(run.cpu_timings))
    if use_cache:
        with run.stage("cache"):
            cache.store(analysis, where)
        analysis.meta.update(timings=dict(run.timings), cpu_timings=dict(run.cpu_timings))
    analysis.meta.update(cache_path=where if use_cache else None, cache_hit=False)
    return apply_saved(path, analysis, folder=cache_dir)


# -- the stages --------------------------------------------------------------------------
def run_plan(path: str, plan: Plan, run: Stages) -> Analysis:
    # the stage modules first: they load scipy's BLAS, which the limit must see
    from . import beats, classify, coupling, crossover, features, spectral, tonal  # noqa: F401
    with single_threaded_blas():
        return _run_plan(path, plan, run)


@contextlib.contextmanager
def single_threaded_blas():
    """numpy/scipy's BLAS on one thread while the analysis runs.

    Its matrix products here are small (filterbanks times spectrograms);
    a second OpenBLAS thread saves little and busy-waits between calls,
    which on a shared 2-core machine costs a third of the feature stage's
    CPU time and slows the neighbours. torch keeps its own threads
    (pitch.torch_threads). Without threadpoolctl nothing changes."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _run_plan(path: str, plan: Plan, run: Stages) -> Analysis:
    from . import beats, classify, coupling, features, spectral, stream, tonal
    from .framewise import framewise
    sr, fps = spectral.ANALYSIS_SR, spectral.FPS
    with run.stage("load"):
        # Demucs wants the full rate; every other path reads the track at the analysis
        # rate (half the memory: an hour of stereo at 44.1 kHz is 1.3 GB)
        track = decode_for_analysis(path, sr=TRACK_SR if plan.separator == "demucs" else sr)
        mix = resample(track.mono(), track.sr, sr)
    n_samples = len(mix)
    n = spectral.n_frames_for(n_samples)
    warnings = plan.warnings + track.warnings
    with run.stage("separate") as step:
        sources, more = _sources(track, plan, n_samples, step)
        warnings += more
    track.samples = np.zeros((track.samples.shape[0], 0), np.float32)  # later stages read
    # the stems and the mix only; a view would keep the decoded hour (1.3 GB) alive
    with run.stage("spectra"):  # the mix's, for the beats; each stem's is made in turn (stream.py)
        mags = {"mix": spectral.stft_magnitude(mix)}
    mix_rms = framewise(spectral.rms, mags["mix"])
    mix_peak = float(mix_rms.max(initial=0.0))
    mix_active = features.activity(mix_rms, mix_peak=mix_peak, fps=fps).astype(bool)
    with run.stage("beats"):
        chroma = tonal.chroma(mags["mix"], mix_active, sr=sr, n_fft=spectral.N_FFT)
        found_grid = _beats(plan, mags["mix"], mix, chroma, mix_active, fps)
        beat_s, down_s, bpm = found_grid.beats, found_grid.downbeats, found_grid.bpm
    audio = dict(sources, mix=mix)
    del sources, mix  # stream.py releases each stem (and spectrum) once nothing later reads it
    with run.stage("features", total=len(ALL_STEMS)) as step:  # sub-bands are split in here
        channels = stream.stem_channels_in_turn(audio, mags, sr=sr, fps=fps, mix_peak=mix_peak,
                                                bpm=bpm, step=step, keep=PITCHED)
    with run.stage("pitch", total=len(PITCHED)) as step:
        _pitch_all(audio, channels, plan, n, sr, fps, step)
    pitched = audio["bass"] + audio["vocals"] + audio["other"]  # the mix without drums
    del audio
    times = np.arange(n, dtype=np.float64) / fps
    data: dict[str, np.ndarray] = {}
    with run.stage("tonal"):
        for name, arr in beats.grid_channels(times, beat_s, down_s, fps=fps).items():
            data[f"global/{name}"] = arr
        data["global/downbeat_confidence"] = found_grid.confidence_channel(times)
        data["global/tension"] = stream.tension_in_blocks(pitched, mix_active, sr=sr,
                                                          hop=spectral.HOP, fps=fps)
        data["global/tonal_distance"] = tonal.tonal_distance(chroma, mix_active, fps=fps)
        for i in range(12):
            data[f"global/chroma_{i}"] = chroma[i]
    with run.stage("coupling", total=1):
        data.update(coupling.all_pairs({s: channels[s] for s in STEMS}, bpm=bpm, fps=fps,
                                       pair_key=pair_key))
    with run.stage("classify"):
        for name in ALL_STEMS:
            data[f"class/{name}"] = classify.classify(channels[name], fps=fps)
            for c in CHANNELS:
                data[f"{name}/{c}"] = _finite(channels[name][c], n)
    meta = {"source": os.path.abspath(path), "separator": plan.separator,
            "beat_tracker": plan.beat_tracker, "pitch_tracker": plan.pitch_tracker,
            "warnings": warnings, "duration": n_samples / sr,
            "source_sample_rate": track.source_sr, "source_channels": track.source_channels,
            "analysis_version": cache.ANALYSIS_VERSION}
    meta.update(found_grid.meta())  # tempo_candidates, bpm_range, beats_per_bar, ...
    return Analysis(fps=fps, times=times, data=data, bpm=float(bpm), beats=beat_s,
                    downbeats=down_s, meta=meta)


def _finite(x: np.ndarray, n: int) -> np.ndarray:
    """float32 (n,), NaN/inf replaced by 0 (a NaN never reaches the cache)."""
    x = np.nan_to_num(np.asarray(x, np.float32)[:n], nan=0.0, posinf=0.0, neginf=0.0)
    return x if len(x) == n else np.pad(x, (0, n - len(x)))


def _sources(track, plan: Plan, n_samples: int, step=None) -> tuple[dict[str, np.ndarray], list[str]]:
    from .spectral import ANALYSIS_SR as sr
    if plan.separator == "user":
        return stems.load_user_stems(plan.stems_dir, n_samples=n_samples, sr=sr)
    if plan.separator == "demucs":
        bag = demucs_separator.load_bag(plan.weights)
        out = demucs_separator.separate(track.samples, sr=track.sr, bag=bag,
                                        show_progress=log.isEnabledFor(logging.INFO),
                                        on_chunk=step.set if step is not None else None,
                                        say=log.warning)
    else:
        from .stream import separate_approx_blocks
        out = separate_approx_blocks(track.samples, sr=track.sr)  # bounded memory
    fitted = {s: stems._fit(out[s], n_samples) for s in stems.SOURCE_STEMS}
    return fitted, []


def _beats(plan: Plan, mix_mag, mix, chroma, mix_active, fps):
    from . import beat_grid, spectral
    if not mix_active.any():
        return beat_grid.GridEstimate.empty()
    if plan.beat_tracker == "beat_this":
        beat_s, down_s = beat_this_runner.track(mix, sr=spectral.ANALYSIS_SR,
                                                checkpoint=plan.beat_checkpoint)
        return beat_grid.check_grid(beat_s, down_s, mix_mag, sr=spectral.ANALYSIS_SR, fps=fps,
                                    chroma=chroma)
    return beat_grid.track_grid(mix_mag, sr=spectral.ANALYSIS_SR, fps=fps, chroma=chroma)


def _pitch_all(audio, channels, plan: Plan, n: int, sr: int, fps: float, step) -> None:
    from . import features, pitch
    raw: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in PITCHED:
        active = channels[name]["activity"] > 0.5
        if plan.pitch_tracker[name] == "basic_pitch":
            raw[name] = basic_pitch_onnx.track_stem(audio[name], sr=sr, active=active, fps=fps)
        else:
            raw[name] = pitch.track_stem(audio[name], sr=sr, stem=name, active=active, fps=fps)
        step.step()
    raw["other_mid"] = raw["other"]
    voiced_vocals = pitch.gate(*raw["vocals"], channels["vocals"]["activity"] > 0.5) > 0
    raw["mix"] = (np.where(voiced_vocals, raw["vocals"][0], raw["other"][0]),
                  np.where(voiced_vocals, raw["vocals"][1], raw["other"][1]))
    for name in ALL_STEMS:
        if name not in raw:
            channels[name].update(features.silent_pitch(n))
            continue
        hz, conf = raw[name]
        active = channels[name]["activity"] > 0.5
        gated = pitch.gate(hz, conf, active)
        lo, hi = pitch.RANGES[name]
        channels[name].update(pitch_hz=gated, pitch_confidence=np.where(active, conf, 0.0),
                              pitch_normalized=pitch.normalized(gated, lo_hz=lo, hi_hz=hi))

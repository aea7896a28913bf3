"""Loading paths of the optional models, on random weights in the real on-disk formats.

No weights can be downloaded here, so each format is written by the test the
way its tool writes it (demucs' legacy `<sig>-<sha256[:8]>.th` packages, the
Hugging Face safetensors export, a Beat This! Lightning checkpoint) and read
back through the analysis' own loaders.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
from fractions import Fraction

import numpy as np
import pytest
from analysis_helpers import click_track, write

from graph_runtime.analysis import AnalysisError, analyze, beat_this_runner, demucs_separator

torch = pytest.importorskip("torch")
SIGS = ("f7e0c4bc", "d12395a8", "92cfc3b6", "04573f0d")  # htdemucs_ft's bag


def save_th(model, folder, sig: str) -> str:
    """demucs' save_with_checksum format: torch.save of {klass, args, kwargs, state}."""
    args, kwargs = model._init_args_kwargs
    pkg = {"klass": type(model), "args": args, "kwargs": kwargs,
           "state": {k: v.half() for k, v in model.state_dict().items()},
           "training_args": {"dset": {"segment": 10}}}
    buf = io.BytesIO()
    torch.save(pkg, buf)
    digest = hashlib.sha256(buf.getvalue()).hexdigest()[:8]
    path = os.path.join(folder, f"{sig}-{digest}.th")
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    return path


def save_safetensors(model, folder, sig: str) -> str:
    """The Hugging Face export: tensors plus klass/args/kwargs as JSON metadata."""
    from safetensors.torch import save_file

    def enc(v):
        if isinstance(v, Fraction):
            return {"_type": "fraction", "numerator": v.numerator, "denominator": v.denominator}
        return v
    args, kwargs = model._init_args_kwargs
    meta = {"klass": f"{type(model).__module__}.{type(model).__name__}",
            "args": json.dumps([enc(a) for a in args]),
            "kwargs": json.dumps({k: enc(v) for k, v in kwargs.items()})}
    path = os.path.join(folder, f"{sig}.safetensors")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path, metadata=meta)
    return path


def write_bag_yaml(folder) -> None:
    with open(os.path.join(folder, "htdemucs_ft.yaml"), "w") as f:
        f.write(f"models: {list(SIGS)}\nweights: [[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]\n")


def test_htdemucs_ft_architecture_loads_from_th_files(tmp_path):
    """Four full-size models built from the htdemucs_ft config, random weights, .th format."""
    from demucs.htdemucs import HTDemucs
    torch.manual_seed(0)
    model = HTDemucs(segment=Fraction(*demucs_separator.HTDEMUCS_FT_SEGMENT),
                     **demucs_separator.HTDEMUCS_FT_KWARGS)
    first = save_th(model, tmp_path, SIGS[0])
    for sig in SIGS[1:]:  # same bytes, same checksum: link instead of writing 4 x 55 MB
        os.link(first, os.path.join(tmp_path, os.path.basename(first).replace(SIGS[0], sig)))
    found = demucs_separator.find_weights(tmp_path)  # no yaml: the bag shipped with demucs
    assert found is not None and found.signatures == SIGS
    bag = demucs_separator.load_bag(found)
    assert len(bag.models) == 4 and all(isinstance(m, HTDemucs) for m in bag.models)
    assert bag.sources == ["drums", "bass", "other", "vocals"] and bag.samplerate == 44100
    assert float(bag.models[0].segment) == pytest.approx(7.8)
    for loaded in bag.models:  # the random weights came back (half precision on disk)
        for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
            assert torch.allclose(a.half().float(), b), name
            break


def test_damaged_weights_are_named(tmp_path):
    from demucs.htdemucs import HTDemucs
    model = HTDemucs(sources=["drums", "bass", "other", "vocals"], channels=4, depth=2, nfft=512,
                     t_layers=1, t_heads=2, dconv_comp=2, segment=Fraction(2))
    path = save_th(model, tmp_path, SIGS[0])
    with open(path, "r+b") as f:
        f.seek(100)
        f.write(b"garbage")
    for sig in SIGS[1:]:
        os.link(path, os.path.join(tmp_path, os.path.basename(path).replace(SIGS[0], sig)))
    with pytest.raises(AnalysisError) as e:
        demucs_separator.load_bag(demucs_separator.find_weights(tmp_path))
    assert path in str(e.value) and "\n" not in str(e.value)


def test_demucs_separation_runs_through_analyze(tmp_path):
    """A tiny HTDemucs (same class, small config) in the safetensors format, end to end.
    Three layers, not two: the transformer between them then sees 16x fewer frequency
    tokens (its attention is 2.5 s of CPU a segment at depth 2, 0.4 s at depth 3)."""
    from demucs.htdemucs import HTDemucs
    torch.manual_seed(0)
    weights = tmp_path / "weights"
    weights.mkdir()
    model = HTDemucs(sources=["drums", "bass", "other", "vocals"], channels=4, depth=3, nfft=512,
                     t_layers=1, t_heads=2, dconv_comp=2, segment=Fraction(2))
    for sig in SIGS:
        save_safetensors(model, weights, sig)
    write_bag_yaml(weights)
    y, _ = click_track(120.0, 2.0, sr=44100)
    track = write(tmp_path / "clicks.wav", np.stack([y, y], axis=1), 44100)
    a = analyze(track, separator="demucs", demucs_weights=weights, use_cache=False)
    assert a.meta["separator"] == "demucs"
    for stem in ("drums", "bass", "vocals", "other", "drums_low"):
        assert np.all(np.isfinite(a.channel(f"{stem}/envelope")))


def test_asking_for_demucs_without_weights_says_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    track = write(tmp_path / "t.wav", np.zeros(44100, np.float32), 44100)
    with pytest.raises(AnalysisError) as e:
        analyze(track, separator="demucs")
    assert "--demucs-weights" in str(e.value)
    a = analyze(track, use_cache=False)  # auto: the approximation, named as such
    assert a.meta["separator"] == "approx"
    assert any("approximate separation" in w for w in a.meta["warnings"])


def _beat_this_checkpoint(path) -> str:
    from beat_this.model.beat_tracker import BeatThis
    torch.manual_seed(0)
    hp = dict(spect_dim=128, transformer_dim=32, ff_mult=2, n_layers=1, head_dim=16, stem_dim=16)
    model = BeatThis(**hp)
    torch.save({"hyper_parameters": hp,
                "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()}}, path)
    return str(path)


def test_beat_this_checkpoint_is_used_when_given(tmp_path):
    ckpt = _beat_this_checkpoint(tmp_path / "small.ckpt")
    y, _ = click_track(120.0, 4.0, sr=44100)
    a = analyze(write(tmp_path / "c.wav", y, 44100), beat_checkpoint=ckpt, use_cache=False)
    assert a.meta["beat_tracker"] == "beat_this"
    assert np.all(np.isfinite(a.beats)) and np.all(np.diff(a.beats) > 0)
    assert a.channel("global/beat").sum() == len(a.beats[a.beats * 50 < a.n_frames - 0.5])


def test_beat_this_checkpoint_is_found_in_the_torch_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert beat_this_runner.find_checkpoint() is None
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    ckpt = _beat_this_checkpoint(folder / "beat_this-final0.ckpt")
    assert beat_this_runner.find_checkpoint() == ckpt
    with pytest.raises(AnalysisError):
        beat_this_runner.find_checkpoint(tmp_path / "missing.ckpt")


def test_basic_pitch_is_optional(monkeypatch):
    from graph_runtime.analysis import basic_pitch_onnx, pipeline
    monkeypatch.setattr(basic_pitch_onnx, "model_path", lambda: None)
    assert not basic_pitch_onnx.available()
    plan = pipeline.plan_for(__file__)
    assert plan.pitch_tracker["other"] == "pesto"

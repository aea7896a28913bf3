"""Demucs and Beat This! run on CUDA when torch sees one.

No GPU here: availability is monkeypatched and the device each model is given
is recorded. Demucs still separates on the CPU underneath (the recorded call
goes on with device="cpu"), so the tiny model runs end to end, with its
per-segment progress and the estimate before a long CPU run.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from graph_runtime.analysis import beat_this_runner, demucs_separator
from graph_runtime.analysis.device import analysis_device

torch = pytest.importorskip("torch")


def tiny_bag():
    from demucs.apply import BagOfModels
    from demucs.htdemucs import HTDemucs
    torch.manual_seed(0)
    models = [HTDemucs(sources=["drums", "bass", "other", "vocals"], channels=4, depth=2, nfft=512,
                       t_layers=1, t_heads=2, dconv_comp=2, segment=Fraction(2),
                       samplerate=8000).eval()   # 8 kHz: a short attention, a fast test
              for _ in range(2)]
    return BagOfModels(models, [[1, 1, 0, 0], [0, 0, 1, 1]])


@pytest.fixture()
def demucs_devices(monkeypatch):
    """Record the device apply_model is asked for; run it on the CPU."""
    import demucs.apply
    real, seen = demucs.apply.apply_model, []

    def recording(model, mix, **kw):
        seen.append(torch.device(kw["device"]))
        return real(model, mix, **{**kw, "device": "cpu"})
    monkeypatch.setattr(demucs.apply, "apply_model", recording)
    return seen


@pytest.mark.parametrize("cuda", [True, False])
def test_device_follows_cuda_availability(monkeypatch, cuda):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert analysis_device().type == ("cuda" if cuda else "cpu")


@pytest.mark.parametrize("cuda", [True, False])
def test_demucs_separates_on_cuda_when_available(monkeypatch, demucs_devices, cuda):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    rng = np.random.default_rng(0)
    y = (0.1 * rng.standard_normal((2, 44100 * 3))).astype(np.float32)
    chunks = []
    out = demucs_separator.separate(y, sr=44100, bag=tiny_bag(),
                                    on_chunk=lambda d, t: chunks.append((d, t)))
    assert demucs_devices and demucs_devices[0].type == ("cuda" if cuda else "cpu")
    assert set(out) == {"drums", "bass", "other", "vocals"}
    # per-segment progress: 3 s at a 1.5 s stride is 2 segments, for each of 2 models
    assert chunks == [(i, 4) for i in range(1, 5)]


def test_a_long_cpu_separation_says_how_long_first(monkeypatch, demucs_devices):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(demucs_separator, "LONG_CPU_SEPARATION_S", 0.0)
    said = []
    y = (0.1 * np.random.default_rng(1).standard_normal((2, 44100))).astype(np.float32)
    demucs_separator.separate(y, sr=44100, bag=tiny_bag(), say=said.append)
    assert len(said) == 1 and "on the CPU" in said[0] and "min for this" in said[0]
    said.clear()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)   # a GPU: nothing to warn
    demucs_separator.separate(y, sr=44100, bag=tiny_bag(), say=said.append)
    assert said == []


def test_cpu_estimate_is_minutes_for_a_song():
    four_minutes = demucs_separator.cpu_estimate_s(240.0, threads=4)
    assert 60.0 < four_minutes < 3600.0
    assert demucs_separator.cpu_estimate_s(240.0, threads=2) == pytest.approx(2 * four_minutes)


@pytest.mark.parametrize("cuda", [True, False])
def test_beat_this_loads_on_cuda_when_available(monkeypatch, tmp_path, cuda):
    import beat_this.inference
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    made = []

    class Recording:
        def __init__(self, checkpoint_path, device, dbn):
            made.append(device)

        def __call__(self, y, sr):
            return np.array([0.5, 1.0]), np.array([0.5])
    monkeypatch.setattr(beat_this.inference, "Audio2Beats", Recording)
    monkeypatch.setattr(beat_this_runner, "_MODELS", {})
    beats, downbeats = beat_this_runner.track(np.zeros(22050), sr=22050,
                                              checkpoint=str(tmp_path / "x.ckpt"))
    assert made == ["cuda" if cuda else "cpu"]
    assert list(beats) == [0.5, 1.0] and list(downbeats) == [0.5]


def test_a_long_track_is_separated_in_blocks(monkeypatch, demucs_devices):
    """Blocks of 1 s with 0.5 s of context: three model runs of the bag, one
    output as long as the track, progress counted over every block."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(demucs_separator, "BLOCK_S", 1.0)
    monkeypatch.setattr(demucs_separator, "MARGIN_S", 0.5)
    y = (0.1 * np.random.default_rng(2).standard_normal((2, int(44100 * 2.5)))).astype(np.float32)
    chunks, blocks = [], []
    real_block = demucs_separator._separate_block
    monkeypatch.setattr(demucs_separator, "_separate_block",
                        lambda bag, block, *a: blocks.append(block.shape[1]) or real_block(bag, block, *a))
    out = demucs_separator.separate(y, sr=44100, bag=tiny_bag(),
                                    on_chunk=lambda d, t: chunks.append((d, t)))
    assert blocks == [12000, 16000, 8000]   # at the bag's 8 kHz: 1 s + context, clipped at the ends
    assert all(len(v) == int(22050 * 2.5) and np.all(np.isfinite(v)) for v in out.values())
    assert all(np.abs(v[-2000:]).max() > 0 for v in out.values())   # the last block is filled
    total = chunks[-1][1]
    assert chunks == [(i, total) for i in range(1, total + 1)]

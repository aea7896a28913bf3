"""The real loading path, on tiny models saved in the real on-disk layouts.

A folder laid out like the downloads (sdxl-turbo/ with unet/, text_encoder/,
text_encoder_2/, tokenizer/, tokenizer_2/; taesdxl/; sdxl-saes/; sae-labels/)
holds tiny models of the real classes: the loader cannot tell it from the
real thing except by size.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from engine_testkit import frame_with, image_of, sae_folder, write_upstream_sae
from torch import nn

import graph_runtime.engine.models as models
from graph_runtime.engine.engine import Engine
from graph_runtime.engine.errors import EngineError
from graph_runtime.engine.parts import move_module
from graph_runtime.engine.preview import WIDTH, preview_text_config, preview_unet_config, preview_vae_config
from graph_runtime.graph.frame import BLOCKS

N_FEATURES = 40


@pytest.fixture(autouse=True)
def no_hub_cache(monkeypatch):
    monkeypatch.setattr(models, "_hub_snapshot", lambda part: None)


def _byte_chars() -> list[str]:
    """GPT-2/CLIP byte-to-unicode table: the base alphabet of a CLIP vocab.json."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    rest = [b for b in range(256) if b not in keep]
    return [chr(b) for b in keep] + [chr(256 + i) for i in range(len(rest))]


def _write_tokenizer(folder):
    folder.mkdir(parents=True)
    chars = _byte_chars()
    vocab = {c: i for i, c in enumerate(chars)} | {c + "</w>": 256 + i for i, c in enumerate(chars)}
    vocab |= {"<|startoftext|>": 512, "<|endoftext|>": 513, "ca": 514, "cat</w>": 515}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\nc a\nca t</w>\n")
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "model_max_length": 77, "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "tokenizer_class": "CLIPTokenizer"}))


def write_tiny_download(root, sae_width=WIDTH):
    """Tiny models in the layout `hambajuba models download --dir root` produces."""
    from diffusers import AutoencoderTiny, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection
    torch.manual_seed(0)
    turbo = root / "sdxl-turbo"
    unet = UNet2DConditionModel(**preview_unet_config())
    unet.save_pretrained(turbo / "unet", variant="fp16")          # the fp16 file name, as on the hub
    config = preview_text_config()
    config.vocab_size, config.bos_token_id, config.eos_token_id, config.pad_token_id = 516, 512, 513, 513
    CLIPTextModel(config).save_pretrained(turbo / "text_encoder")
    CLIPTextModelWithProjection(config).save_pretrained(turbo / "text_encoder_2")
    _write_tokenizer(turbo / "tokenizer")
    _write_tokenizer(turbo / "tokenizer_2")
    AutoencoderTiny(**preview_vae_config()).save_pretrained(root / "taesdxl")
    saes = {b: write_upstream_sae(sae_folder(root / "sdxl-saes", b), d=sae_width, n=N_FEATURES, seed=i)
            for i, b in enumerate(BLOCKS)}
    labels = root / "sae-labels"
    labels.mkdir()
    (labels / "mid.0.json").write_text(json.dumps([{"id": 3, "label": "spatial: center",
                                                    "category": "spatial", "confidence": "high",
                                                    "meanActivation": 30.1}]))
    return unet, saes


@pytest.fixture(scope="module")
def download(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    unet, saes = write_tiny_download(root)
    return root, unet, saes


def test_status_sees_every_part_in_the_local_folder(download):
    root, _, _ = download
    found = models.status(root)
    assert all(s.present and s.where == "local folder" for s in found.values()), found


def test_real_loader_builds_a_working_engine(download):
    root, unet, saes = download
    engine = Engine.create("sdxl-turbo", device="cpu", models_dir=root, compile="none", warmup=False)
    assert engine.parts.kind == "sdxl-turbo" and not engine.is_preview
    assert engine.n_features == N_FEATURES
    assert torch.equal(engine.parts.unet.conv_in.weight, unet.conv_in.weight)
    assert engine.labels.describe("mid.0", 3) == "spatial: center"
    assert engine.labels.describe("mid.0", 4) == "feature 4"
    ids = np.full((len(BLOCKS), 4), -1)
    ids[1, 0] = 7
    image = image_of(engine, frame_with(ids, 30.0, prompt_a="a cat!"))
    assert image.shape == (512, 512, 4)
    torch.testing.assert_close(engine.steered["mid.0"].direction[0], saes["mid.0"]["decoder"][:, 7])
    assert engine.feature_mean("mid.0", 7) == pytest.approx(float(saes["mid.0"]["mean"][7]))
    engine.close()


def test_missing_weights_name_the_download_command(tmp_path):
    with pytest.raises(EngineError, match=r"models: .*sdxl-turbo.*taesdxl.*sdxl-saes.*hambajuba models "
                                          r"download"):
        Engine.create("sdxl-turbo", device="cpu", models_dir=tmp_path, compile="none", warmup=False)
    auto = Engine.create("auto", device="cpu", models_dir=tmp_path, compile="none", warmup=False)
    assert auto.is_preview and "untrained preview" in auto.description
    assert "hambajuba models download" in auto.note
    auto.close()


def test_corrupt_weights_name_the_part(tmp_path):
    write_tiny_download(tmp_path)
    (tmp_path / "sdxl-turbo" / "unet" / "diffusion_pytorch_model.fp16.safetensors").write_bytes(b"\0" * 99)
    with pytest.raises(EngineError, match=r"^UNet: cannot load"):
        models.load_sdxl_turbo(tmp_path, dtype=torch.float32)


def test_sae_width_must_match_the_unet(tmp_path):
    write_tiny_download(tmp_path, sae_width=WIDTH // 2)
    with pytest.raises(EngineError, match=r"SAE down.2.1: .*d_model=32 but the UNet block has 64"):
        models.load_sdxl_turbo(tmp_path, dtype=torch.float32)


def test_cuda_out_of_memory_at_load_names_the_part():
    class Huge(nn.Module):
        def _apply(self, fn, recurse=True):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 9.00 GiB")
    with pytest.raises(EngineError, match=r"^UNet: CUDA out of memory .*--model preview"):
        move_module(Huge(), torch.device("cpu"), torch.float32, "UNet")


def test_auto_on_a_cpu_with_sdxl_weights_warns_with_seconds_per_frame(download, caplog):
    root, _, _ = download
    with caplog.at_level("WARNING", logger="graph_runtime.engine.engine"):
        engine = Engine.create("auto", device="cpu", models_dir=root, compile="none", warmup=False)
    assert engine.parts.kind == "sdxl-turbo" and not engine.is_preview   # it still loads
    warned = [r.getMessage() for r in caplog.records if "per frame" in r.getMessage()]
    assert len(warned) == 1 and warned[0] == engine.note
    assert "--model preview" in engine.note
    seconds = float(engine.note.split("about ")[2].split(" s per frame")[0])
    assert seconds >= 1.0                                   # seconds, not milliseconds
    engine.close()


def test_explicit_sdxl_turbo_on_a_cpu_does_not_nag(download, caplog):
    root, _, _ = download
    with caplog.at_level("WARNING", logger="graph_runtime.engine.engine"):
        engine = Engine.create("sdxl-turbo", device="cpu", models_dir=root, compile="none",
                               warmup=False)
    assert engine.note == "" and not any("per frame" in r.getMessage() for r in caplog.records)
    engine.close()


def test_cpu_estimate_scales_with_size_and_threads():
    from graph_runtime.engine.engine import cpu_seconds_per_frame
    assert cpu_seconds_per_frame(1024, 4) == pytest.approx(4 * cpu_seconds_per_frame(512, 4))
    assert cpu_seconds_per_frame(512, 2) == pytest.approx(2 * cpu_seconds_per_frame(512, 4))


def _hub_cache_with_turbo(tmp_path, monkeypatch):
    """A hub cache holding an (empty) stabilityai/sdxl-turbo entry."""
    from huggingface_hub import constants
    hub = tmp_path / "hub"
    (hub / "models--stabilityai--sdxl-turbo" / "snapshots").mkdir(parents=True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub))
    return hub / "models--stabilityai--sdxl-turbo"


def test_unreadable_hub_cache_says_so(tmp_path, monkeypatch):
    """Root reads everything, so the permission is denied through os.access."""
    entry = _hub_cache_with_turbo(tmp_path, monkeypatch)
    real_access = models.os.access
    monkeypatch.setattr(models.os, "access",
                        lambda p, mode: False if str(p) == str(entry) else real_access(p, mode))
    found = models.locate(models.PARTS["sdxl-turbo"])
    assert not found.present
    assert found.missing == [f"the hub cache's {entry} exists but cannot be read (permissions)"]
    with pytest.raises(EngineError, match="exists but cannot be read"):
        models.require(tmp_path / "no-local-folder-here")


def test_hub_cache_entry_that_is_a_file_says_so(tmp_path, monkeypatch):
    entry = _hub_cache_with_turbo(tmp_path, monkeypatch)
    (entry / "snapshots").rmdir()
    (entry / "snapshots").write_text("not a folder")
    assert "exists but is not a folder" in models.locate(models.PARTS["sdxl-turbo"]).missing[0]


def test_absent_hub_cache_reads_as_not_downloaded(tmp_path, monkeypatch):
    from huggingface_hub import constants
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "nothing"))
    missing = models.locate(models.PARTS["sdxl-turbo"]).missing
    assert missing == ["stabilityai/sdxl-turbo (not in the hub cache)"]

"""The SAE loader reads sdxl-unbox checkpoints written in the upstream layout.

The fixtures (engine_testkit.write_upstream_sae, independent of the loader)
are one folder per block named unet.<block path>_k10_hidden5120_auxk256_bs4096_lr0.0001
(mid.0 with its files in final/, as in the sdxl-unbox repository),
config.json with the upstream keys, state_dict.pth as torch.save({"state_dict":
...}) of the upstream module's state (decoder stored column-major, stats
buffer included), and mean.pt. Upstream saved mean.pt from a CUDA device. No
GPU here, so the writer saves it on the CPU and then rewrites the storage
location recorded in the file to "cuda:0", as a GPU save records it:
loading it without map_location fails on this machine (checked
below), and the loader must still read it.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from engine_testkit import sae_folder as _folder
from engine_testkit import write_upstream_sae

from graph_runtime.engine.errors import EngineError
from graph_runtime.engine.models import PARTS, locate
from graph_runtime.engine.sae import load_sae, load_saes
from graph_runtime.graph.frame import BLOCKS

D, N = 8, 32   # tiny d_model and feature count (the writer's defaults)


@pytest.fixture
def sae_root(tmp_path):
    root = tmp_path / "sdxl-saes"
    written = {}
    for i, block in enumerate(BLOCKS):
        folder = _folder(root, block) / ("final" if block == "mid.0" else "")
        written[block] = write_upstream_sae(folder, seed=i)
    return root, written


def test_fixture_mean_is_really_cuda_tagged(sae_root):
    root, _ = sae_root
    with pytest.raises(RuntimeError, match="CUDA"):
        torch.load(_folder(root, "down.2.1") / "mean.pt", weights_only=True)


def test_loader_reads_the_upstream_layout(sae_root):
    root, written = sae_root
    saes = load_saes(root, width=D, keep_encoder=True)
    assert set(saes) == set(BLOCKS)
    for block, sae in saes.items():
        assert (sae.d_model, sae.n_features, sae.k) == (D, N, 4)
        assert torch.equal(sae.decoder, written[block]["decoder"])
        assert sae.decoder.is_contiguous()
        np.testing.assert_array_equal(sae.means, written[block]["mean"].numpy())
        assert sae.means.dtype == np.float32
    codes = saes["up.0.0"].encode(torch.randn(5, D))
    assert codes.shape == (5, N) and ((codes > 0).sum(dim=1) <= 4).all()
    assert load_saes(root)["mid.0"].encoder is None          # encoder kept only on request


def test_models_status_finds_saes_in_a_local_folder(sae_root, monkeypatch):
    import graph_runtime.engine.models as models
    monkeypatch.setattr(models, "_hub_snapshot", lambda part: None)
    root, _ = sae_root
    found = locate(PARTS["sdxl-saes"], root.parent)
    assert found.present and found.where == "local folder" and found.path == root


def test_wrong_width_is_a_clear_error(sae_root):
    root, _ = sae_root
    with pytest.raises(EngineError, match=r"SAE down.2.1: .*d_model=8 but the UNet block has 1280"):
        load_saes(root, width=1280)


def test_truncated_checkpoint_is_a_clear_error(sae_root):
    root, _ = sae_root
    path = _folder(root, "up.0.1") / "state_dict.pth"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(EngineError, match=r"SAE up.0.1: .*corrupt or truncated.*models download"):
        load_saes(root)


def test_garbage_and_pickled_code_are_refused(tmp_path):
    folder = tmp_path / "x"
    write_upstream_sae(folder)
    (folder / "mean.pt").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(EngineError, match="corrupt or truncated"):
        load_sae(folder, "mid.0")

    class Evil:
        def __reduce__(self):
            return (print, ("owned",))
    torch.save({"state_dict": {"decoder.weight": Evil()}}, folder / "state_dict.pth")
    with pytest.raises(EngineError, match="corrupt or truncated"):   # weights_only refuses it
        load_sae(folder, "mid.0")


def test_mismatched_shapes_and_configs_are_clear_errors(tmp_path):
    folder = tmp_path / "x"
    written = write_upstream_sae(folder)
    state = dict(written["state"], **{"decoder.weight": torch.randn(D, N - 1)})
    torch.save({"state_dict": state}, folder / "state_dict.pth")
    with pytest.raises(EngineError, match=r"'decoder.weight' has shape \(8, 31\)"):
        load_sae(folder, "mid.0")
    torch.save(state, folder / "state_dict.pth")                     # no "state_dict" key
    with pytest.raises(EngineError, match="no 'state_dict'"):
        load_sae(folder, "mid.0")
    (folder / "config.json").write_text('{"n_dirs_local": "5120", "d_model": 8, "k": 4}')
    with pytest.raises(EngineError, match="integer 'n_dirs_local'"):
        load_sae(folder, "mid.0")
    (folder / "config.json").write_text('{"n_dirs_local": 4000000000, "d_model": 8, "k": 4}')
    with pytest.raises(EngineError, match="out of range"):
        load_sae(folder, "mid.0")


def test_missing_block_names_the_download_command(tmp_path):
    with pytest.raises(EngineError, match=r"SAE down.2.1: .*hambajuba models download"):
        load_saes(tmp_path)


def test_nan_means_and_columns_are_repaired_and_counted(tmp_path):
    folder = tmp_path / "x"
    written = write_upstream_sae(folder)
    mean = written["mean"].clone()
    mean[[2, 5]] = float("nan")
    torch.save(mean, folder / "mean.pt")
    state = dict(written["state"])
    state["decoder.weight"] = state["decoder.weight"].clone()
    state["decoder.weight"][:, 7] = float("nan")
    torch.save({"state_dict": state}, folder / "state_dict.pth")
    sae = load_sae(folder, "mid.0")
    assert sae.repaired_means == 2 and np.isfinite(sae.means).all()
    assert sae.repaired_columns == 1 and torch.equal(sae.decoder[:, 7], torch.zeros(D))

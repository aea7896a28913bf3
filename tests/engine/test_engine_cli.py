"""`hambajuba models|features|bench engine` through argparse, as cli.py wires them."""
from __future__ import annotations

import argparse
import json

import pytest

import graph_runtime.engine.models as models
from hambajuba_nodes.cli import models as cli_engine


def run(capsys, *argv) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="hambajuba")
    sub = parser.add_subparsers(dest="command", required=True)
    cli_engine.add_models_parser(sub)
    cli_engine.add_features_parser(sub)
    bench = sub.add_parser("bench").add_subparsers(dest="bench_command", required=True)
    cli_engine.add_bench_engine_parser(bench)
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def no_hub_cache(monkeypatch):
    monkeypatch.setattr(models, "_hub_snapshot", lambda part: None)


def test_models_status_says_what_is_missing(capsys, tmp_path):
    code, out, _ = run(capsys, "models", "status", "--dir", str(tmp_path))
    assert code == 0 and "MISSING" in out and "hambajuba models download" in out
    code, out, _ = run(capsys, "models", "status", "--dir", str(tmp_path), "--json")
    status = json.loads(out)
    assert status["sdxl-turbo"]["repo"] == "stabilityai/sdxl-turbo" and not status["sdxl-turbo"]["present"]
    assert status["sae-labels"]["required"] is False


def test_models_download_asks_the_hub_for_each_part(capsys, tmp_path, monkeypatch):
    import huggingface_hub
    calls = []

    def fake_snapshot_download(repo_id, repo_type, allow_patterns, local_dir):
        calls.append((repo_id, repo_type, local_dir))
        if repo_id == "surokpro2/sdxl-saes":
            assert "unet.mid_block.attentions.0_k10_hidden5120_auxk256_bs4096_lr0.0001/mean.pt" in allow_patterns
            raise ConnectionError("no network")
        return local_dir
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    code, _, err = run(capsys, "models", "download", "--dir", str(tmp_path), "--part", "sdxl-saes")
    assert code == 1 and "download sdxl-saes" in err and "no network" in err and "Traceback" not in err
    assert calls == [("surokpro2/sdxl-saes", "model", str(tmp_path / "sdxl-saes"))]


def test_features_search_and_show_on_the_preview(capsys):
    code, out, _ = run(capsys, "features", "search", "amber", "--block", "mid.0", "--limit", "3")
    assert code == 0 and "untrained preview" in out and out.count("mid.0") == 3
    code, out, _ = run(capsys, "features", "show", "up.0.1", "12", "--nearest", "2", "--json")
    info = json.loads(out)
    assert code == 0 and info["preview"] and info["block"] == "up.0.1" and info["id"] == 12
    assert len(info["nearest"]) == 2 and info["mean_activation"] > 0
    code, out, _ = run(capsys, "features", "show", "up_blocks.0.attentions.1", "13")
    assert code == 0 and "up.0.1 feature 13" in out


def test_features_bad_input_is_one_line_and_exit_1(capsys):
    code, _, err = run(capsys, "features", "show", "down.9", "1")
    assert code == 1 and "unknown block 'down.9'" in err
    code, _, err = run(capsys, "features", "show", "mid.0", "5120")
    assert code == 1 and "out of range" in err
    code, _, err = run(capsys, "features", "search", "x", "--model", "sdxl-turbo")
    assert code == 1 and "hambajuba models download" in err


def test_bench_engine_reports_fps_for_the_preview(capsys):
    code, out, _ = run(capsys, "bench", "engine", "--model", "preview", "--frames", "2", "--warmup", "1",
                       "--device", "cpu", "--json")
    result = json.loads(out)
    assert code == 0 and result["fps"] > 0 and result["frames"] == 2
    assert result["steered_blocks"] == 4 and "untrained preview" in result["description"]
    assert result["p99_ms"] >= result["p50_ms"] > 0

"""scripts/gpu_check.sh --dry-run: the GPU check's every step, on this CPU, as the GPU machine runs them."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_dry_run_reports_every_step_as_one_json_line(tmp_path):
    out = subprocess.run(["bash", "scripts/gpu_check.sh", "--dry-run", "--out", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("{")
    report = json.loads(last)
    assert report["device"] == "cpu" and report["dry_run"] is True
    assert report["fps"] > 0 and report["p99_ms"] >= report["p50_ms"] > 0
    assert report["steering"]["zero_vs_steered_differ"] is True
    assert report["steering"]["identical_params_identical_frames"] is True
    assert report["analysis"]["demucs"]["stems"] == ["bass", "drums", "other", "vocals"]
    assert report["analysis"]["beat_this"]["device"] == "cpu"
    # the GPU tests were collected and reported (skipped on a CPU), none failed
    assert report["tests"]["results"] and report["tests"]["counts"]["failed"] == 0
    assert report["ok"] is True
    assert json.loads((tmp_path / "gpu-report.json").read_text()) == report

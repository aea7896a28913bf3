"""`analyze --live --json`, `bench live --json`, `audio devices`."""
import json
import subprocess
import sys

import numpy as np
import pytest
from live_helpers import drum_loop

from graph_runtime.analysis.store import synthetic
from hambajuba_nodes.cli.analyze import summary


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "hambajuba_nodes.cli", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def loop_file(tmp_path_factory):
    import soundfile as sf
    path = tmp_path_factory.mktemp("cli") / "loop.wav"
    sf.write(path, drum_loop(6.0, bpm=120.0), 44100)
    return str(path)


def test_analyze_live_json_has_the_offline_keys(loop_file):
    r = run_cli("analyze", loop_file, "--live", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == set(summary(synthetic(1.0)))          # the offline document's keys
    assert abs(doc["bpm"] - 120.0) < 2.4
    beats = np.array(doc["beats"])
    assert len(beats) >= 4 and np.all(np.diff(beats) > 0)
    assert "global/beat" in doc["channels"] and "drums_low/energy_smooth" in doc["channels"]


def test_analyze_live_bad_file_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "nope.wav"
    r = run_cli("analyze", str(bad), "--live", "--json")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "nope.wav" in r.stderr


def test_bench_live_json(loop_file):
    r = run_cli("bench", "live", loop_file, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    for key in ("block_p99_ms", "latency_ms", "block_p50_ms", "block_cpu_p99_ms"):
        assert doc[key] > 0
    assert doc["blocks"] == 600
    assert doc["latency_ms"] >= 20.0 * 0.99      # a frame's hop must fill before it is analysed


def test_bench_live_long_refuses_a_run_too_short_to_measure():
    r = run_cli("bench", "live", "--long", "0.5", timeout=120)
    assert r.returncode == 2 and "--long must be 1..600 minutes" in r.stderr


def test_audio_devices_answers_without_a_device():
    r = run_cli("audio", "devices", "--json", timeout=60)
    assert r.returncode in (0, 2)
    if r.returncode == 0:
        assert isinstance(json.loads(r.stdout), list)
    else:
        assert len(r.stderr.strip().splitlines()) == 1


def test_perform_monitor_out_needs_live_input():
    r = run_cli("perform", "--monitor-out", "headphones", "--monitor-gain", "-100", timeout=120)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert any("--monitor-out plays the live input: give --input too" in line for line in lines)
    assert any("--monitor-gain -100.0: use -48..12 dB" in line for line in lines)

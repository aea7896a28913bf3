"""The GPU check: every GPU-tier figure of the project from one short call, as one JSON report.

Run through scripts/gpu_check.sh (which installs the missing wheels first). Steps,
each in its own child process with its own time limit so one hang cannot eat
the device time of the rest:

  tests      pytest tests/engine -m gpu            (CUDA-graph replay vs eager, ...)
  bench      hambajuba bench engine --json         (fps, p50/p99 ms, compile s, peak memory)
  steering   strength 0 vs non-zero differ; identical FrameParams -> identical frames
  analysis   Demucs and Beat This! run on the analysis device, with tiny models

The report's last line on stdout is the same JSON, compact, starting with '{'.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv):
    p = argparse.ArgumentParser(prog="gpu_check")
    p.add_argument("--dry-run", action="store_true",
                   help="the same steps on the CPU with the preview model and a few frames")
    p.add_argument("--out", default="gpu-report.json", help="report file, or a folder for gpu-report.json")
    p.add_argument("--model", help="bench model (default: sdxl-turbo-random on a GPU, preview dry)")
    p.add_argument("--frames", type=int, help="bench frames (default: 300 on a GPU, 5 dry)")
    p.add_argument("--compile", help="bench compile mode (default: reduce-overhead on a GPU, none dry)")
    p.add_argument("--bench-timeout", type=float, default=330.0,
                   help="seconds for the compiled bench before it falls back to eager")
    # a child step (internal)
    p.add_argument("--step", choices=("steering", "analysis"), help=argparse.SUPPRESS)
    p.add_argument("--device", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ---- child steps -----------------------------------------------------------------------------

def step_steering(model: str, device: str) -> dict:
    """Steering on the real render path: strength changes the image, replays are exact."""
    import numpy as np

    from graph_runtime.engine.bench import steered_frame
    from graph_runtime.render.engines import create_engine
    engine = create_engine(model, device=device, compile="none", warmup=False)
    try:
        frame = steered_frame(engine)
        frame.strength[:] = 0.0
        plain = engine.render(frame).copy()
        frame.strength[:] = 40.0
        steered = engine.render(frame).copy()
        again = engine.render(frame).copy()
        return {"model": model, "device": str(engine.device),
                "zero_vs_steered_differ": bool(not np.array_equal(plain, steered)),
                "mean_abs_diff": float(np.abs(plain.astype(np.int16) - steered.astype(np.int16)).mean()),
                "identical_params_identical_frames": bool(np.array_equal(steered, again))}
    finally:
        engine.close()


def step_analysis() -> dict:
    """Demucs and Beat This! on the device the analysis picks (CUDA when present), tiny models."""
    from fractions import Fraction

    import numpy as np
    import torch
    from beat_this.model.beat_tracker import BeatThis
    from demucs.apply import BagOfModels
    from demucs.htdemucs import HTDemucs

    from graph_runtime.analysis import beat_this_runner, demucs_separator
    from graph_runtime.analysis.device import analysis_device
    device = analysis_device()
    torch.manual_seed(0)
    bag = BagOfModels([HTDemucs(sources=["drums", "bass", "other", "vocals"], channels=4, depth=2,
                                nfft=512, t_layers=1, t_heads=2, dconv_comp=2, segment=Fraction(2),
                                samplerate=8000).eval()], None)
    y = (0.1 * np.random.default_rng(0).standard_normal((2, 44100 * 2))).astype(np.float32)
    t = time.perf_counter()
    stems = demucs_separator.separate(y, sr=44100, bag=bag)
    demucs_s = time.perf_counter() - t
    tiny = BeatThis(transformer_dim=64, n_layers=1, head_dim=32, stem_dim=32)
    with tempfile.TemporaryDirectory() as d:
        ckpt = os.path.join(d, "beat_this-tiny.ckpt")
        torch.save({"hyper_parameters": {"transformer_dim": 64, "n_layers": 1, "head_dim": 32,
                                         "stem_dim": 32},
                    "state_dict": {f"model.{k}": v for k, v in tiny.state_dict().items()}}, ckpt)
        t = time.perf_counter()
        beats, downbeats = beat_this_runner.track(y.mean(0), sr=44100, checkpoint=ckpt)
        beat_s = time.perf_counter() - t
        model = beat_this_runner._MODELS[(ckpt, str(device))]
    return {"device": str(device),
            "demucs": {"stems": sorted(stems), "seconds": round(demucs_s, 3)},
            "beat_this": {"device": str(next(model.model.parameters()).device),
                          "beats": int(len(beats)), "downbeats": int(len(downbeats)),
                          "seconds": round(beat_s, 3)}}


# ---- the orchestrator ------------------------------------------------------------------------

def run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess | None:
    print(f"[gpu_check] $ {' '.join(cmd)}", file=sys.stderr, flush=True)
    try:
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"[gpu_check] timed out after {timeout:.0f} s", file=sys.stderr)
        return None


def last_json(out: subprocess.CompletedProcess | None) -> dict | None:
    """The JSON document a child printed (the whole stdout, or its last '{' line)."""
    if out is None or out.returncode != 0:
        if out is not None:
            sys.stderr.write(out.stderr[-3000:])
        return None
    try:
        return json.loads(out.stdout)
    except json.JSONDecodeError:
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        return json.loads(lines[-1]) if lines else None


def environment() -> dict:
    import torch
    env = {"python": platform.python_version(), "torch": torch.__version__,
           "cuda": torch.version.cuda, "device": "cuda" if torch.cuda.is_available() else "cpu"}
    if torch.cuda.is_available():
        env["card"] = torch.cuda.get_device_name(0)
        smi = run(["nvidia-smi", "--query-gpu=driver_version,memory.total", "--format=csv,noheader"], 30)
        env["driver"] = smi.stdout.strip() if smi and smi.returncode == 0 else None
    else:
        env["card"], env["driver"] = platform.processor() or platform.machine(), None
    return env


def run_tests(junit: Path) -> dict:
    out = run([sys.executable, "-m", "pytest", "tests/engine", "-m", "gpu", "-q", "-p", "no:cacheprovider",
               f"--junitxml={junit}"], timeout=240)
    results = {}
    if junit.is_file():
        for case in ET.parse(junit).getroot().iter("testcase"):
            kind = next((c.tag for c in case if c.tag in ("failure", "error", "skipped")), "passed")
            results[f"{case.get('classname')}::{case.get('name')}"] = kind
    counts = {k: sum(v == k for v in results.values()) for k in ("passed", "failed", "error", "skipped")}
    return {"exit": None if out is None else out.returncode, "counts": counts, "results": results}


def run_bench(model: str, frames: int, compile_mode: str, device: str, timeout: float) -> dict | None:
    cmd = [sys.executable, "-m", "hambajuba_nodes.cli", "bench", "engine", "--model", model,
           "--frames", str(frames), "--compile", compile_mode, "--device", device, "--json"]
    if device == "cpu":
        cmd += ["--threads", "1", "--warmup", "1"]
    return last_json(run(cmd, timeout))


def orchestrate(args) -> dict:
    t0 = time.perf_counter()
    env = environment()
    device = "cpu" if args.dry_run else env["device"]
    gpu = device == "cuda"
    model = args.model or ("sdxl-turbo-random" if gpu else "preview")
    frames = args.frames or (300 if gpu else 5)
    compile_mode = args.compile or ("reduce-overhead" if gpu else "none")
    report = {**env, "device": device, "dry_run": args.dry_run, "model": model}
    me = [sys.executable, str(Path(__file__).resolve())]
    steering_cmd = me + ["--step", "steering", "--model", model, "--device", device]
    analysis_cmd = me + ["--step", "analysis", "--device", device]
    early = {}
    if args.dry_run:
        # a dry run's figures mean nothing (the preview model on a CPU), so its steps run side
        # by side; on a GPU they run one at a time, each with the device to itself
        pool = ThreadPoolExecutor(max_workers=2)
        early = {"steering": pool.submit(run, steering_cmd, 240), "analysis": pool.submit(run, analysis_cmd, 240)}
        pool.shutdown(wait=False)
    with tempfile.TemporaryDirectory() as d:
        report["tests"] = run_tests(Path(d) / "junit.xml")
    bench = run_bench(model, frames, compile_mode, device, args.bench_timeout)
    if bench is None and compile_mode != "none":   # a compile that does not fit: measure eager
        report["compile_fallback"] = f"{compile_mode} did not finish in {args.bench_timeout:.0f} s"
        bench = run_bench(model, frames, "none", device, 180)
    report["bench"] = bench
    if bench:
        report.update(fps=round(bench["fps"], 2), p50_ms=round(bench["p50_ms"], 3),
                      p99_ms=round(bench["p99_ms"], 3), compile_s=round(bench["setup_s"], 1),
                      compile_mode=bench["compile_mode"], peak_mem_mb=round(bench["peak_mem_mb"], 1))
    for step, cmd in (("steering", steering_cmd), ("analysis", analysis_cmd)):
        report[step] = last_json(early[step].result() if step in early else run(cmd, 240))
    report["elapsed_s"] = round(time.perf_counter() - t0, 1)
    report["ok"] = ok(report)
    return report


def ok(report: dict) -> bool:
    tests = report["tests"]
    steering = report.get("steering") or {}
    return (tests["exit"] in (0, 5) and not tests["counts"]["failed"] and not tests["counts"]["error"]
            and report.get("fps") is not None and bool(steering.get("zero_vs_steered_differ"))
            and bool(steering.get("identical_params_identical_frames"))
            and report.get("analysis") is not None)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.step:
        if args.device == "cpu":   # a dry run: keep the analysis off any GPU the machine has
            os.environ["CUDA_VISIBLE_DEVICES"] = ""
        result = step_steering(args.model, args.device) if args.step == "steering" else step_analysis()
        print(json.dumps(result))
        return 0
    report = orchestrate(args)
    out = Path(args.out)
    if out.is_dir():
        out = out / "gpu-report.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"[gpu_check] report written to {out} (ok: {report['ok']})", file=sys.stderr)
    print(json.dumps(report, separators=(",", ":")))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

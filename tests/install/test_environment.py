"""The installed environment is one consistent set: a version bump breaks here, not at a performer's launch.

torchaudio is built against one torch release; a torchaudio from another release
installs without complaint (its metadata names no torch pin) and then fails to
load its native library on first use (seen: torchaudio 2.11.1 beside torch
2.11.0 -> `undefined symbol: torch_exception_get_what_without_backtrace`). Each
check runs in a fresh interpreter, as a user's first `hambajuba` would.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# basic-pitch is installed with --no-deps on purpose: only its ONNX model is read
# (its metadata asks for TensorFlow and pretty-midi and an older resampy)
KNOWN_METADATA = ("basic-pitch ",)


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)


def _release(version: str) -> str:
    """'2.11.0+cu130' -> '2.11.0' (the local build tag names the CUDA flavour, not the release)."""
    return version.split("+", 1)[0]


def test_torch_and_torchaudio_are_one_release():
    out = _python("import importlib.metadata as m; print(m.version('torch'), m.version('torchaudio'))")
    assert out.returncode == 0, out.stderr
    torch_v, audio_v = out.stdout.split()
    assert _release(torch_v) == _release(audio_v), (
        f"torch {torch_v} with torchaudio {audio_v}: install both from the lock "
        "(bash scripts/setup.sh), never one alone")


def test_torchaudio_native_library_loads():
    # importing torchaudio is lazy about its C++ library; load it the way its ops do
    code = ("import pathlib, torch, torchaudio\n"
            "lib = pathlib.Path(torchaudio.__file__).parent / 'lib'\n"
            "so = sorted(lib.glob('libtorchaudio*.so'))\n"
            "assert so, f'no libtorchaudio in {lib}'\n"
            "torch.ops.load_library(str(so[0]))\n"
            "import torchaudio.functional as F\n"
            "x = torch.randn(1, 800)\n"
            "y = F.lfilter(x, torch.tensor([1.0, -0.5]), torch.tensor([0.5, 0.0]))\n"
            "print(tuple(y.shape))\n")
    out = _python(code)
    assert out.returncode == 0, f"torchaudio's native library does not load:\n{out.stderr[-2000:]}"
    assert out.stdout.strip() == "(1, 800)"


def test_pip_check_is_clean():
    out = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True,
                         timeout=180)
    problems = [line for line in out.stdout.splitlines()
                if line.strip() and not line.startswith(KNOWN_METADATA)
                and not line.startswith("No broken requirements")]
    assert not problems, "pip check: " + "; ".join(problems)


def test_installed_packages_are_the_locked_ones():
    """Every distribution in the venv is pinned in a lock at that exact version."""
    pins = {}
    for lock in ("requirements-test.lock", "requirements.lock", "requirements-nodeps.lock"):
        for line in (ROOT / lock).read_text().splitlines():
            if "==" in line and not line.startswith((" ", "#")):
                name, version = line.split("==", 1)
                pins.setdefault(_norm(name), version.split()[0].rstrip("\\").strip())
    out = _python("import importlib.metadata as m, json\n"
                  "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))")
    installed = json.loads(out.stdout)
    # the venv's own tools and the project itself are not locked packages
    skip = {"pip", "hambajuba"}
    wrong = {n: v for n, v in installed.items()
             if _norm(n) not in skip and pins.get(_norm(n)) not in (v, _release(v))}
    if wrong:
        pytest.fail("installed but not as locked (run bash scripts/setup.sh): "
                    + ", ".join(f"{n}=={v} (lock: {pins.get(_norm(n))})" for n, v in sorted(wrong.items())))


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")

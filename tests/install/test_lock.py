"""The locks match pyproject.toml, and setup.sh refuses one that does not, before installing anything."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ("requirements.lock", "requirements-test.lock", "requirements-nodeps.lock")
sys.path.insert(0, str(ROOT / "scripts"))
import lock_hash  # noqa: E402


def test_every_lock_matches_pyproject():
    for lock in LOCKS:
        assert lock_hash.recorded(ROOT / lock) == lock_hash.fingerprint(), f"{lock} is stale"


def test_every_package_is_pinned_with_hashes():
    for lock in LOCKS:
        text = (ROOT / lock).read_text()
        pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", text, flags=re.M)
        blocks = [b for b in re.split(r"\n(?=[A-Za-z0-9])", text) if b[:1].isalnum()]
        assert pins and len(pins) == len(blocks), f"{lock}: a package without an exact pin"
        assert all("--hash=sha256:" in b for b in blocks), f"{lock}: a pin without a hash"
    assert re.search(r"^torch==2\.11\.0 ", (ROOT / "requirements.lock").read_text(), re.M)
    assert re.search(r"^torchaudio==2\.11\.0 ", (ROOT / "requirements.lock").read_text(), re.M)


def test_setup_refuses_a_stale_lock(tmp_path):
    for name in ("scripts", "pyproject.toml", *LOCKS):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"tqdm",', '"tqdm",\n  "rich",'))
    out = subprocess.run(["bash", "scripts/setup.sh"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode != 0
    assert "does not match pyproject.toml" in out.stderr and "scripts/lock.sh" in out.stderr
    assert not (tmp_path / ".venv").exists()       # refused before anything was installed

"""The fingerprint of pyproject.toml's dependency lists, recorded in each lock's header.

setup.sh compares it with the lock it is about to install, so a lock that no
longer matches pyproject.toml is refused before anything is installed. Only the
lists count (not comments, not file times): reordering is a change on purpose.

    python3 scripts/lock_hash.py                 print the fingerprint
    python3 scripts/lock_hash.py --check LOCK    exit 1 with one line if LOCK differs
"""
from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = "# pyproject-deps-sha256: "


def dependency_lists(pyproject: Path = ROOT / "pyproject.toml") -> dict:
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    project = data.get("project", {})
    return {
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "no-deps": data.get("tool", {}).get("hambajuba", {}).get("no-deps", []),
        "build": data.get("tool", {}).get("hambajuba", {}).get("build", []),
    }


def fingerprint(pyproject: Path = ROOT / "pyproject.toml") -> str:
    canon = json.dumps(dependency_lists(pyproject), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()


def recorded(lock: Path) -> str | None:
    with lock.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith(HEADER):
                return line[len(HEADER):].strip()
    return None


def main(argv: list[str]) -> int:
    if not argv:
        print(fingerprint())
        return 0
    if argv[0] == "--check" and len(argv) == 2:
        lock = Path(argv[1])
        if not lock.is_file():
            print(f"{lock}: lock file missing; run: bash scripts/lock.sh", file=sys.stderr)
            return 1
        if recorded(lock) != fingerprint():
            print(f"{lock} does not match pyproject.toml's dependency lists; "
                  "refresh it with: bash scripts/lock.sh", file=sys.stderr)
            return 1
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Child processes of the tests import what pytest imports: this checkout
first, then tests/support (the `pythonpath` of pyproject's pytest config)."""
from __future__ import annotations

import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def child_env(*paths, **env) -> dict[str, str]:
    """os.environ plus `env`, with PYTHONPATH = checkout, tests/support, `paths`, the old one."""
    old = os.environ.get("PYTHONPATH")
    parts = [str(ROOT), str(ROOT / "tests" / "support"), *map(str, paths)] + ([old] if old else [])
    return {**os.environ, **env, "PYTHONPATH": os.pathsep.join(parts)}

"""`hambajuba models download` and `hambajuba models status`.

download fetches only the files the engine reads (fp16 UNet and text
encoders, tokenizers, TAESDXL, the four SAE folders, the label files) with
huggingface_hub.snapshot_download: into the hub cache, or into
<dir>/<part>/ when a folder is given. It needs a network; the build machines
have none, so it is exercised only through `status`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .errors import EngineError
from .models import PARTS, PartStatus, missing_files, models_dir, status


def download(parts: list[str] | None = None, local_dir: str | Path | None = None,
             log: Callable[[str], None] = print) -> dict[str, PartStatus]:
    """Fetch the named parts (default all); returns the status afterwards."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise EngineError("download", "huggingface_hub is not installed (pip install huggingface_hub)") \
            from None
    root = models_dir(local_dir)
    for name in parts or list(PARTS):
        if name not in PARTS:
            raise EngineError("download", f"unknown part {name!r}; parts are {', '.join(PARTS)}")
        part = PARTS[name]
        target = root / name if root else None
        log(f"downloading {part.repo} ({part.repo_type}) -> {target or 'the hub cache'}")
        try:
            path = Path(snapshot_download(part.repo, repo_type=part.repo_type,
                                          allow_patterns=list(part.patterns),
                                          local_dir=str(target) if target else None))
        except Exception as e:  # network, auth, disk: one clear line per part
            raise EngineError(f"download {name}", f"{part.repo}: {type(e).__name__}: {e}") from None
        missing = missing_files(name, path)
        if missing and part.required:
            raise EngineError(f"download {name}", f"{part.repo} downloaded to {path} but lacks "
                              f"{', '.join(missing[:4])}")
        log(f"  {name}: {'complete' if not missing else 'incomplete: ' + ', '.join(missing[:4])}")
    return status(local_dir)


def format_status(found: dict[str, PartStatus]) -> str:
    lines = []
    for name, st in found.items():
        need = "required" if st.part.required else "optional"
        if st.present:
            lines.append(f"{name:11s} present   {st.where}: {st.path}")
        else:
            lines.append(f"{name:11s} MISSING   ({need}) {st.part.repo}: {', '.join(st.missing[:3])}")
    if any(st.part.required and not st.present for st in found.values()):
        lines.append("run `hambajuba models download` to fetch the missing parts "
                     "(until then the engine runs the untrained preview)")
    return "\n".join(lines)


def status_dict(found: dict[str, PartStatus]) -> dict:
    return {name: {"repo": st.part.repo, "required": st.part.required, "present": st.present,
                   "where": st.where, "path": str(st.path) if st.path else None,
                   "missing": st.missing} for name, st in found.items()}

"""Atomic file writes: a temp file in the same folder, fsync, rename.

A reader sees the old file or the new one, never half of either; a write that
fails (disk full, read-only folder, Ctrl-C) leaves the old file as it was and
no temp file behind. New files get the user's usual mode (mkstemp makes
0600), an existing file keeps its own.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from typing import BinaryIO, Iterator


def file_mode(path: str) -> int:
    """An existing file's permissions, else 0666 less the umask."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextmanager
def open_atomic(path: str | os.PathLike, mode: int | None = None) -> Iterator[BinaryIO]:
    """`with open_atomic(p) as f: f.write(...)`: p appears only when the block ends well.
    mode: the file's permissions (0o600 for a secret); default: file_mode(p)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".partial", dir=folder)
    try:
        os.fchmod(fd, file_mode(path) if mode is None else mode)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_atomic(path: str | os.PathLike, data: bytes | str, mode: int | None = None) -> None:
    """Write bytes, or text as UTF-8, atomically (mode: as open_atomic)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open_atomic(path, mode) as f:
        f.write(data)

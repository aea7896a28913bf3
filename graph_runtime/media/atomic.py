"""Atomic file writes: a temp file in the same folder, fsync, rename.

A reader sees the old file or the new one, never half of either; a write that
fails (disk full, read-only folder, Ctrl-C) leaves the old file as it was and
no temp file behind. New files get the user's usual mode (mkstemp makes
0600), an existing file keeps its own.

Writers that fill a file or a folder over minutes (a video, a folder of
frames) build it with `temp_beside` and put it in place with `place`.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from typing import BinaryIO, Iterator


def usual_mode(directory: bool = False) -> int:
    """The mode a new file (0666) or folder (0777) gets from the user's umask."""
    umask = os.umask(0o022)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


def file_mode(path: str) -> int:
    """An existing file's permissions, else usual_mode()."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return usual_mode()


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


def temp_beside(path: str, *, suffix: str = ".partial", directory: bool = False) -> str:
    """A new empty hidden file (or folder) beside `path`, `.<name>.XXXX<suffix>`, with
    the user's usual mode (mkstemp/mkdtemp make it private); the caller fills it,
    then `place`s it or removes it."""
    folder = os.path.dirname(os.path.abspath(path))
    prefix = f".{os.path.basename(path)}."
    if directory:
        tmp = tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=folder)
    else:
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
        os.close(fd)
    os.chmod(tmp, usual_mode(directory))
    return tmp


def place(tmp: str, path: str) -> None:
    """Rename the finished `tmp` onto `path`, then fsync the folder so the rename
    itself survives a power cut. The caller has fsynced the file's contents."""
    os.replace(tmp, path)
    fsync_dir(os.path.dirname(path))


def fsync_dir(folder: str) -> None:
    """fsync a folder (its entries); a folder that cannot be opened is left alone."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

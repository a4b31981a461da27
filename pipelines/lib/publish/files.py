"""File-system helpers for atomic publishes: a per-target lock, fsync and temp cleanup."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

fcntl: ModuleType | None
try:  # POSIX only; elsewhere publishers are not serialized (documented).
    import fcntl as _posix_fcntl

    fcntl = _posix_fcntl
except ImportError:  # pragma: no cover
    fcntl = None


@contextlib.contextmanager
def target_lock(target: Path) -> Iterator[None]:
    """Serialize publishers of one target: two write-then-swap runs would lose one's changes."""
    lock_path = target.with_name(f".{target.name}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def fsync_file(path: Path) -> None:
    """Flush a file's data before renaming it, so a crash cannot expose an empty file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Persist a rename (the directory entry) where the platform allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_quietly(*paths: Path) -> None:
    """Best-effort removal of temp files and folders (cleanup must not mask the real error)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()


def remove_stale_temp(folder: Path, pattern: str) -> list[Path]:
    """Delete what a killed publisher left in ``folder``: names fully matching ``pattern``.

    Call only while holding the target's lock: then no other publisher of the target is
    running, so every matching temp file belongs to a run that died.
    """
    name = re.compile(pattern)
    stale = [child for child in folder.iterdir() if name.fullmatch(child.name)]
    remove_quietly(*stale)
    return stale

"""Writing a file so that a reader (or a crash) sees the old version or the new, never half."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from pathlib import Path


def write(path: Path, text: str, mode: int) -> None:
    """Temp file in the same folder, fsync, chmod, rename, then fsync the folder.

    The temp file is private from creation (mkstemp makes it 0600), so a
    secret-adjacent file is never readable by others, even for a moment.
    """
    descriptor, temp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _sync_folder(path.parent)


def remove_leftovers(path: Path) -> None:
    """Delete temp files of `path` that a killed writer left behind.

    Only for callers that hold a lock against every other writer of `path`:
    a temp file of a write in progress looks the same.
    """
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; Windows has no directory fsync)."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

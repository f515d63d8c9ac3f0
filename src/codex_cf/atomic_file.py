"""Writing a file so that a reader (or a crash) sees the old version or the new, never half.

The one way codex-cf writes a file. The launch writes its cache through it, so
it imports only `os` (tempfile would bring shutil, random and more to every start;
pathlib costs a start ~3 ms), and takes a path as a string or a Path.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # as typing's, which mypy reads the same: Path for annotations only
if TYPE_CHECKING:
    from pathlib import Path

    FilePath = str | os.PathLike[str]

# What mkstemp asks for: created here and now, not through a link, no text-mode
# newline translation on Windows.
_CREATE = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def write(path: FilePath, text: str, mode: int, durable: bool = True) -> None:
    """Temp file in the same folder, fsync, chmod, rename, then fsync the folder.

    The temp file is private from creation (0600), so a secret-adjacent file is
    never readable by others, even for a moment. `durable=False` skips the
    fsyncs, for files that can be recomputed: a crash may then lose the new
    version, never leave half of it under the file's name.
    """
    descriptor, temp_name = _create_private(path)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        try:
            os.unlink(temp_name)
        except OSError:
            pass  # the error that stopped the write is the one to report
        raise
    if durable:
        _sync_folder(os.path.dirname(os.path.abspath(path)))


def _create_private(path: FilePath) -> tuple[int, str]:
    """A new temp file beside `path`, named `.NAME.RANDOM.tmp`, open for writing."""
    folder, name = os.path.split(os.fspath(path))
    for _ in range(100):
        temp_name = os.path.join(folder, f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(temp_name, _CREATE, 0o600), temp_name
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def remove_leftovers(path: Path) -> None:
    """Delete temp files of `path` that a killed writer left behind.

    Only for callers that hold a lock against every other writer of `path`:
    a temp file of a write in progress looks the same.
    """
    import glob

    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            leftover.unlink()
        except OSError:
            pass  # a leftover that stays is harmless, only untidy


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX; Windows has no directory fsync)."""
    if os.name == "nt":
        return
    try:
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError:
        pass  # the rename stands; only its surviving a crash is less sure

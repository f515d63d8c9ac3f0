"""Reading Codex's TOML files for editing, and writing them back safely.

Codex and the user write these files too, so a write never loses their
bytes: tomlkit round-trips what codex-cf does not change, a malformed file is
never overwritten, and a file that changed since it was read is left alone.
Writes are atomic (temp file in the same folder, fsync, rename), private
(0600 from creation), keep the previous version as `<file>.bak`, and hold a
lock against a concurrent codex-cf.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import tomlkit
from tomlkit.exceptions import ParseError
from tomlkit.toml_document import TOMLDocument

from codex_cf import atomic_file, paths
from codex_cf.errors import FileConflict, ProfileNotCurrent

_LOCK_WAIT_SECONDS = 10.0
FILE_MODE = 0o600


@dataclass
class LoadedFile:
    """A file as read: its exact text (None when absent) and its editable document."""

    path: Path
    text: str | None
    document: TOMLDocument

    @property
    def exists(self) -> bool:
        return self.text is not None

    def edited_text(self) -> str:
        return self.document.as_string()

    def changed(self) -> bool:
        return self.edited_text() != (self.text or "")


def load(path: Path, fix: str) -> LoadedFile:
    """Parse for editing; a malformed file is reported with line and column, never touched."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return LoadedFile(path, None, tomlkit.document())
    except OSError as exc:
        raise FileConflict(f"{path} cannot be read ({exc.strerror})", fix) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProfileNotCurrent(
            f"{path} is not UTF-8 text; codex-cf will not rewrite it", fix
        ) from None
    try:
        document = tomlkit.parse(text)
    except ParseError as exc:
        raise ProfileNotCurrent(
            f"{path} is not valid TOML (line {exc.line}, column {exc.col}); "
            "codex-cf will not rewrite it",
            f"correct line {exc.line} of {path}, then run the command again",
        ) from None
    return LoadedFile(path, text, document)


@contextlib.contextmanager
def write_lock(environ: dict[str, str] | None = None) -> Iterator[None]:
    """One codex-cf writes at a time (setup, token import, remove)."""
    lock_path = paths.cache_dir(environ) / "write.lock"
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = open(lock_path, "a+b")  # noqa: SIM115  (closed below, after the yield)
    except OSError as exc:
        raise FileConflict(
            f"cannot create the lock file {lock_path} ({exc.strerror})",
            f"make {lock_path.parent.parent} writable, or set XDG_CACHE_HOME elsewhere",
        ) from None
    with handle:
        _acquire(handle, lock_path)
        try:
            yield
        finally:
            _release(handle)


def _acquire(handle: IO[bytes], lock_path: Path) -> None:
    deadline = time.monotonic() + _LOCK_WAIT_SECONDS
    while True:
        try:
            _try_lock(handle)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise FileConflict(
                    f"another codex-cf is changing files (lock {lock_path} held for "
                    f"{_LOCK_WAIT_SECONDS:g} s)",
                    "wait for it to finish, then run the command again",
                ) from None
            time.sleep(0.05)


def _try_lock(handle: IO[bytes]) -> None:
    if os.name == "nt":
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _release(handle: IO[bytes]) -> None:
    if os.name == "nt":
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _current_bytes(path: Path) -> bytes | None:
    """The file's bytes as they are now (no newline translation: CRLF stays CRLF)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def save(loaded: LoadedFile, fix: str) -> Path | None:
    """Write the edited document; returns the backup's path (None for a new file).

    The caller holds `write_lock`. Refuses when the file changed on disk
    since `load`, so a concurrent edit by Codex or the user is never lost.
    """
    # A profile kept in a dotfiles repository is often a symlink: write its target.
    path = Path(os.path.realpath(loaded.path))
    try:
        unchanged = _current_bytes(path) == (
            None if loaded.text is None else loaded.text.encode("utf-8")
        )
    except OSError as exc:
        raise FileConflict(f"{path} cannot be read ({exc.strerror})", fix) from None
    if not unchanged:
        raise FileConflict(
            f"{path} changed on disk after codex-cf read it (Codex or an editor wrote it); "
            "nothing was written",
            fix,
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_file.remove_leftovers(path)
        backup = None
        if loaded.text is not None:
            backup = backup_path(path)
            atomic_file.write(backup, loaded.text, FILE_MODE)
        atomic_file.write(path, loaded.edited_text(), FILE_MODE)
    except OSError as exc:
        raise FileConflict(
            f"could not write {path} ({exc.strerror}); the previous version is intact",
            "check the folder's permissions and free space, then run the command again",
        ) from None
    return backup

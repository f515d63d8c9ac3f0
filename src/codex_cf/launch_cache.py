"""codex-cf's cache folder: every entry it holds, named here, and the write lock.

Small JSON documents keyed by file signatures. Everything here can be
recomputed, so a missing, stale or unreadable entry is a miss, never an error.
A warm launch reads these instead of running `codex --version` or parsing TOML,
so its cost does not grow with the size of Codex's files.

This module owns the folder: an entry not named below cannot be stored, and
`remove --all` removes exactly what is named here.
"""

from __future__ import annotations

import os
import time

from codex_cf import json_text, paths

TYPE_CHECKING = False  # as typing's, which mypy reads the same: names for annotations only
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any

# Entries shared by every profile (removed with `remove --all`).
CODEX_VERSIONS = "codex-versions"  # `codex --version` of each binary, by its signature
CODEX_STARTS = "codex-starts"  # npm's launcher resolved to the native binary it runs
KEYRING_BACKEND = "keyring-backend"  # the keyring backend resolved, for the fast path
SELF_TEST = "self-test"  # the Codex binaries that passed doctor's self-test
LAST_LAUNCHES = "last-launch"  # each profile's last tagged launch, for `doctor --live`
SHARED_ENTRIES = (CODEX_VERSIONS, CODEX_STARTS, KEYRING_BACKEND, SELF_TEST, LAST_LAUNCHES)

# One entry per profile: its checked facts (removed with `remove` for that profile).
_PROFILE_PREFIX = "profile-"

# Held while codex-cf edits Codex's files (codex_config.write_lock).
LOCK_FILE = "write.lock"

_FILE_MODE = 0o600

# A file changed less than this long ago may change again within the same
# timestamp tick; its signature is not trusted for caching (git's "racy" rule).
RACY_SECONDS = 2.0


def file_signature(path: str | os.PathLike[str]) -> list[int] | None:
    """What changes whenever the file's content, owner or mode changes."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode, st.st_uid]


def is_settled(signature: list[int] | None) -> bool:
    """True when a file's signature can be cached (not modified just now)."""
    if signature is None:
        return True
    newest_ns = max(signature[2], signature[3])
    return time.time_ns() - newest_ns > RACY_SECONDS * 1e9


def profile_entry(profile: str) -> str:
    """The entry holding a profile's checked facts."""
    return _PROFILE_PREFIX + profile


def cached_profiles(environ: Mapping[str, str] | None = None) -> list[str]:
    """The profiles that have an entry, whatever else is left of them."""
    found = paths.cache_dir(environ).glob(f"{_PROFILE_PREFIX}*.json")
    return sorted(p.name.removeprefix(_PROFILE_PREFIX).removesuffix(".json") for p in found)


def is_known(name: str) -> bool:
    return name in SHARED_ENTRIES or (name.startswith(_PROFILE_PREFIX) and name != _PROFILE_PREFIX)


def entry_file(name: str, environ: Mapping[str, str] | None = None) -> str:
    return os.path.join(paths.cache_folder(environ), f"{name}.json")


def entry_path(name: str, environ: Mapping[str, str] | None = None) -> Path:
    return paths.cache_dir(environ) / f"{name}.json"


def lock_path(environ: Mapping[str, str] | None = None) -> Path:
    return paths.cache_dir(environ) / LOCK_FILE


def load(name: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    try:
        with open(entry_file(name, environ), "rb") as handle:
            data = json_text.loads(handle.read().decode())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def store(name: str, data: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> None:
    """Write an entry atomically; a cache that cannot be written is skipped.

    Only entries named in this module: `remove --all` must find every one.
    """
    if not is_known(name):
        raise ValueError(f"cache entry {name!r} is not named in launch_cache")
    from codex_cf import atomic_file  # only to write: a warm launch's one write is its id

    folder = paths.cache_folder(environ)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        atomic_file.write(
            entry_file(name, environ), json_text.dumps(data), _FILE_MODE, durable=False
        )
    except OSError:
        pass


def discard(name: str, environ: Mapping[str, str] | None = None) -> bool:
    try:
        os.unlink(entry_file(name, environ))
    except FileNotFoundError:
        return False
    return True

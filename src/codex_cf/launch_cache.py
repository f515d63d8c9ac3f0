"""Small JSON documents in codex-cf's cache folder, keyed by file signatures.

Everything here can be recomputed, so a missing, stale or unreadable entry
is a miss, never an error. A warm launch reads these instead of running
`codex --version` or parsing TOML, so its cost does not grow with the size
of Codex's files.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codex_cf import paths

# A file changed less than this long ago may change again within the same
# timestamp tick; its signature is not trusted for caching (git's "racy" rule).
_RACY_SECONDS = 2.0


def file_signature(path: Path) -> list[int] | None:
    """What changes whenever the file's content, owner or mode changes."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode, st.st_uid]


def is_settled(signature: list[int] | None) -> bool:
    """True when a file's signature can be cached (not modified just now)."""
    if signature is None:
        return True
    newest_ns = max(signature[2], signature[3])
    return time.time_ns() - newest_ns > _RACY_SECONDS * 1e9


def entry_path(name: str, environ: Mapping[str, str] | None = None) -> Path:
    return paths.cache_dir(environ) / f"{name}.json"


def load(name: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    try:
        with entry_path(name, environ).open("rb") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def store(name: str, data: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> None:
    """Write an entry atomically; a cache that cannot be written is skipped."""
    path = entry_path(name, environ)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def discard(name: str, environ: Mapping[str, str] | None = None) -> bool:
    try:
        entry_path(name, environ).unlink()
    except FileNotFoundError:
        return False
    return True

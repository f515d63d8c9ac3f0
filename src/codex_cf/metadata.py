"""The names codex-cf's request tags use, and where the last launch's tag is kept.

AI Gateway groups its logs, analytics, spend limits and policies by the
`cf-aig-metadata` header: a JSON object of at most 5 flat keys, none starting
with `cf.` (reserved). The launch sets the header; `usage` groups by these
keys and `doctor --live` looks for the last launch's id, so each key is named
here once. Requests sent without a key (older launches, other clients, tags
turned off) group as UNTAGGED.

Standard library, json_text and launch_cache only: the launch path may import this. It
finds the project without running git: a stat per folder walked up.
"""

from __future__ import annotations

import os
import time

from codex_cf import json_text, launch_cache
from codex_cf.records import NamedTuple

TYPE_CHECKING = False  # as typing's, which mypy reads the same: names for annotations only
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

# The keys codex-cf sends: names only, never a path, a secret or a user name.
LAUNCH = "launch"  # an id unique to one launch, the same on each of its requests
PROJECT = "project"  # the git repository's top-level name, else the working directory's
PROFILE = "profile"  # the codex-cf profile, which names the gateway and the billing
HOST = "host"  # the machine's short name: laptop, server or CI runner
# Cloudflare keeps the first five keys of a request and ignores the rest.
MAX_KEYS = 5
RESERVED_PREFIX = "cf."  # Cloudflare's own keys (cf.user_id)
# Cloudflare documents no limit on a value; a folder name past this is cut.
MAX_VALUE_CHARS = 64
HOME_PROJECT = "~"  # the home folder itself: its name is the user's

UNTAGGED = "(untagged)"


class Launch(NamedTuple):
    launch_id: str
    started: str  # ISO 8601, UTC

    @classmethod
    def new(cls) -> Launch:
        """A fresh id: 64 random bits (the source secrets.token_hex reads, without
        loading secrets, hmac and random on every start)."""
        return cls(os.urandom(8).hex(), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def project_name(cwd: str | os.PathLike[str], home: str | os.PathLike[str] | None = None) -> str:
    """The name of the git repository's top-level folder around cwd, else cwd's name.

    A `.git` folder, or a `.git` file (a worktree or submodule), marks the top level,
    as for git. The walk stops below the home folder, so a home kept in git (dotfiles)
    does not swallow every project; the home folder itself is HOME_PROJECT. Both
    folders are absolute.
    """
    start = os.fspath(cwd)
    stop = os.fspath(home) if home is not None else None
    folder = start
    while folder != stop:
        if os.path.lexists(os.path.join(folder, ".git")):
            return _name_of(folder, stop)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return _name_of(start, stop)


def _name_of(folder: str, home: str | None) -> str:
    if folder == home:
        return HOME_PROJECT
    return (os.path.basename(folder) or folder or "/")[:MAX_VALUE_CHARS]


def host_name(environ: Mapping[str, str]) -> str:
    """The machine's name up to its first dot, without a DNS lookup."""
    uname = getattr(os, "uname", None)
    name = uname().nodename if uname is not None else environ.get("COMPUTERNAME", "")
    return name.split(".", 1)[0][:MAX_VALUE_CHARS]


def tags(
    launch: Launch,
    profile: str,
    cd: str | None,
    environ: Mapping[str, str],
) -> str:
    """The cf-aig-metadata value for one launch: compact JSON, ASCII only (escapes
    keep any folder name a valid header value), at most MAX_KEYS flat keys."""
    cwd = os.path.abspath(cd if cd is not None else os.getcwd())
    home = environ.get("HOME") or environ.get("USERPROFILE")
    values = {
        LAUNCH: launch.launch_id,
        PROJECT: project_name(cwd, os.path.abspath(home) if home else None),
        PROFILE: profile[:MAX_VALUE_CHARS],
        HOST: host_name(environ),
    }
    return json_text.dumps(values)


def remember_launch(profile: str, launch: Launch, environ: Mapping[str, str] | None = None) -> None:
    """Record the launch whose tag `doctor --live` looks for, per profile."""
    entries = launch_cache.load(launch_cache.LAST_LAUNCHES, environ)
    entries[profile] = {"launch": launch.launch_id, "started": launch.started}
    launch_cache.store(launch_cache.LAST_LAUNCHES, entries, environ)


def restore_launch(
    profile: str, previous: Launch | None, environ: Mapping[str, str] | None = None
) -> None:
    """Put back the record a launch that reached no gateway (the self-test's) replaced."""
    if previous is not None:
        remember_launch(profile, previous, environ)
        return
    entries = launch_cache.load(launch_cache.LAST_LAUNCHES, environ)
    if entries.pop(profile, None) is not None:
        launch_cache.store(launch_cache.LAST_LAUNCHES, entries, environ)


def last_launch(profile: str, environ: Mapping[str, str] | None = None) -> Launch | None:
    """The profile's most recent tagged launch, or None when none was recorded."""
    entry: Any = launch_cache.load(launch_cache.LAST_LAUNCHES, environ).get(profile)
    if not isinstance(entry, dict):
        return None
    launch_id, started = entry.get("launch"), entry.get("started")
    if isinstance(launch_id, str) and launch_id and isinstance(started, str) and started:
        return Launch(launch_id, started)
    return None
